"""Evaluate sip/amd.py on a labelled set of greetings generated with espeak-ng and sox.

    .venv/bin/python bench/amd_eval.py [--per-class 40] [--seed 7] [--deadline 3.0]

Prints the confusion table (rows: truth, columns: verdict) and accuracy. The audio
is classified offline from 20 ms frame levels, exactly as the worker's FramePort
feeds the classifier; tests/sip/test_media_sipp.py runs the same path over live RTP.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sip import amd_corpus
from sip.amd import AmdParams, Verdict, classify


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--per-class", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--deadline", type=float, default=3.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    params = AmdParams(deadline_ms=int(args.deadline * 1000))
    with tempfile.TemporaryDirectory(prefix="amd-eval-") as tmp:
        samples = amd_corpus.build(Path(tmp), per_class=args.per_class, seed=args.seed)
        table: Counter[tuple[str, str]] = Counter()
        by_noise: Counter[tuple[float, bool]] = Counter()
        for s in samples:
            verdict = classify(amd_corpus.frame_levels(s.path), params)
            table[(s.label.value, verdict.value)] += 1
            by_noise[(s.noise, verdict is s.label)] += 1
    cols = [v.value for v in Verdict]
    correct = sum(table[(v, v)] for v in ("human", "machine"))
    result = {
        "samples": len(samples),
        "deadline_s": args.deadline,
        "seed": args.seed,
        "confusion": {t: {c: table[(t, c)] for c in cols} for t in ("human", "machine")},
        "accuracy": round(correct / len(samples), 3),
        "accuracy_by_noise": {
            str(n): round(by_noise[(n, True)] / (by_noise[(n, True)] + by_noise[(n, False)]), 3)
            for n in sorted({n for n, _ in by_noise})
        },
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    corner = "truth / verdict"
    print(f"{corner:16}" + "".join(f"{c:>9}" for c in cols))
    for t in ("human", "machine"):
        print(f"{t:16}" + "".join(f"{table[(t, c)]:9d}" for c in cols))
    print(
        f"accuracy {result['accuracy']:.1%} over {len(samples)} samples, "
        f"deadline {args.deadline:g} s; by noise level {result['accuracy_by_noise']}"
    )


if __name__ == "__main__":
    main()
