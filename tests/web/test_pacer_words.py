"""The pacer's notes in the user's language, numbers kept; unknown notes shown as written."""

from __future__ import annotations

from web import i18n, pacer_words


def test_known_notes_are_translated_with_their_numbers() -> None:
    zh, en = i18n.lang("zh_CN"), i18n.lang("en")
    note = "Progressive mode: 1.5 line(s) per ready agent."
    assert pacer_words.say(note, en) == note
    assert pacer_words.say(note, zh) == "渐进式外呼：每名示闲坐席 1.5 路。"
    cap = (
        "Abandon gauge too close to the 3% cap (4 of 120 live answers, 0.35 more expected "
        "from calls in flight): falling back to progressive."
    )
    said = pacer_words.say(cap, zh)
    assert "3%" in said and "120" in said and "0.35" in said and "Abandon" not in said


def test_an_unknown_note_is_never_hidden() -> None:
    assert pacer_words.say("Something new.", i18n.lang("zh_CN")) == "Something new."
