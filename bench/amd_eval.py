"""Evaluate AMD on the generated corpus (sip/amd_corpus.py): per class, per scenario.

    .venv/bin/python bench/amd_eval.py [--split heldout|tune] [--per-kind 12] [--seed 1]
                                       [--deadline 6.0] [--vad-mode 2] [--json] [--show-wrong]

Every clip goes through the worker's path: 20 ms PCM frames -> sip/amd_signal.py
(WebRTC VAD, Goertzel tone bank) -> sip/amd.py, fed in 100 ms batches. Prints the
verdicts per scenario, per-class accuracy, the share of live people called machines
(hung up on: an abandoned call under rule 19), the unknown share (sent to agents)
and the verdict time p95. Thresholds are chosen on ``--split tune``; report
``heldout``, whose phrases, beep pitches and most voices tuning never saw.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sip import amd_corpus
from sip.amd import AmdParams, Verdict


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--split", choices=["heldout", "tune"], default="heldout")
    ap.add_argument("--per-kind", type=int, default=12)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--deadline", type=float, default=6.0)
    ap.add_argument("--vad-mode", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--show-wrong", action="store_true")
    ap.add_argument("--param", action="append", default=[], help="AmdParams field=value")
    args = ap.parse_args()
    overrides = {k: type(getattr(AmdParams(), k))(v) for k, v in (a.split("=") for a in args.param)}
    params = AmdParams(deadline_ms=int(args.deadline * 1000), **overrides)
    t0 = time.perf_counter()
    clips = amd_corpus.build(args.split, args.per_kind, seed=args.seed)
    t1 = time.perf_counter()
    outcomes = [amd_corpus.run_clip(c, params, args.vad_mode) for c in clips]
    t2 = time.perf_counter()
    scores = amd_corpus.Scores.of(outcomes)
    audio_s = len(clips) * amd_corpus.CLIP_S
    if args.json:
        out = dataclasses.asdict(scores) | {"split": args.split, "seed": args.seed}
        print(json.dumps(out, indent=2))
        return
    cols = [v.value for v in Verdict]
    print(f"split {args.split}, seed {args.seed}, deadline {args.deadline:g} s, {len(clips)} clips")
    print(f"{'scenario':16}{'truth':>13}" + "".join(f"{c:>13}" for c in cols))
    for kind, row in scores.by_kind.items():
        truth = amd_corpus.label_of(kind).value
        print(f"{kind:16}{truth:>13}" + "".join(f"{row[c]:13d}" for c in cols))
    print(
        f"accuracy {scores.accuracy:.1%} (human {scores.human_accuracy:.1%}, "
        f"machine {scores.machine_accuracy:.1%}); live people called machines "
        f"{scores.false_machine_rate:.1%}; announcements found "
        f"{scores.announcement_accuracy:.1%}, people or machines called announcements "
        f"{scores.false_announcements}; unknown {scores.unknown_rate:.1%}; "
        f"verdict p95 {scores.p95_ms / 1000:.2f} s (live people {scores.human_p95_ms / 1000:.2f} s)"
    )
    print(
        f"build {t1 - t0:.1f} s; classify {t2 - t1:.2f} s for {audio_s:.0f} s of audio "
        f"({(t2 - t1) / audio_s * 1000:.2f} ms CPU per second of call)"
    )
    if args.show_wrong:
        for o in outcomes:
            if o.verdict is not o.label:
                print(f"  {o.clip}: {o.verdict.value} after {o.decided_ms} ms ({o.reason})")


if __name__ == "__main__":
    main()
