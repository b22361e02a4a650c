"""Train AMD's deadline models (sip/amd.py ``DEADLINE_MODELS``) on the ``tune`` split only.

    .venv/bin/python bench/amd_train.py [--seeds 11 12 13] [--per-kind 8] [--deadlines 3 4 5 6]

For each deadline, every tune clip (people and machines) runs through the worker's
path with the rules alone; the clips the rules left undecided at the deadline, with
talk heard, give one row of the classifier's real-time features (sip/amd.py
``FEATURES``) and the truth. A logistic regression (L2, Newton's method, numpy) fits
P(machine); the printed dict is pasted into sip/amd.py. ``bench/amd_eval.py`` then
reports on the held-out split and seeds, which this never sees.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sip import amd_corpus
from sip.amd import FEATURES, AmdParams, Verdict


def rows(deadline_s: int, seeds: list[int], per_kind: int) -> tuple[np.ndarray, np.ndarray]:
    params = AmdParams(deadline_ms=deadline_s * 1000, deadline_model=False)
    xs, ys = [], []
    for seed in seeds:
        for clip in amd_corpus.build("tune", per_kind, seed=seed):
            if clip.label not in (Verdict.HUMAN, Verdict.MACHINE):
                continue
            det = amd_corpus.detect(clip, params)
            clf = det.classifier
            if clf.reason == "deadline":
                feats = clf.features()
                if feats[3] > 0:  # talk was heard
                    xs.append(feats)
                    ys.append(1.0 if clip.label is Verdict.MACHINE else 0.0)
    return np.array(xs), np.array(ys)


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0) -> np.ndarray:
    """Logistic regression weights (bias first) by Newton's method on raw features."""
    a = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(a.shape[1])
    reg = l2 * np.eye(a.shape[1])
    reg[0, 0] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(a @ w, -50, 50)))
        grad = a.T @ (p - y) + reg @ w
        hess = (a * (p * (1 - p))[:, None]).T @ a + reg
        w -= np.linalg.solve(hess, grad)
    return w


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13])
    ap.add_argument("--per-kind", type=int, default=8)
    ap.add_argument("--deadlines", type=int, nargs="+", default=[3, 4, 5, 6])
    args = ap.parse_args()
    models = {}
    for d in args.deadlines:
        x, y = rows(d, args.seeds, args.per_kind)
        if len(set(y)) < 2:
            print(f"# {d} s: {len(y)} undecided rows, one class only: no model")
            continue
        w = fit(x, y)
        p = 1.0 / (1.0 + np.exp(-(np.hstack([np.ones((len(x), 1)), x]) @ w)))
        right = np.mean((p > 0.5) == (y > 0.5))
        print(f"# {d} s: {len(y)} rows ({int(y.sum())} machines), train accuracy {right:.1%}")
        models[d] = tuple(round(float(v), 3) for v in w)
    print(f"# features: bias, {', '.join(FEATURES)}")
    print("DEADLINE_MODELS: dict[int, tuple[float, ...]] = {")
    for d, w in models.items():
        print(f"    {d}: {w},")
    print("}")


if __name__ == "__main__":
    main()
