#!/usr/bin/env python3
"""Independent high-precision (mpmath) golden data for the `labelsmooth` crate.

Run from the repository root:

    python3 scripts/gen_mpmath_golden.py

It overwrites ``tests/data/mpmath_golden.json``.  The output is deterministic
(``random.Random(20261128)``; only mpmath and the standard library are used).

Precision and exactness
-----------------------
* All arithmetic is done with mpmath at ``mp.dps = 100``; results are written
  with 45 significant digits.
* Logits are Python floats; ``mpf(x)`` is their exact binary64 value.  They are
  written to JSON as JSON numbers (shortest round-trip repr).
* ``eps``, ``alpha``, ``beta`` and ``prior`` entries are decimal strings and
  are taken as exact rationals (``fractions.Fraction("0.1")``).  Targets are
  computed exactly as Fractions and only converted to mpf at the end.
* ``class_weights`` / ``pos_weight`` are JSON numbers (short decimals such as
  2.0 or 0.5); their exact binary value ``Fraction(float)`` is used.

Formulas (one row: logits z in R^N, labels y in {0,1}^N, n = sum(y))
--------------------------------------------------------------------
Softmax family, p = softmax(z), targets q_k:
  uniform        (n = 1)        q = (1-eps) y + eps/N
  others         (n = 1, N>=2)  q = 1-eps on the label, eps/(N-1) elsewhere
  classy_vision  (n = 1)        q = (y + eps/N) / (1 + eps)
  ml_uniform     (n >= 1)       q = (1-eps) y/n + eps/N
  ml_complement  (n >= 1)       q = (1-eps) y/n + eps (1-y)/(N-n);  q = y/n if n = N
  ml_prior       (n >= 1)       q = (1-eps) y/n + eps u_k    (sum u = 1)
  loss  L   = -sum_k w_k q_k log p_k,  with -log p_k = (m - z_k) + log sum_i exp(z_i - m),
              m = max z
  grad  g_j = p_j S - w_j q_j,  S = sum_k w_k q_k

Sigmoid family, s = sigmoid(z), t_k = t_pos if y_k = 1 else t_neg:
  bce_half        t_pos = 1 - eps/2,        t_neg = eps/2
  bce_per_class   t_pos = 1 - eps + eps/N,  t_neg = eps/N
  bce_symmetric   t_pos = 1 - eps,          t_neg = eps        (eps < 1/2)
  bce_asymmetric  t_pos = 1 - alpha,        t_neg = beta
  loss  L   = sum_k w_k [ pi_k t_k softplus(-z_k) + (1 - t_k) softplus(z_k) ]
              softplus(x) = max(x, 0) + log1p(exp(-|x|))
  grad  g_j = w_j [ s_j (pi_j t_j + 1 - t_j) - pi_j t_j ]
  (w = class_weights, pi = pos_weight, both default to 1)

ZLPR (zlpr; t as in bce_asymmetric; no weights):
  L   = log(1 + sum_k (1-t_k) e^{z_k}) + log(1 + sum_k t_k e^{-z_k})
  g_j = (1-t_j) e^{z_j} / (1 + sum_k (1-t_k) e^{z_k})
        - t_j e^{-z_j} / (1 + sum_k t_k e^{-z_k})
  (both logs are evaluated as log-sum-exp over {0} U {log(c_k) +- z_k : c_k > 0})

Output format
-------------
{"generator": "scripts/gen_mpmath_golden.py", "dps": 100, "digits": 45,
 "cases": [
  {"name": "<scheme>/<kind>/<i>",
   "input": {"scheme": ..., <params as decimal strings>, ["prior": [...]],
             ["class_weights": [...]], ["pos_weight": [...]],
             "logits": [[...], ...], "labels": [[0/1, ...], ...]},
   "expected": {"mean_over_rows": "<dec>",
                "rows": [{"targets": ["<dec>", ...], "loss": "<dec>",
                          "grad": ["<dec>", ...]}, ...]}}]}

<dec> is a decimal string in scientific notation with (up to) 45 significant
digits, e.g. "-1.235e+2", "3.3333...e-1", "1.0"; an exact zero is "0".
`mean_over_rows` is the arithmetic mean of the per-row losses.
Case kinds: random, adversarial, weighted, edge (edge = boundary parameters
such as eps = 0, eps = 1 or hard ZLPR).

Evaluation notes: log-sum-exp is kept as m + log1p(rest) (m = max) and the
gradients are evaluated in the algebraically equal, cancellation-free forms
    softmax  g_j = p_j sum_{k!=j} w_k q_k - w_j q_j sum_{i!=j} p_i
    sigmoid  g_j = w_j [ (1 - t_j) s_j - pi_j t_j sigmoid(-z_j) ]
so tiny values such as exp(-2e4) are correct to all printed digits instead of
collapsing to 0 (1 - s at z = 700 is below 100-digit resolution).

Self-checks (assertions): softmax targets sum to exactly 1 (Fractions);
softmax gradients sum to 0 (|sum| < 1e-80); the textbook gradient formulas
agree to 1e-95; every row is re-evaluated at 300 + 0.87 max|z| digits and must
agree to relative 1e-60; every gradient matches a central finite difference
of the loss (250 digits, step 1e-60, relative 1e-20, or absolute 1e-110 for
astronomically small components); losses agree with a naive evaluation
(log of softmax / log of sigmoid) on rows with |z| <= 100.
Runtime is about 1.5 minutes with pure-Python mpmath (mostly the
high-precision re-evaluation of rows with |z| = 1e4).
"""

import json
import os
import random
from fractions import Fraction

from mpmath import mp, mpf, exp, log, log1p, fsum, nstr, workdps

DPS = 100
DIGITS = 45
mp.dps = DPS

SOFTMAX_SCHEMES = ["uniform", "others", "classy_vision",
                   "ml_uniform", "ml_complement", "ml_prior"]
SINGLE_LABEL = {"uniform", "others", "classy_vision"}
SIGMOID_SCHEMES = ["bce_half", "bce_per_class", "bce_symmetric", "bce_asymmetric"]
ALL_SCHEMES = SOFTMAX_SCHEMES + SIGMOID_SCHEMES + ["zlpr"]

ADVERSARIAL = [0.0, 1e-8, -1e-8, 30.0, -30.0, 88.0, -88.0, 100.0, -100.0,
               700.0, -700.0, 1e4, -1e4]
WEIGHT_VALUES = [1.0, 2.0, 0.5, 3.0, 0.25, 1.5]

SOFTMAX_EPS = ["0", "0.1", "0.05", "0.2", "0.3", "0.5", "0.9"]
BCE_EPS = {"bce_half": ["0", "0.1", "0.05", "0.2", "0.5"],
           "bce_per_class": ["0", "0.1", "0.05", "0.2", "0.5"],
           "bce_symmetric": ["0", "0.1", "0.05", "0.2", "0.3", "0.45"]}
ALPHA_BETA = [("0", "0"), ("0.1", "0.02"), ("0.05", "0.05"), ("0.2", "0.1"),
              ("0", "0.1"), ("0.1", "0"), ("0.3", "0.3")]


# ---------------------------------------------------------------- helpers

def to_mpf(fr):
    """Exact rational -> mpf at the current working precision."""
    fr = Fraction(fr)
    return mpf(fr.numerator) / mpf(fr.denominator)


def fmt(x):
    if x == 0:
        return "0"
    return nstr(x, DIGITS, min_fixed=1, max_fixed=0)


def softplus(x):
    return max(x, 0) + log1p(exp(-abs(x)))


def sigmoid(x):
    if x >= 0:
        return 1 / (1 + exp(-x))
    e = exp(x)
    return e / (1 + e)


def lse_parts(xs):
    """log(sum exp(xs)) split as (m, r) with m = max(xs) and
    r = log1p(sum of exp(x - m) over the other terms) >= 0; keeping r separate
    preserves full relative accuracy when the maximum term dominates."""
    i = max(range(len(xs)), key=lambda k: xs[k])
    m = xs[i]
    return m, log1p(fsum(exp(x - m) for k, x in enumerate(xs) if k != i))


def logsumexp(xs):
    m, r = lse_parts(xs)
    return m + r


def dec_str(fr):
    """Exact decimal string of a Fraction whose denominator divides 10^k."""
    fr = Fraction(fr)
    for k in range(0, 30):
        if (fr * 10 ** k).denominator == 1:
            break
    else:
        raise ValueError(fr)
    num = fr.numerator * 10 ** k // fr.denominator
    sign = "-" if num < 0 else ""
    s = str(abs(num)).rjust(k + 1, "0")
    if k == 0:
        return sign + s
    out = sign + s[:-k] + "." + s[-k:]
    assert Fraction(out) == fr
    return out


# ---------------------------------------------------------------- targets

def params_of(inp):
    return {k: Fraction(inp[k]) for k in ("eps", "alpha", "beta") if k in inp}


def softmax_targets(inp, y):
    scheme = inp["scheme"]
    eps = Fraction(inp["eps"])
    N, n = len(y), sum(y)
    if scheme == "uniform":
        assert n == 1
        return [(1 - eps) * yk + eps / N for yk in y]
    if scheme == "others":
        assert n == 1 and N >= 2
        return [(1 - eps) if yk else eps / (N - 1) for yk in y]
    if scheme == "classy_vision":
        assert n == 1
        return [(yk + eps / N) / (1 + eps) for yk in y]
    assert n >= 1
    if scheme == "ml_uniform":
        return [(1 - eps) * Fraction(yk, n) + eps / N for yk in y]
    if scheme == "ml_complement":
        if n == N:
            return [Fraction(yk, n) for yk in y]
        return [(1 - eps) * Fraction(yk, n) + eps * (1 - yk) / (N - n) for yk in y]
    if scheme == "ml_prior":
        u = [Fraction(s) for s in inp["prior"]]
        assert len(u) == N and sum(u) == 1
        return [(1 - eps) * Fraction(yk, n) + eps * uk for yk, uk in zip(y, u)]
    raise ValueError(scheme)


def sigmoid_targets(inp, y):
    scheme = inp["scheme"]
    N = len(y)
    p = params_of(inp)
    if scheme == "bce_half":
        tp, tn = 1 - p["eps"] / 2, p["eps"] / 2
    elif scheme == "bce_per_class":
        tp, tn = 1 - p["eps"] + p["eps"] / N, p["eps"] / N
    elif scheme == "bce_symmetric":
        assert p["eps"] < Fraction(1, 2)
        tp, tn = 1 - p["eps"], p["eps"]
    elif scheme in ("bce_asymmetric", "zlpr"):
        assert p["alpha"] + p["beta"] < 1
        tp, tn = 1 - p["alpha"], p["beta"]
    else:
        raise ValueError(scheme)
    return [tp if yk else tn for yk in y]


def row_targets(inp, y):
    if inp["scheme"] in SOFTMAX_SCHEMES:
        return softmax_targets(inp, y)
    return sigmoid_targets(inp, y)


# ---------------------------------------------------------------- losses
# Row functions take floats (logits) / Fractions (targets, weights) and convert
# them at the current mpmath precision, so they can be re-run at other dps.

def softmax_row(z, q, w):
    z = [mpf(x) for x in z]
    N = len(z)
    m, r = lse_parts(z)                     # log sum_i exp(z_i - m) = r
    nlp = [(m - zk) + r for zk in z]        # -log p_k
    p = [exp(-v) for v in nlp]
    loss = fsum(to_mpf(wk * qk) * v for v, qk, wk in zip(nlp, q, w) if qk != 0)
    # g_j = p_j S - w_j q_j, evaluated without cancellation as
    #     p_j * sum_{k != j} w_k q_k  -  w_j q_j * sum_{i != j} p_i
    grad = []
    for j in range(N):
        s_other = to_mpf(sum(w[k] * q[k] for k in range(N) if k != j))
        p_other = fsum(p[i] for i in range(N) if i != j)
        grad.append(p[j] * s_other - to_mpf(w[j] * q[j]) * p_other)
    return loss, grad


def softmax_grad_direct(z, q, w):
    """Textbook g_j = p_j S - w_j q_j (used as a cross-check only)."""
    z = [mpf(x) for x in z]
    lse = logsumexp(z)
    S = to_mpf(sum(wk * qk for qk, wk in zip(q, w)))
    return [exp(zj - lse) * S - to_mpf(wj * qj) for zj, qj, wj in zip(z, q, w)]


def sigmoid_row(z, t, w, pi):
    z = [mpf(x) for x in z]
    loss = fsum(to_mpf(wk * pk * tk) * softplus(-zk) + to_mpf(wk * (1 - tk)) * softplus(zk)
                for zk, tk, wk, pk in zip(z, t, w, pi))
    # g_j = w_j [ s_j (pi_j t_j + 1 - t_j) - pi_j t_j ]
    #     = w_j [ (1 - t_j) s_j - pi_j t_j (1 - s_j) ],  1 - s_j = sigmoid(-z_j)
    # (second form has no cancellation when s_j is within 1e-100 of 0 or 1)
    grad = [to_mpf(wj * (1 - tj)) * sigmoid(zj) - to_mpf(wj * pj * tj) * sigmoid(-zj)
            for zj, tj, wj, pj in zip(z, t, w, pi)]
    return loss, grad


def sigmoid_grad_direct(z, t, w, pi):
    """Textbook form (cross-check only)."""
    z = [mpf(x) for x in z]
    return [sigmoid(zj) * to_mpf(wj * (pj * tj + 1 - tj)) - to_mpf(wj * pj * tj)
            for zj, tj, wj, pj in zip(z, t, w, pi)]


def zlpr_row(z, t):
    z = [mpf(x) for x in z]
    neg = [mpf(0)] + [log(to_mpf(1 - tk)) + zk for zk, tk in zip(z, t) if tk != 1]
    pos = [mpf(0)] + [log(to_mpf(tk)) - zk for zk, tk in zip(z, t) if tk != 0]
    lse_neg, lse_pos = logsumexp(neg), logsumexp(pos)
    loss = lse_neg + lse_pos
    grad = [to_mpf(1 - tj) * exp(zj - lse_neg) - to_mpf(tj) * exp(-zj - lse_pos)
            for zj, tj in zip(z, t)]
    return loss, grad


def row_loss_grad(inp, z, targets, row_weights):
    scheme = inp["scheme"]
    w, pi = row_weights
    if scheme in SOFTMAX_SCHEMES:
        return softmax_row(z, targets, w)
    if scheme in SIGMOID_SCHEMES:
        return sigmoid_row(z, targets, w, pi)
    return zlpr_row(z, targets)


# ---------------------------------------------------------------- checks

def naive_loss(inp, z, targets, row_weights):
    """Textbook formula, only used on rows with moderate logits."""
    w, pi = row_weights
    z = [mpf(x) for x in z]
    if inp["scheme"] in SOFTMAX_SCHEMES:
        Z = fsum(exp(zk) for zk in z)
        return -fsum(to_mpf(wk * qk) * log(exp(zk) / Z) for zk, qk, wk in zip(z, targets, w))
    if inp["scheme"] in SIGMOID_SCHEMES:
        s = [1 / (1 + exp(-zk)) for zk in z]
        return -fsum(to_mpf(wk) * (to_mpf(pk * tk) * log(sk) + to_mpf(1 - tk) * log(1 - sk))
                     for sk, tk, wk, pk in zip(s, targets, w, pi))
    return (log(1 + fsum(to_mpf(1 - tk) * exp(zk) for zk, tk in zip(z, targets)))
            + log(1 + fsum(to_mpf(tk) * exp(-zk) for zk, tk in zip(z, targets))))


def check_row(name, inp, z, targets, row_weights, loss, grad):
    if inp["scheme"] in SOFTMAX_SCHEMES:
        assert sum(targets) == 1, name
        assert abs(fsum(grad)) < mpf("1e-80"), name
    # naive formula on moderate rows (log(1-s) loses ~|z|/2.3 digits)
    if max(abs(x) for x in z) <= 100:
        with workdps(DPS + 50):
            alt = naive_loss(inp, z, targets, row_weights)
        assert abs(alt - loss) <= mpf("1e-60") * (1 + abs(loss)), (name, alt, loss)
    # textbook gradient forms agree (up to their cancellation error)
    w, pi = row_weights
    if inp["scheme"] in SOFTMAX_SCHEMES:
        direct = softmax_grad_direct(z, targets, w)
    elif inp["scheme"] in SIGMOID_SCHEMES:
        direct = sigmoid_grad_direct(z, targets, w, pi)
    else:
        direct = grad
    for a, b in zip(direct, grad):
        assert abs(a - b) <= mpf("1e-95"), (name, a, b)
    # the 100-digit results must be accurate to well over 45 digits: compare
    # with an evaluation at enough digits to resolve exp(-2 max|z|) next to 1
    # (2/ln 10 < 0.87), so any hidden cancellation would show up here
    with workdps(300 + int(0.87 * max(abs(x) for x in z))):
        loss_hi, grad_hi = row_loss_grad(inp, z, targets, row_weights)
    for a, b in zip([loss] + grad, [loss_hi] + grad_hi):
        assert (a == 0 and b == 0) or abs(a - b) <= mpf("1e-60") * abs(b), (name, a, b)
    # central finite differences at higher precision
    with workdps(250):
        h = mpf("1e-60")
        for j in range(len(z)):
            zp = [mpf(x) for x in z]
            zm = list(zp)
            zp[j] += h
            zm[j] -= h
            lp, _ = row_loss_grad(inp, zp, targets, row_weights)
            lm, _ = row_loss_grad(inp, zm, targets, row_weights)
            fd = (lp - lm) / (2 * h)
            err = abs(fd - grad[j])
            assert err <= mpf("1e-20") * abs(grad[j]) or err <= mpf("1e-110"), \
                (name, j, fd, grad[j])


# ---------------------------------------------------------------- evaluate

def evaluate(name, inp):
    logits, labels = inp["logits"], inp["labels"]
    B = len(logits)
    N = len(logits[0])
    assert B >= 1 and all(len(r) == N for r in logits) and all(len(r) == N for r in labels)
    assert all(isinstance(x, float) for r in logits for x in r)
    w = [Fraction(x) for x in inp.get("class_weights", [1.0] * N)]
    pi = [Fraction(x) for x in inp.get("pos_weight", [1.0] * N)]
    assert len(w) == N and len(pi) == N
    rows, losses = [], []
    for z, y in zip(logits, labels):
        targets = row_targets(inp, y)
        loss, grad = row_loss_grad(inp, z, targets, (w, pi))
        check_row(name, inp, z, targets, (w, pi), loss, grad)
        losses.append(loss)
        rows.append({"targets": [fmt(to_mpf(t)) for t in targets],
                     "loss": fmt(loss),
                     "grad": [fmt(g) for g in grad]})
    mean = fsum(losses) / B
    return {"mean_over_rows": fmt(mean), "rows": rows}


# ---------------------------------------------------------------- case generation

rng = random.Random(20261128)


def random_prior(N):
    """N positive multiples of 0.01 (as decimal strings) summing exactly to 1."""
    cuts = sorted(rng.sample(range(1, 100), N - 1))
    parts = [b - a for a, b in zip([0] + cuts, cuts + [100])]
    return [dec_str(Fraction(k, 100)) for k in parts]


def random_labels(scheme, N, force=None):
    """force: None, 'all' (n = N) or 'none' (all zero; sigmoid/zlpr only)."""
    if scheme in SINGLE_LABEL:
        y = [0] * N
        y[rng.randrange(N)] = 1
        return y
    if force == "all":
        return [1] * N
    if scheme in SOFTMAX_SCHEMES:
        n = rng.randint(1, N)
        pos = set(rng.sample(range(N), n))
        return [1 if k in pos else 0 for k in range(N)]
    if force == "none":
        return [0] * N
    return [rng.randint(0, 1) for _ in range(N)]


def random_params(scheme, N):
    if scheme in SOFTMAX_SCHEMES:
        p = {"eps": rng.choice(SOFTMAX_EPS)}
        if scheme == "ml_prior":
            p["prior"] = random_prior(N)
        return p
    if scheme in BCE_EPS:
        return {"eps": rng.choice(BCE_EPS[scheme])}
    a, b = rng.choice(ALPHA_BETA)
    return {"alpha": a, "beta": b}


def make_input(scheme, params, logits, labels, class_weights=None, pos_weight=None):
    inp = {"scheme": scheme}
    inp.update(params)
    if class_weights is not None:
        inp["class_weights"] = class_weights
    if pos_weight is not None:
        inp["pos_weight"] = pos_weight
    inp["logits"] = logits
    inp["labels"] = labels
    return inp


def label_rows(scheme, N, B, case_idx):
    rows = []
    for r in range(B):
        force = None
        if scheme == "ml_complement" and r == case_idx % B:
            force = "all"
        elif scheme not in SOFTMAX_SCHEMES:
            if r == case_idx % B:
                force = "none"
            elif r == (case_idx + 1) % B and case_idx % 2 == 1:
                force = "all"
        rows.append(random_labels(scheme, N, force))
    return rows


def gen_cases(scheme):
    cases = []

    def add(kind, i, inp):
        cases.append((f"{scheme}/{kind}/{i}", inp))

    # 1. random cases: B = 3, logits uniform in [-8, 8]
    Ns = [2, 3, 5, 8, rng.choice([2, 3, 5, 8]), rng.choice([2, 3, 5, 8])]
    for i, N in enumerate(Ns):
        B = 3
        logits = [[rng.uniform(-8, 8) for _ in range(N)] for _ in range(B)]
        labels = label_rows(scheme, N, B, i)
        add("random", i, make_input(scheme, random_params(scheme, N), logits, labels))

    # 2. adversarial cases
    adv_rows = []
    for N in (4, 6, 4, 6):
        adv_rows.append([[rng.choice(ADVERSARIAL) for _ in range(N)] for _ in range(3)])
    adv_rows.append([[1e4, -1e4, 0.0, 700.0], [-700.0, -700.0, -700.0, -700.0],
                     [30.0, 30.0, 30.0, 30.0]])
    adv_rows.append([[-1e4, -1e4, -1e4, -1e4], [1e-8, -1e-8, 0.0, 0.0],
                     [88.0, -88.0, 100.0, -100.0]])
    adv_rows.append([[1e4, -1e4], [-1e4, 1e4], [0.0, 0.0], [700.0, -700.0]])
    adv_rows.append([[1e4, 1e4, 1e4], [-100.0, 700.0, -1e4], [1e-8, 1e-8, 1e-8]])
    for i, logits in enumerate(adv_rows):
        N, B = len(logits[0]), len(logits)
        labels = label_rows(scheme, N, B, i)
        add("adversarial", i, make_input(scheme, random_params(scheme, N), logits, labels))

    # 3. weighted cases
    if scheme != "zlpr":
        variants = [("cw",)]
        if scheme in SIGMOID_SCHEMES:
            variants = [("cw",), ("pw",), ("cw", "pw")]
        j = 0
        for var in variants:
            for adversarial in (False, True):
                N = rng.choice([3, 5]) if not adversarial else 4
                B = 3
                if adversarial:
                    logits = [[rng.choice(ADVERSARIAL) for _ in range(N)] for _ in range(B)]
                else:
                    logits = [[rng.uniform(-8, 8) for _ in range(N)] for _ in range(B)]
                labels = label_rows(scheme, N, B, j)
                cw = [rng.choice(WEIGHT_VALUES) for _ in range(N)] if "cw" in var else None
                pw = [rng.choice(WEIGHT_VALUES) for _ in range(N)] if "pw" in var else None
                add("weighted", j, make_input(scheme, random_params(scheme, N),
                                              logits, labels, cw, pw))
                j += 1

    # 4. edge parameters
    N, B = 4, 3
    logits = [[rng.uniform(-8, 8) for _ in range(N)] for _ in range(B)]
    logits[2] = [0.0, 30.0, -30.0, 1e-8]
    labels = label_rows(scheme, N, B, 1)
    edges = []
    if scheme in SOFTMAX_SCHEMES:
        edges = [("eps0", {"eps": "0"}), ("eps1", {"eps": "1"})]
    elif scheme in ("bce_half", "bce_per_class"):
        # The catalog's range for these is 0 <= eps < 1.
        edges = [("eps0", {"eps": "0"}), ("eps0.999", {"eps": "0.999"})]
    elif scheme == "bce_symmetric":
        edges = [("eps0", {"eps": "0"}), ("eps0.49", {"eps": "0.49"})]
    else:
        edges = [("hard", {"alpha": "0", "beta": "0"}),
                 ("alpha_only", {"alpha": "0.25", "beta": "0"}),
                 ("beta_only", {"alpha": "0", "beta": "0.25"})]
    for tag, params in edges:
        if scheme == "ml_prior":
            params = dict(params, prior=["0.1", "0.2", "0.3", "0.4"])
        add("edge", tag, make_input(scheme, params, logits, labels))
    return cases


def main():
    cases = []
    for scheme in ALL_SCHEMES:
        for name, inp in gen_cases(scheme):
            cases.append({"name": name, "input": inp, "expected": evaluate(name, inp)})
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names))
    doc = {"generator": "scripts/gen_mpmath_golden.py", "dps": DPS, "digits": DIGITS,
           "cases": cases}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = os.path.join(root, "tests", "data", "mpmath_golden.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    # round-trip check of the logits
    with open(out) as f:
        back = json.load(f)
    for c, b in zip(cases, back["cases"]):
        assert c["input"]["logits"] == b["input"]["logits"]
    print(f"wrote {len(cases)} cases to {os.path.relpath(out)}")


if __name__ == "__main__":
    main()
