"""Render the survey prompts outdial ships (dialer/survey_prompts/<lang>/<digest>.wav).

The seeds' six-question template (campaigns/surveys.py SEED_TEMPLATE) in Chinese and
English, at the IVR's default speech rate, 8 kHz mono 16-bit: the sample survey campaign
(`outdial demo`) then plays them on a machine without espeak-ng or sox. Needs both tools
where it runs (a developer's machine); re-run it when the template's words change (a test,
tests/dialer/test_ivr_prompts.py, fails until then).

    .venv/bin/python scripts/render_prompts.py
"""

from __future__ import annotations

from campaigns import surveys
from dialer import ivr

RATE = 175  # dialer/ivr.py IvrRunner's default speech rate


def main() -> None:
    wanted = set()
    for _pid, zh, en in surveys.prompts(surveys.SEED_TEMPLATE):
        for language, text in (("zh", zh), ("en", en)):
            out = ivr.shipped_prompt(text, language, RATE)
            wanted.add(out)
            if not out.exists():
                out.parent.mkdir(parents=True, exist_ok=True)
                ivr.synthesize(text, language, RATE, out)
                print(f"made {out}")
    for old in ivr.SHIPPED.glob("*/*.wav"):
        if old not in wanted:
            old.unlink()
            print(f"removed {old} (no template prompt has its words)")


if __name__ == "__main__":
    main()
