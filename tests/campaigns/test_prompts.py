"""Prompt WAV checks and storage (issue 7): each refusal names the fault and the fix."""

from __future__ import annotations

import math
import shutil
import struct
import subprocess
import wave
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from campaigns import prompts, store, survey_store, surveys
from campaigns.errors import PromptInvalid
from dialer.ivr import PromptCache
from outdial.errors import NotFound


def make_wav(
    path: Path,
    *,
    rate: int = 8000,
    channels: int = 1,
    width: int = 2,
    seconds: float = 1.0,
    silent: bool = False,
) -> Path:
    """A 440 Hz tone written with the stdlib ``wave`` module."""
    frames = bytearray()
    for i in range(int(rate * seconds)):
        v = 0.0 if silent else math.sin(2 * math.pi * 440 * i / rate)
        one = struct.pack("<h", int(v * 12000)) if width == 2 else bytes([128 + int(v * 100)])
        frames += one * channels
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return path


def refusal(data: bytes, rules: prompts.PromptRules = prompts.PromptRules()) -> PromptInvalid:
    with pytest.raises(PromptInvalid) as err:
        prompts.check_wav_bytes(data, rules)
    return err.value


def test_good_8k_and_16k_mono_16_bit_accepted(tmp_path: Path) -> None:
    info = prompts.check_wav(make_wav(tmp_path / "a.wav", seconds=1.5))
    assert (info.sample_rate, info.channels, info.sample_width) == (8000, 1, 2)
    assert info.frames == 12000 and info.seconds == pytest.approx(1.5)
    assert prompts.check_wav(make_wav(tmp_path / "b.wav", rate=16000)).sample_rate == 16000


@pytest.mark.parametrize(
    ("kwargs", "message", "problem"),
    [
        ({"rate": 44100}, "sample rate 44100 Hz: use 8000 Hz mono 16-bit PCM", "sample_rate"),
        ({"channels": 2}, "stereo: use mono", "channels"),
        ({"width": 1}, "8-bit PCM: use 16-bit PCM", "sample_width"),
        ({"seconds": 0.1}, "length 0.1 s is below 0.3 s", "length"),
        ({"seconds": 121.0}, "length 121.0 s is above 120 s", "length"),
        ({"silent": True}, "the audio is all silence", "silent"),
    ],
)
def test_each_fault_has_its_message(
    tmp_path: Path, kwargs: dict[str, object], message: str, problem: str
) -> None:
    path = make_wav(tmp_path / "x.wav", **kwargs)  # type: ignore[arg-type]
    err = refusal(path.read_bytes())
    assert str(err).startswith(message), str(err)
    assert err.fields["problem"] == problem and err.code == "prompt_invalid"


def test_not_riff_truncated_empty_and_no_audio(tmp_path: Path) -> None:
    good = make_wav(tmp_path / "g.wav").read_bytes()
    assert str(refusal(b"")) == "empty file: no bytes were uploaded"
    assert str(refusal(b"ID3\x03\x00" + b"\x00" * 100)) == "not a WAV file (RIFF header missing)"
    assert "RIFF type 'AVI '" in str(refusal(b"RIFF\x00\x00\x00\x00AVI " + b"\x00" * 40))
    cut = refusal(good[: len(good) // 2])
    assert str(cut).startswith("truncated data chunk (header says 16000 bytes")
    assert cut.fields["problem"] == "truncated"
    header_only = good[:44]
    assert "truncated data chunk" in str(refusal(header_only))
    empty_data = bytearray(header_only)
    struct.pack_into("<I", empty_data, 40, 0)
    assert str(refusal(bytes(empty_data))) == "empty data chunk: the file holds no audio"
    assert "no data chunk" in str(refusal(good[:36]))


def test_g711_and_float_are_named_from_the_fmt_chunk(tmp_path: Path) -> None:
    good = bytearray(make_wav(tmp_path / "g.wav").read_bytes())
    for tag, name in ((7, "µ-law (G.711) audio"), (6, "a-law (G.711) audio"), (0x55, "MP3")):
        struct.pack_into("<H", good, 20, tag)
        err = refusal(bytes(good))
        assert str(err).startswith(name) and "use 8000 Hz mono 16-bit PCM" in str(err)
        assert err.fields["format_tag"] == tag


def test_length_limits_are_configurable(tmp_path: Path) -> None:
    data = make_wav(tmp_path / "a.wav", seconds=2.0).read_bytes()
    assert "is above 1 s" in str(refusal(data, prompts.PromptRules(max_seconds=1.0)))
    only_16k = prompts.PromptRules(rates=(16000,))
    assert "sample rate 8000 Hz" in str(refusal(data, only_16k))


@pytest.mark.skipif(not shutil.which("espeak-ng") or not shutil.which("sox"), reason="no tts")
def test_realistic_espeak_prompt(tmp_path: Path) -> None:
    raw, out = tmp_path / "raw.wav", tmp_path / "out.wav"
    text = "Thank you for your time. Goodbye."
    subprocess.run(["espeak-ng", "-v", "en", "-w", str(raw), text], check=True, timeout=30)
    assert "sample rate 22050 Hz" in str(refusal(raw.read_bytes()))  # espeak-ng's own rate
    subprocess.run(
        ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(out)], check=True, timeout=30
    )
    assert 0.5 < prompts.check_wav(out).seconds < 10


def _survey_owner(lang: str = "zh") -> prompts.Owner:
    s = surveys.SEED_TEMPLATE
    ids = tuple(pid for pid, _zh, _en in surveys.prompts(s))
    return prompts.Owner("survey", s.name, s.name, lang, ids)


def test_survey_prompt_lands_where_the_ivr_looks(tmp_path: Path) -> None:
    owner = _survey_owner()
    question = next(pid for pid, _z, _e in surveys.prompts(surveys.SEED_TEMPLATE) if ":" in pid)
    stored = prompts.store(tmp_path, owner, question, make_wav(tmp_path / "q.wav"))
    cache = PromptCache(tmp_path / "prompts")
    assert cache.path(surveys.SEED_TEMPLATE, question, "zh") == Path(stored["path"])
    assert stored["lang"] == "zh" and stored["seconds"] == pytest.approx(1.0)
    with pytest.raises(PromptInvalid, match="has no prompt 'q:nope'; its prompts: intro"):
        prompts.store(tmp_path, owner, "q:nope", make_wav(tmp_path / "n.wav"))


def test_store_is_atomic_replace_list_and_remove(tmp_path: Path) -> None:
    owner = prompts.Owner("campaign", "7", "rv")
    first = prompts.store(tmp_path, owner, "safe_harbor", make_wav(tmp_path / "1.wav"))
    target = Path(first["path"])
    assert target == (tmp_path / "prompts" / "campaign.7" / "safe_harbor.wav").resolve()
    bad = make_wav(tmp_path / "bad.wav", rate=44100)
    with pytest.raises(PromptInvalid):
        prompts.store(tmp_path, owner, "safe_harbor", bad)
    assert prompts.check_wav(target).seconds == pytest.approx(1.0)  # the old one is intact
    prompts.store(tmp_path, owner, "safe_harbor", make_wav(tmp_path / "2.wav", seconds=2.0))
    assert prompts.check_wav(target).seconds == pytest.approx(2.0)
    assert sorted(p.name for p in target.parent.iterdir()) == ["safe_harbor.wav"]  # no temp
    with pytest.raises(PromptInvalid, match="use 1-64 letters"):
        prompts.store(tmp_path, owner, "../evil", make_wav(tmp_path / "3.wav"))

    zh = _survey_owner("zh")
    prompts.store(tmp_path, zh, "intro", make_wav(tmp_path / "i.wav"))
    prompts.store(tmp_path, _survey_owner("en"), "intro", make_wav(tmp_path / "e.wav"))
    make_wav(zh.folder(tmp_path) / "thanks-0123456789ab.wav")  # the IVR's espeak-ng cache
    every = prompts.list_prompts(tmp_path, _survey_owner(""))
    assert [(p["name"], p["lang"]) for p in every] == [("intro", "zh"), ("intro", "en")]
    assert [p["name"] for p in prompts.list_prompts(tmp_path, owner)] == ["safe_harbor"]
    assert len(prompts.remove(tmp_path, _survey_owner(""), "intro")) == 2
    assert prompts.list_prompts(tmp_path, _survey_owner("")) == []
    with pytest.raises(NotFound, match="has no uploaded prompt 'intro'"):
        prompts.remove(tmp_path, zh, "intro")


def test_resolve_owner_from_the_database(sqlite_engine: Engine) -> None:
    camp = store.create(sqlite_engine, "回访 spring")
    survey_store.save_survey(sqlite_engine, surveys.SEED_TEMPLATE)
    owner = prompts.resolve_owner(sqlite_engine, "campaign", "回访 spring")
    assert (owner.key, owner.label) == (str(camp.id), "回访 spring")
    assert prompts.resolve_owner(sqlite_engine, "campaign", str(camp.id)).label == "回访 spring"
    s = prompts.resolve_owner(sqlite_engine, "survey", surveys.SEED_TEMPLATE.name, "en")
    assert s.lang == "en" and "intro" in s.allowed
    with pytest.raises(PromptInvalid, match="survey prompts need lang zh or en"):
        prompts.resolve_owner(sqlite_engine, "survey", surveys.SEED_TEMPLATE.name)
    with pytest.raises(PromptInvalid, match="campaign prompts have no language"):
        prompts.resolve_owner(sqlite_engine, "campaign", "回访 spring", "zh")
    with pytest.raises(NotFound):
        prompts.resolve_owner(sqlite_engine, "campaign", "nope")
    with pytest.raises(PromptInvalid, match="scope 'list'"):
        prompts.resolve_owner(sqlite_engine, "list", "x")


def test_chinese_survey_names_of_equal_length_get_their_own_folders() -> None:
    from campaigns.prompts import safe

    assert safe("满意度调查") != safe("回访调查表")
    assert safe("q:sat") == "q_sat"  # ASCII names map as before
    assert all(c.isascii() for c in safe("满意度调查"))


def test_a_file_much_bigger_than_its_header_is_refused(tmp_path: Path) -> None:
    """Issue 18 finding 12: a big "WAV" whose header announces 0.5 s of audio."""
    good = make_wav(tmp_path / "half.wav", seconds=0.5).read_bytes()
    assert refusal(good + b"\x01" * (1024 * 1024)).fields["problem"] == "oversized"
    prompts.check_wav_bytes(good + b"\x00" * 100)  # a little trailing padding is fine
    huge = tmp_path / "huge.wav"
    with huge.open("wb") as fh:
        fh.write(good)
        fh.truncate(64 * 1024 * 1024)  # sparse: refused by its size, before it is read
    owner = prompts.Owner("campaign", "1", "rv")
    with pytest.raises(PromptInvalid, match="larger than any"):
        prompts.store(tmp_path, owner, "p", huge)
