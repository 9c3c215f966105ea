#!/usr/bin/env python3
"""Cross-check the golden vectors in ``vectors/`` against PyTorch.

Run from the repository root:

    python3 scripts/check_pytorch.py [--vectors vectors] [--tol 8]

Needs ``torch`` and the standard library only (exit code 3 and a hint when torch
is missing).  Nothing is written; a report goes to stdout.

What is compared
----------------
Every PyTorch setting ("check") is run on the cases of the schemes it applies
to, in float32 and float64, with ``reduction='none'``; the per-row loss and,
through autograd, the per-row gradient dL_row/dz are compared in ULPs of the
dtype with an exact reference:

* float64: the vectors' ``expected`` values (40 digits).  The vectors' logits
  are float64 numbers, so these are exact at the inputs PyTorch sees, except
  where targets reach PyTorch as a tensor (probability targets, BCE targets):
  those are rounded to float64, and the reference is the exact value at the
  rounded targets (the summary also compares with the vectors as they are).
* float32: the vectors are exact at the float64 logits, not at the float32
  logits PyTorch gets, and that difference alone can be many float32 ULPs.  The
  reference is the exact value at the float32 inputs PyTorch saw.

Exact values at other inputs come from a ``decimal`` evaluator (90 digits,
log1p-based log-sum-exp, cancellation-free gradients).  It is first checked
against the vectors at their own inputs (digits of agreement are printed; the
targets are rebuilt exactly from each scheme's parameters and checked too).

ULP distance = number of representable values of the dtype between the PyTorch
result and the reference rounded correctly (to nearest-even) to the dtype.
Absolute floors, printed with the raw figures beside them:

* gradient entry: if its absolute error is <= 4 ULPs of the row's gradient
  scale G = max(max_j |g_j|, max_j |c_j|, |sum_j c_j|) (softmax; c_j = w_j q_j)
  or max(max_j |g_j|, max_j w_j (pi_j t_j + |1 - t_j|)) (sigmoid), it counts
  as error / ulp(G).  G is the size of the terms the gradient is computed from
  (p_j sum c - c_j, resp. s_j (pi t + 1 - t) - pi t), so an entry far below G,
  e.g. p_label - 1 = -4e-5 for a confident correct row, is judged on G's scale.
* per-row loss: likewise with M = sum_k |c_k| (1 + |a_k|): c_k = w_k q_k and
  a_k = z_k - max z (softmax), c_k = w_k (pi_k t_k + |1 - t_k|) and a_k = z_k
  (sigmoid).  A float evaluation of log-sum-exp has an absolute error of a few
  ULPs of M (log(1 + 4e-5) is off by ~ulp(1)), so a loss far below M is judged
  on M's scale.

The raw ULPs show where PyTorch loses *relative* accuracy (tiny losses and
gradients of confident rows); the floored ones whether its formula is the
catalog's.  A mapping "PyTorch setting -> catalog scheme" is listed as
*verified* only if its floored float64 error is <= --tol ULPs (default 8) for
loss and gradient on every case run.  Control settings (known to be wrong) are
run too, to show that the tolerance discriminates.  Reductions ('mean', 'sum')
are compared in float64 with the vectors' ``mean_over_rows``,
``weighted_mean``, ``mean_over_elements`` and ``sum``; the report says which
one each equals.
"""

import argparse
import glob
import json
import math
import os
import struct
import sys
import time
import warnings
from decimal import Decimal, getcontext, localcontext
from fractions import Fraction

EXIT_NO_TORCH = 3
PREC = 90  # decimal digits of the re-evaluation
getcontext().prec = PREC

SOFTMAX = ["uniform", "others", "classy_vision", "ml_uniform", "ml_complement", "ml_prior"]
SIGMOID = ["bce_half", "bce_per_class", "bce_symmetric", "bce_asymmetric"]


# ------------------------------------------------------------------ floating point

FORMATS = {
    # name: (precision bits, min normal exponent, max exponent, struct code, int code)
    "float32": (24, -126, 127, "f", "I"),
    "float64": (53, -1022, 1023, "d", "Q"),
}


def round_to(x, fmt):
    """Correctly round a real (Fraction/Decimal/str/float) to format `fmt`
    (round half to even; gradual underflow; overflow to inf).  Returns a
    Python float holding the exact value."""
    p, emin, emax, _, _ = FORMATS[fmt]
    x = Fraction(x)
    if x == 0:
        return 0.0
    neg = x < 0
    a = -x if neg else x
    # e with 2^e <= a < 2^(e+1)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1
    elif Fraction(2) ** (e + 1) <= a:
        e += 1
    e = max(e, emin)
    quantum = Fraction(2) ** (e - p + 1)
    n = a / quantum
    m = n.numerator // n.denominator
    rem = n - m
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and m % 2 == 1):
        m += 1
    r = m * quantum
    if r >= Fraction(2) ** (emax + 1):
        v = math.inf
    else:
        v = float(r)  # exact: every float32/float64 value is a float64
    return -v if neg else v


def _key(x, fmt):
    """Order-preserving integer for a value of format `fmt` (+0 and -0 -> 0)."""
    _, _, _, fc, ic = FORMATS[fmt]
    bits = struct.unpack("<" + ic, struct.pack("<" + fc, x))[0]
    sign = 1 << (63 if fmt == "float64" else 31)
    return -(bits & (sign - 1)) if bits & sign else bits


def ulp_dist(a, b, fmt):
    if math.isnan(a) or math.isnan(b):
        return math.inf
    if a == b:
        return 0
    if math.isinf(a) or math.isinf(b):
        return math.inf
    return abs(_key(a, fmt) - _key(b, fmt))


def ulp_of(x, fmt):
    """Spacing of format `fmt` at |x| (the smallest subnormal for 0)."""
    p, emin, _, _, _ = FORMATS[fmt]
    x = abs(x)
    if x == 0 or math.isinf(x):
        return 2.0 ** (emin - p + 1)
    e = math.frexp(x)[1] - 1  # 2^e <= x < 2^(e+1)
    return 2.0 ** (max(e, emin) - p + 1)


# ------------------------------------------------------------------ reference (decimal)

def _log1p(x):
    if abs(x) < Decimal("1e-25"):
        # x - x^2/2 + x^3/3 - x^4/4: exact to 100 digits for |x| < 1e-25
        return x - x * x / 2 + x * x * x / 3 - x * x * x * x / 4
    return (1 + x).ln()


def ref_softmax(z, c):
    """Loss -sum c_k log softmax(z)_k and its gradient c_sum p_j - c_j,
    in the cancellation-free form; z, c: lists of Decimal."""
    with localcontext() as ctx:
        ctx.prec = PREC
        i = max(range(len(z)), key=lambda k: z[k])
        m = z[i]
        e = [(zk - m).exp() if k != i else Decimal(1) for k, zk in enumerate(z)]
        rest = sum((e[k] for k in range(len(z)) if k != i), Decimal(0))
        lse = _log1p(rest)
        total = 1 + rest
        loss = sum((ck * ((m - zk) + lse) for zk, ck in zip(z, c) if ck != 0), Decimal(0))
        csum = sum(c, Decimal(0))
        grad = []
        for j in range(len(z)):
            others_p = (total - e[j]) / total if j != i else rest / total
            grad.append(e[j] / total * (csum - c[j]) - c[j] * others_p)
        return +loss, [+g for g in grad]


def _softplus(x):
    return max(x, Decimal(0)) + _log1p((-abs(x)).exp())


def _sigmoid(x):
    if x >= 0:
        return 1 / (1 + (-x).exp())
    ex = x.exp()
    return ex / (1 + ex)


def ref_sigmoid(z, t, w, pi):
    """sum_k w_k [pi_k t_k softplus(-z_k) + (1 - t_k) softplus(z_k)] and
    g_j = w_j [(1 - t_j) s(z_j) - pi_j t_j s(-z_j)]."""
    with localcontext() as ctx:
        ctx.prec = PREC
        loss = Decimal(0)
        grad = []
        for zk, tk, wk, pk in zip(z, t, w, pi):
            a, b = pk * tk, 1 - tk
            term = Decimal(0)
            if a != 0:
                term += a * _softplus(-zk)
            if b != 0:
                term += b * _softplus(zk)
            loss += wk * term
            grad.append(wk * (b * _sigmoid(zk) - a * _sigmoid(-zk)))
        return +loss, [+g for g in grad]


def exact_targets(scheme, inp):
    """Catalog targets as exact Fractions (one list per row), from the
    scheme's parameters; None for schemes this script does not know."""
    n_cls = len(inp["labels"][0])
    F = Fraction
    eps = F(inp["eps"]) if "eps" in inp else None
    rows = []
    for y in inp["labels"]:
        n = sum(y)
        if scheme == "uniform":
            q = [(1 - eps) * v + eps / n_cls for v in y]
        elif scheme == "others":
            q = [1 - eps if v else eps / (n_cls - 1) for v in y]
        elif scheme == "classy_vision":
            q = [(v + eps / n_cls) / (1 + eps) for v in y]
        elif scheme == "ml_uniform":
            q = [(1 - eps) * F(v, n) + eps / n_cls for v in y]
        elif scheme == "ml_complement":
            q = ([F(v, n) for v in y] if n == n_cls else
                 [(1 - eps) * F(v, n) + eps * (1 - v) / (n_cls - n) for v in y])
        elif scheme == "ml_prior":
            u = [F(x) for x in inp["prior"]]
            q = [(1 - eps) * F(v, n) + eps * uk for v, uk in zip(y, u)]
        elif scheme in SIGMOID:
            tp, tn = {
                "bce_half": lambda: (1 - eps / 2, eps / 2),
                "bce_per_class": lambda: (1 - eps + eps / n_cls, eps / n_cls),
                "bce_symmetric": lambda: (1 - eps, eps),
                "bce_asymmetric": lambda: (1 - F(inp.get("alpha", "0")), F(inp.get("beta", "0"))),
            }[scheme]()
            q = [tp if v else tn for v in y]
        else:
            return None
        rows.append(q)
    return rows


def dec(x):
    """Exact Decimal of a float, Decimal of a decimal string, or a Fraction
    to PREC digits."""
    if isinstance(x, Fraction):
        with localcontext() as ctx:
            ctx.prec = PREC
            return Decimal(x.numerator) / Decimal(x.denominator)
    return Decimal(x) if isinstance(x, (float, int)) else Decimal(str(x))


# ------------------------------------------------------------------ torch runs

def _grad_rows(torch, z, loss_rows):
    loss_rows.sum().backward()
    return loss_rows.detach().tolist(), z.grad.tolist()


def run_ce(torch, logits, dtype, target, weight, ls):
    """CrossEntropyLoss(weight, label_smoothing=ls, reduction='none') and its
    per-row gradient; target: list of class indices or list of prob rows.
    Returns (loss rows, grad rows, logits as seen, probability targets as
    seen or None, {'mean': ..., 'sum': ...})."""
    z = torch.tensor(logits, dtype=dtype, requires_grad=True)
    if isinstance(target[0], list):
        tg = torch.tensor(target, dtype=dtype)
    else:
        tg = torch.tensor(target, dtype=torch.long)
    wt = None if weight is None else torch.tensor(weight, dtype=dtype)
    crit = torch.nn.CrossEntropyLoss(weight=wt, label_smoothing=ls, reduction="none")
    loss, grad = _grad_rows(torch, z, crit(z, tg))
    with torch.no_grad():
        red = {r: torch.nn.CrossEntropyLoss(weight=wt, label_smoothing=ls, reduction=r)(z, tg).item()
               for r in ("mean", "sum")}
    seen = tg.tolist() if tg.dtype == dtype else None
    return loss, grad, z.detach().tolist(), seen, red


def run_bce(torch, logits, dtype, targets, weight, pos_weight):
    z = torch.tensor(logits, dtype=dtype, requires_grad=True)
    t = torch.tensor(targets, dtype=dtype)
    wt = None if weight is None else torch.tensor(weight, dtype=dtype)
    pw = None if pos_weight is None else torch.tensor(pos_weight, dtype=dtype)
    crit = torch.nn.BCEWithLogitsLoss(weight=wt, pos_weight=pw, reduction="none")
    loss, grad = _grad_rows(torch, z, crit(z, t).sum(dim=1))
    with torch.no_grad():
        red = {r: torch.nn.BCEWithLogitsLoss(weight=wt, pos_weight=pw, reduction=r)(z, t).item()
               for r in ("mean", "sum")}
    return loss, grad, z.detach().tolist(), t.tolist(), red


# ------------------------------------------------------------------ comparison

def compare(fmt, got_loss, got_grad, ref_loss, ref_grad, loss_scales, grad_scales):
    """Worst per-row errors in ULPs of `fmt`.  Reference values are exact
    (Decimal); scales are the rows' term scales for the absolute floors."""
    out = {"loss": 0.0, "loss_raw": 0.0, "grad": 0.0, "grad_raw": 0.0,
           "loss_floored": 0, "grad_floored": 0}

    def one(got, exact, scale, kind):
        raw = ulp_dist(got, round_to(exact, fmt), fmt)
        err = raw
        if raw > 0 and not math.isinf(raw):
            u = Fraction(ulp_of(round_to(Fraction(scale), fmt), fmt))
            diff = abs(Fraction(got) - Fraction(exact))
            if diff <= 4 * u and float(diff / u) < raw:
                err = float(diff / u)
                out[kind + "_floored"] += 1
        out[kind] = max(out[kind], err)
        out[kind + "_raw"] = max(out[kind + "_raw"], raw)

    for r in range(len(got_loss)):
        one(got_loss[r], ref_loss[r], loss_scales[r], "loss")
        gmax = max(abs(Fraction(x)) for x in ref_grad[r])
        gscale = max(gmax, Fraction(grad_scales[r]))
        for g, exact in zip(got_grad[r], ref_grad[r]):
            one(g, exact, gscale, "grad")
    return out


def fmt_ulps(x):
    if math.isinf(x):
        return "inf"
    if x >= 1e6:
        return "%.1e" % x
    if x == int(x):
        return "%d" % x
    return "%.2f" % x


def cell(res, what):
    s = fmt_ulps(res[what])
    if res[what + "_raw"] != res[what]:
        s += " (raw %s)" % fmt_ulps(res[what + "_raw"])
    return s


# ------------------------------------------------------------------ reference

def reference(family, z_rows, q_rows, w, pi):
    """Per-row exact loss and gradient (Decimal) at the given inputs, and the
    rows' term scales for the loss and gradient floors (floats)."""
    losses, grads, lscales, gscales = [], [], [], []
    for zrow, qrow in zip(z_rows, q_rows):
        zd = [dec(x) for x in zrow]
        q = [dec(x) for x in qrow]
        wd = [dec(x) for x in w] if w is not None else [Decimal(1)] * len(zd)
        zf = [float(x) for x in zrow]
        if family == "softmax":
            c = [a * b for a, b in zip(wd, q)]
            loss, grad = ref_softmax(zd, c)
            m = max(zf)
            lscales.append(sum(abs(float(ck)) * (1 + abs(zk - m)) for zk, ck in zip(zf, c)))
            gscales.append(max(abs(float(sum(c))), max(abs(float(ck)) for ck in c)))
        else:
            pd = [dec(x) for x in pi] if pi is not None else [Decimal(1)] * len(zd)
            loss, grad = ref_sigmoid(zd, q, wd, pd)
            coef = [abs(float(wk)) * (abs(float(pk * tk)) + abs(float(1 - tk)))
                    for tk, wk, pk in zip(q, wd, pd)]
            lscales.append(sum(ck * (1 + abs(zk)) for ck, zk in zip(coef, zf)))
            gscales.append(max(coef))
        losses.append(loss)
        grads.append(grad)
    return losses, grads, lscales, gscales


def self_check(cases_by_scheme):
    """(digits of the vectors' targets against the exact targets, digits of
    the decimal evaluator against the vectors' loss/grad), both at the
    float64 inputs; relative, with an absolute floor of 1e-60 x row scale."""
    worst_t, worst_v = math.inf, math.inf

    def digits(a, b, scale):
        with localcontext() as ctx:
            ctx.prec = PREC
            d = abs(a - b)
            if d == 0:
                return math.inf
            return float(-(d / max(abs(b), scale * Decimal("1e-60"))).log10())

    for scheme, cases in cases_by_scheme.items():
        if scheme not in SOFTMAX + SIGMOID:
            continue
        fam = "softmax" if scheme in SOFTMAX else "sigmoid"
        for case in cases:
            inp, exp = case["input"], case["expected"]
            q = exact_targets(scheme, inp)
            qd = [[dec(x) for x in row] for row in q]
            ls, gs, _, _ = reference(fam, inp["logits"], q, inp.get("class_weights"),
                                     inp.get("pos_weight"))
            for r, row in enumerate(exp["rows"]):
                for a, b in zip(qd[r], row["targets"]):
                    worst_t = min(worst_t, digits(Decimal(b), a, Decimal(1)))
                pairs = [(ls[r], Decimal(row["loss"]))] + list(zip(gs[r], map(Decimal, row["grad"])))
                scale = max(abs(b) for _, b in pairs) or Decimal(1)
                for a, b in pairs:
                    worst_v = min(worst_v, digits(a, b, scale))
    return worst_t, worst_v


# ------------------------------------------------------------------ checks

CONTROL = "control: "


def ce_label(args, weighted, targets=""):
    a = list(args) + (["weight=w"] if weighted else [])
    return "CrossEntropyLoss(%s)%s" % (", ".join(a), targets)


def checks_for(scheme, inp):
    """[(label, kind, label_smoothing)] for the PyTorch settings tried on a case.
    kind: 'index' (class-index targets), 'prob_yn' (probability targets y/n,
    PyTorch smooths them), 'prob_yn_rows' (same, one call per row with its
    own label_smoothing), 'prob_q' (probability targets = catalog targets),
    'bce'.  label_smoothing is a float, a list per row, or ('out of range', e2)."""
    n_cls = len(inp["logits"][0])
    cw = inp.get("class_weights") is not None
    if scheme in SIGMOID:
        a = (["weight=w"] if cw else []) + (["pos_weight=pi"] if inp.get("pos_weight") else [])
        return [("BCEWithLogitsLoss(%s), targets t" % ", ".join(a), "bce", None)]
    counts = [sum(r) for r in inp["labels"]]
    eps = Fraction(inp["eps"])
    out = []

    def ls_value(e2):
        return float(e2) if 0 <= e2 <= 1 else ("out of range", e2)

    if all(c == 1 for c in counts):
        if scheme == "uniform":
            out.append((ce_label(["label_smoothing=eps"], cw), "index", ls_value(eps)))
        elif scheme == "classy_vision":
            out.append((ce_label(["label_smoothing=eps/(1+eps)"], cw), "index",
                        ls_value(eps / (1 + eps))))
        elif scheme == "others":
            out.append((ce_label(["label_smoothing=eps*N/(N-1)"], cw), "index",
                        ls_value(eps * n_cls / (n_cls - 1))))
        if scheme in ("classy_vision", "others"):
            # control: the naive setting must NOT verify (eps = 0 aside)
            out.append((CONTROL + ce_label(["label_smoothing=eps"], cw), "index", ls_value(eps)))
    if scheme == "ml_uniform":
        out.append((ce_label(["label_smoothing=eps"], cw, ", probability targets y/n"),
                    "prob_yn", ls_value(eps)))
    if scheme == "ml_complement":
        per_row = [ls_value(Fraction(0) if c == n_cls else eps * n_cls / (n_cls - c)) for c in counts]
        bad = [x for x in per_row if isinstance(x, tuple)]
        out.append((ce_label(["label_smoothing=eps*N/(N-n)"], cw,
                             ", probability targets y/n, one call per row"),
                    "prob_yn_rows", bad[0] if bad else per_row))
    if scheme == "ml_prior":
        # control: PyTorch smooths towards the uniform distribution, not the prior
        out.append((CONTROL + ce_label(["label_smoothing=eps"], cw, ", probability targets y/n"),
                    "prob_yn", ls_value(eps)))
    out.append((ce_label([], cw, ", probability targets q"), "prob_q", 0.0))
    return out


class Tally:
    def __init__(self):
        self.rows = {}        # (scheme, label) -> {"cases", fmt: worst, "not_expressible"}
        self.reductions = {}  # (label, reduction) -> {vectors key: worst ULPs}
        self.skipped = []

    def entry(self, scheme, label):
        return self.rows.setdefault((scheme, label), {"cases": 0, "not_expressible": []})

    def add(self, scheme, label, fmt, res):
        w = self.entry(scheme, label).setdefault(
            fmt, {"loss": 0.0, "loss_raw": 0.0, "grad": 0.0, "grad_raw": 0.0})
        for k in w:
            w[k] = max(w[k], res[k])

    def add_red(self, label, red, key, ulps):
        d = self.reductions.setdefault((label, red), {})
        d[key] = max(d.get(key, 0.0), ulps)


def run_check(torch, kind, ls, logits, labels, dtype, exact_q, cw, pw):
    """Run one PyTorch setting; returns (loss rows, grad rows, logits seen,
    targets seen or None, reductions or None)."""
    counts = [sum(r) for r in labels]
    if kind == "index":
        return run_ce(torch, logits, dtype, [r.index(1) for r in labels], cw, ls)
    if kind == "prob_q":
        tq = [[float(x) for x in row] for row in exact_q]
        return run_ce(torch, logits, dtype, tq, cw, 0.0)
    if kind == "prob_yn":
        yn = [[y / c for y in row] for row, c in zip(labels, counts)]
        loss, grad, z_seen, _, red = run_ce(torch, logits, dtype, yn, cw, ls)
        return loss, grad, z_seen, None, red   # exact catalog targets are the reference
    if kind == "prob_yn_rows":
        loss, grad, z_seen = [], [], []
        for r, row in enumerate(labels):
            l1, g1, z1, _, _ = run_ce(torch, [logits[r]], dtype, [[y / counts[r] for y in row]],
                                      cw, ls[r])
            loss += l1
            grad += g1
            z_seen += z1
        return loss, grad, z_seen, None, None
    tt = [[float(x) for x in row] for row in exact_q]
    return run_bce(torch, logits, dtype, tt, cw, pw)


def run_all(torch, vec_dir):
    tally = Tally()
    cases_by_scheme = {}
    for path in sorted(glob.glob(os.path.join(vec_dir, "*.json"))):
        with open(path) as f:
            data = json.load(f)
        if data.get("format") != "labelsmooth-vectors/1":
            print("skip %s: format %r" % (path, data.get("format")))
            continue
        cases_by_scheme[data["scheme"]] = data["cases"]

    dt, dv = self_check(cases_by_scheme)
    print("Reference self-check at the vectors' float64 inputs: vectors' targets = exact "
          "targets to %.1f digits;\ndecimal evaluator = vectors' loss and gradient to %.1f "
          "significant digits.\n" % (dt, dv))

    order = [s for s in SOFTMAX + SIGMOID if s in cases_by_scheme]
    tally.skipped = [s for s in sorted(cases_by_scheme) if s not in order]
    fmts = [("float32", torch.float32), ("float64", torch.float64)]

    for scheme in order:
        fam = "softmax" if scheme in SOFTMAX else "sigmoid"
        print("=" * 100)
        print("scheme %s (%d cases)" % (scheme, len(cases_by_scheme[scheme])))
        for case in cases_by_scheme[scheme]:
            inp, exp = case["input"], case["expected"]
            logits, labels = inp["logits"], inp["labels"]
            cw, pw = inp.get("class_weights"), inp.get("pos_weight")
            exact_q = exact_targets(scheme, inp)
            params = ", ".join("%s=%s" % (k, inp[k]) for k in ("eps", "alpha", "beta") if k in inp)
            extra = (" w=%s" % cw if cw else "") + (" pi=%s" % pw if pw else "")
            print("-- %s  [%s, N=%d, rows=%d, positives/row=%s]%s" % (
                case["name"], params, len(logits[0]), len(logits), [sum(r) for r in labels], extra))
            for label, kind, ls in checks_for(scheme, inp):
                if isinstance(ls, tuple):
                    # outside PyTorch's accepted range: show what PyTorch says
                    try:
                        torch.nn.CrossEntropyLoss(label_smoothing=float(ls[1]))(
                            torch.tensor(logits, dtype=torch.float64),
                            torch.softmax(torch.tensor(logits, dtype=torch.float64), 1))
                        msg = "accepted"
                    except Exception as ex:  # noqa: BLE001 - report whatever torch says
                        msg = "%s: %s" % (type(ex).__name__, str(ex).splitlines()[0])
                    print("   %s\n      no setting: needs label_smoothing = %s > 1 (%s)"
                          % (label, ls[1], msg))
                    tally.entry(scheme, label)["not_expressible"].append(case["name"])
                    continue
                tally.entry(scheme, label)["cases"] += 1
                parts = []
                for fmt, dtype in fmts:
                    loss, grad, z_seen, q_seen, red = run_check(
                        torch, kind, ls, logits, labels, dtype, exact_q, cw, pw)
                    # reference at the inputs PyTorch saw
                    q_ref = q_seen if q_seen is not None else exact_q
                    ref_l, ref_g, lsc, gsc = reference(fam, z_seen, q_ref, cw, pw)
                    note = ""
                    if fmt == "float64":
                        vec_l = [Decimal(r["loss"]) for r in exp["rows"]]
                        vec_g = [[Decimal(x) for x in r["grad"]] for r in exp["rows"]]
                        if q_seen is None:
                            ref_l, ref_g = vec_l, vec_g   # the vectors themselves
                        else:
                            v = compare(fmt, loss, grad, vec_l, vec_g, lsc, gsc)
                            tally.add(scheme, label, "float64_vec", v)
                            note = " {vs vectors' exact targets: loss %s grad %s}" % (
                                cell(v, "loss"), cell(v, "grad"))
                        if red is not None and not label.startswith(CONTROL):
                            for rname, key in (("mean", "mean_over_rows"), ("mean", "weighted_mean"),
                                               ("mean", "mean_over_elements"), ("sum", "sum")):
                                if key in exp:
                                    u = ulp_dist(red[rname], round_to(Decimal(exp[key]), fmt), fmt)
                                    tally.add_red(label, rname, key, u)
                    res = compare(fmt, loss, grad, ref_l, ref_g, lsc, gsc)
                    tally.add(scheme, label, fmt, res)
                    fl = ""
                    if res["loss_floored"] or res["grad_floored"]:
                        fl = " [floored: %d loss, %d grad]" % (res["loss_floored"], res["grad_floored"])
                    parts.append("%s: loss %s, grad %s%s%s" % (
                        fmt, cell(res, "loss"), cell(res, "grad"), fl, note))
                print("   %s\n      %s" % (label, "\n      ".join(parts)))
    return tally


def summarize(tally, tol):
    print("\n" + "=" * 100)
    print("SUMMARY: worst ULPs over all cases (after the floors; raw ULPs in parentheses "
          "where larger).\nReference: float32 = exact values at the float32 inputs PyTorch saw; "
          "float64 = the vectors' values,\nor, where PyTorch gets targets rounded to float64 "
          "(probability/BCE targets), exact values at those\ntargets; the last column compares "
          "the latter with the vectors (exact targets) directly.\n")
    print("| scheme | PyTorch setting | cases | f32 loss | f32 grad | f64 loss | f64 grad "
          "| f64 vs vectors as-is (loss / grad) |")
    print("|---|---|---|---|---|---|---|---|")
    verified, failed, controls = {}, [], []
    for (scheme, label), d in tally.rows.items():
        ne = d["not_expressible"]
        if d["cases"]:
            f32, f64 = d["float32"], d["float64"]
            vec = d.get("float64_vec")
            print("| %s | %s | %d%s | %s | %s | %s | %s | %s |" % (
                scheme, label.replace("|", "/"), d["cases"],
                " (+%d n/a)" % len(ne) if ne else "", cell(f32, "loss"), cell(f32, "grad"),
                cell(f64, "loss"), cell(f64, "grad"),
                "%s / %s" % (cell(vec, "loss"), cell(vec, "grad")) if vec else "(same)"))
            if label.startswith(CONTROL):
                controls.append((label[len(CONTROL):], scheme,
                                 f64["loss"] <= tol and f64["grad"] <= tol, f64))
            elif f64["loss"] <= tol and f64["grad"] <= tol:
                cond = " (not %s: label_smoothing > 1)" % ", ".join(ne) if ne else ""
                verified.setdefault(label, []).append(scheme + cond)
            else:
                failed.append((label, scheme))
        else:
            print("| %s | %s | 0 (%d n/a) | - | - | - | - | - |" % (scheme, label, len(ne)))
    for s in tally.skipped:
        print("| %s | (no PyTorch counterpart; not checked) | - | - | - | - | - | - |" % s)

    print("\nReductions, float64, worst ULPs against the vectors' reductions:\n")
    print("| PyTorch setting | reduction= | worst ULPs vs vectors |")
    print("|---|---|---|")
    red_verified = []
    for (label, red), d in sorted(tally.reductions.items()):
        parts = ", ".join("%s %s" % (k, fmt_ulps(v)) for k, v in sorted(d.items()))
        print("| %s | '%s' | %s |" % (label, red, parts))
        eq = sorted(k for k, v in d.items() if v <= tol)
        red_verified.append((label, red, eq))

    print("\nVERIFIED mappings (float64 worst <= %g ULPs for loss and gradient on every case run):"
          % tol)
    for label, schemes in verified.items():
        print("  %s  ->  %s" % (label, "; ".join(schemes)))
    print("\nVERIFIED reductions (float64 <= %g ULPs):" % tol)
    for label, red, eq in red_verified:
        print("  %s, reduction='%s'  ->  %s" % (label, red, " = ".join(eq) if eq else "none"))
    if controls:
        print("\nControls (wrong settings; must not verify, which shows the tolerance discriminates):")
        for label, scheme, ok, f64 in controls:
            print("  %s  -/->  %s: worst f64 loss %s ULPs, grad %s ULPs%s" % (
                label, scheme, fmt_ulps(f64["loss"]), fmt_ulps(f64["grad"]),
                "  ** UNEXPECTEDLY VERIFIED **" if ok else ""))
    if failed:
        print("\nNOT verified (float64 error above tolerance):")
        for label, scheme in failed:
            print("  %s  -/->  %s" % (label, scheme))
    else:
        print("\nEvery non-control setting tried verified.")
    return not failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vectors", default="vectors", help="directory of <scheme>.json files")
    ap.add_argument("--tol", type=float, default=8.0, help="float64 ULP tolerance for 'verified'")
    args = ap.parse_args()
    try:
        warnings.filterwarnings("ignore", message=".*NumPy.*")
        import torch
    except ImportError:
        print("PyTorch is not installed.  Install it with\n"
              "    pip install torch\n"
              "(any recent version; the CPU is enough) and run this script again.",
              file=sys.stderr)
        return EXIT_NO_TORCH
    if not os.path.isdir(args.vectors):
        print("no vectors directory %r (run from the repository root or pass --vectors)"
              % args.vectors, file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    t0 = time.time()
    print("labelsmooth vectors vs PyTorch %s (python %s), vectors: %s\n" % (
        torch.__version__, sys.version.split()[0], args.vectors))
    tally = run_all(torch, args.vectors)
    summarize(tally, args.tol)
    print("\nelapsed: %.1f s" % (time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
