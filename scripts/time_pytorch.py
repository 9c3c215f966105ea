#!/usr/bin/env python3
"""Time PyTorch's CPU loss and gradient on the shapes of ``examples/throughput``.

Run from the repository root (needs ``torch``; not part of CI):

    python3 scripts/time_pytorch.py [--threads 2] [--reps 7]

Prints one JSON line per case, in the shape of ``examples/throughput``'s line, so the two can be
compared side by side on one machine:

* ``bce_symmetric``: ``binary_cross_entropy_with_logits`` on the smoothed targets (``1 - eps``
  for positives, ``eps`` for negatives: mmpretrain's), ``reduction='sum'`` divided by the rows
  (the fast path's ``mean_over_rows``);
* ``ml_uniform``: ``cross_entropy`` with probability targets ``(1 - eps) y / n + eps / N``
  (``reduction='mean'``, over rows).

Inputs drawn as ``examples/throughput`` draws them (another generator): logits uniform in
[-8, 8), 5 positives per row (N when N < 5), ``eps = 0.1``. The targets are materialised
once, outside the timing (in PyTorch's favour: a training loop builds them every batch).
"Forward" times the loss alone under ``torch.no_grad()``; "forward and backward" times the loss
and ``backward()`` into the logits' ``.grad``, reset to ``None`` before each run as
``optimizer.zero_grad()`` does by default (so PyTorch allocates it each time, where the fast
path writes into the caller's buffer). Each figure is the best of ``--reps`` timed runs of at
least 50 ms, in nanoseconds per logit, as in the example.
"""

import argparse
import json
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.exit("needs torch: pip install torch")

# 1x1 first: its figure is PyTorch's fixed cost per call (Python, dispatch, autograd).
SHAPES = [(1, 1), (256, 80), (4096, 80), (64, 100000)]
EPS = 0.1


def inputs(rows, classes, gen):
    logits = torch.rand(rows, classes, generator=gen, dtype=torch.float32) * 16 - 8
    positives = min(5, classes)
    # 5 distinct positives per row: the first 5 of a random permutation of each row.
    order = torch.rand(rows, classes, generator=gen).argsort(dim=1)[:, :positives]
    y = torch.zeros(rows, classes, dtype=torch.float32)
    y.scatter_(1, order, 1.0)
    return logits, y, positives


def loss_fn(scheme, classes, y, positives):
    if scheme == "bce_symmetric":
        t = y * (1 - 2 * EPS) + EPS
        rows = y.shape[0]
        return lambda z: F.binary_cross_entropy_with_logits(z, t, reduction="sum") / rows
    t = (1 - EPS) * y / positives + EPS / classes
    return lambda z: F.cross_entropy(z, t)


def best_ns(run, elements, reps):
    """Best of `reps` timed runs, each repeating `run` for at least 50 ms."""
    run()
    best = float("inf")
    for _ in range(reps):
        count, start = 0, time.perf_counter()
        while True:
            run()
            count += 1
            elapsed = time.perf_counter() - start
            if elapsed >= 0.05:
                break
        best = min(best, elapsed / count / elements * 1e9)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(42)
    for scheme in ["bce_symmetric", "ml_uniform"]:
        for rows, classes in SHAPES:
            logits, y, positives = inputs(rows, classes, gen)
            f = loss_fn(scheme, classes, y, positives)
            z = logits.clone().requires_grad_(True)

            def forward():
                with torch.no_grad():
                    f(logits)

            def forward_backward():
                z.grad = None
                f(z).backward()

            elements = rows * classes
            fwd = best_ns(forward, elements, args.reps)
            fwd_bwd = best_ns(forward_backward, elements, args.reps)
            print(
                json.dumps(
                    {
                        "tool": f"torch {torch.__version__}",
                        "scheme": scheme,
                        "precision": "f32",
                        "labels": "dense",
                        "B": rows,
                        "N": classes,
                        "threads": args.threads,
                        "forward_ns_per_element": round(fwd, 4),
                        "forward_backward_ns_per_element": round(fwd_bwd, 4),
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
