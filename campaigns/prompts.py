"""Uploaded prompt WAVs (issue 7): checked on upload, stored where the IVR and runtime look.

The rule: **RIFF/WAVE, plain PCM (format tag 1), mono, 16-bit, 8000 Hz or 16000 Hz, between
0.3 s and 120 s, not all silence.** 8000 Hz is preferred: the SIP workers run the conference
bridge at 8 kHz, so anything else is resampled on every play. G.711 µ-law/a-law, float,
ADPCM, MP3-in-WAV and WAVE_FORMAT_EXTENSIBLE are recognised from the fmt chunk and refused
by name: the IVR measures a prompt with the stdlib ``wave`` module (dialer/ivr.py
``wav_seconds``), which on Python 3.11 reads plain PCM only. Every refusal is a
:class:`PromptInvalid` saying what is wrong and what to send instead.

Where prompts live (``<data_dir>/prompts/``):

- survey prompts: ``<safe survey name>/<lang>/<safe prompt id>.wav`` -- exactly the path
  ``dialer.ivr.PromptCache.path`` checks before making one with espeak-ng;
- campaign prompts: ``campaign.<campaign id>/<name>.wav`` (e.g. ``safe_harbor``). The dot
  keeps them apart from survey folders, whose names never contain one (``_safe``).

Files are written to a temporary name in the target folder and renamed (``os.replace``), so
a call playing a prompt sees the old file or the new one, never half of either.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import struct
import tempfile
import wave
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from campaigns import store as campaign_store
from campaigns import survey_store, surveys
from campaigns.errors import PromptInvalid
from outdial.errors import NotFound

EXPECTED = "use 8000 Hz mono 16-bit PCM"
LANGS = ("zh", "en")
SCOPES = ("campaign", "survey")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_GENERATED = re.compile(r"-[0-9a-f]{12}$")  # dialer/ivr.py's espeak-ng cache: <prompt>-<hash>
_FORMATS = {
    3: "32-bit float audio",
    6: "a-law (G.711) audio",
    7: "µ-law (G.711) audio",
    2: "ADPCM audio",
    0x11: "IMA ADPCM audio",
    0x55: "MP3 audio",
    0xFFFE: "a WAVE_FORMAT_EXTENSIBLE header",
}


@dataclass(frozen=True)
class PromptRules:
    """What an upload must be; the defaults are issue 7's rule (see the module docstring)."""

    rates: tuple[int, ...] = (8000, 16000)
    min_seconds: float = 0.3
    max_seconds: float = 120.0
    #: bytes a file may hold past its audio (LIST/INFO chunks); a 150 MB "WAV" whose header
    #: announces 0.5 s of audio is refused (issue 18, finding 12)
    max_trailing_bytes: int = 64 * 1024


@dataclass(frozen=True)
class WavInfo:
    sample_rate: int
    channels: int
    sample_width: int
    frames: int

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate


def _bad(message: str, problem: str, **fields: object) -> PromptInvalid:
    return PromptInvalid(message, problem=problem, expected=EXPECTED, **fields)


def _chunks(data: bytes) -> dict[bytes, tuple[int, int]]:
    """Chunk id -> (offset of its body, declared size), first of each id, in RIFF order."""
    out: dict[bytes, tuple[int, int]] = {}
    pos = 12
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        out.setdefault(cid, (pos + 8, size))
        if cid == b"data":
            break  # nothing after the audio matters, and its size may be a lie
        pos += 8 + size + (size & 1)  # chunks are padded to an even length
    return out


def check_wav_bytes(data: bytes, rules: PromptRules = PromptRules()) -> WavInfo:
    """Check a whole WAV file held in memory; raise :class:`PromptInvalid` on the first fault."""
    if not data:
        raise _bad("empty file: no bytes were uploaded", "empty")
    if len(data) < 12 or data[:4] != b"RIFF":
        raise _bad("not a WAV file (RIFF header missing)", "not_riff")
    if data[8:12] != b"WAVE":
        kind = data[8:12].decode("latin-1")
        raise _bad(f"not a WAV file (RIFF type {kind!r}, not 'WAVE')", "not_wave")
    chunks = _chunks(data)
    if b"fmt " not in chunks:
        raise _bad("not a usable WAV file (no fmt chunk)", "no_fmt")
    at, size = chunks[b"fmt "]
    if size < 16 or at + 16 > len(data):
        raise _bad("truncated fmt chunk", "truncated")
    tag, channels, rate, _byte_rate, align, bits = struct.unpack_from("<HHIIHH", data, at)
    if tag != 1:
        what = _FORMATS.get(tag, f"compressed audio (format tag 0x{tag:04x})")
        raise _bad(f"{what}: {EXPECTED}", "encoding", format_tag=tag)
    if channels != 1:
        what = "stereo" if channels == 2 else f"{channels} channels"
        raise _bad(f"{what}: use mono", "channels", channels=channels)
    if bits != 16:
        raise _bad(f"{bits}-bit PCM: use 16-bit PCM", "sample_width", bits=bits)
    if rate not in rules.rates:
        also = ", ".join(f"{r} Hz" for r in rules.rates if r != 8000)
        tail = f" ({also} also accepted)" if also else ""
        raise _bad(f"sample rate {rate} Hz: {EXPECTED}{tail}", "sample_rate", sample_rate=rate)
    return _check_audio(data, chunks, rate, align or 2, rules)


def _check_audio(
    data: bytes, chunks: dict[bytes, tuple[int, int]], rate: int, align: int, rules: PromptRules
) -> WavInfo:
    if b"data" not in chunks:
        raise _bad("no data chunk: the file holds no audio", "no_data")
    at, size = chunks[b"data"]
    have = len(data) - at
    if size > have or size % align:
        raise _bad(
            f"truncated data chunk (header says {size} bytes, the file has {have})",
            "truncated",
            declared=size,
            present=have,
        )
    if size == 0:
        raise _bad("empty data chunk: the file holds no audio", "empty_audio")
    if have - size > rules.max_trailing_bytes:
        raise _bad(
            f"the file holds {have - size} bytes after its audio; its header announces "
            f"{size} bytes of audio",
            "oversized",
            declared=size,
            present=have,
        )
    if not data[at : at + size].strip(b"\0"):
        raise _bad("the audio is all silence", "silent")
    try:  # the reader the IVR uses must agree with our reading
        with wave.open(io.BytesIO(data)) as w:
            info = WavInfo(w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes())
    except (wave.Error, EOFError, struct.error) as exc:
        raise _bad(f"unreadable WAV: {exc}", "unreadable") from exc
    seconds = info.seconds
    if seconds < rules.min_seconds:
        raise _bad(
            f"length {seconds:.1f} s is below {rules.min_seconds:g} s", "length", seconds=seconds
        )
    if seconds > rules.max_seconds:
        raise _bad(
            f"length {seconds:.1f} s is above {rules.max_seconds:g} s", "length", seconds=seconds
        )
    return info


def check_wav(path: Path, rules: PromptRules = PromptRules()) -> WavInfo:
    """Check a WAV file on disk (read whole: 120 s at 16 kHz is under 4 MB)."""
    return check_wav_bytes(path.read_bytes(), rules)


# --- where prompts live -----------------------------------------------------------------------


def safe(name: str) -> str:
    """A file-system-safe name for a survey, prompt or call id; the IVR (dialer/ivr.py) uses
    this same mapping to find uploaded prompts. Names with non-ASCII characters (Chinese
    survey names) get a short digest, so two names of the same length never share a folder."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", name)
    if name.isascii():
        return cleaned
    return f"{cleaned[:40]}_{hashlib.sha256(name.encode()).hexdigest()[:10]}"


@dataclass(frozen=True)
class Owner:
    """Whose prompt: a campaign (by id) or a survey (by name) and, for a survey, a language."""

    scope: str
    key: str  # campaign id, or the survey's name
    label: str  # what to show: the campaign's or the survey's name
    lang: str = ""
    allowed: tuple[str, ...] = ()  # a survey's prompt ids; empty: any valid name

    def folder(self, data_dir: Path) -> Path:
        root = data_dir / "prompts"
        if self.scope == "campaign":
            return root / f"campaign.{self.key}"
        return root / safe(self.key) / self.lang


def file_name(owner: Owner, name: str) -> str:
    """The stored file's stem for a prompt name, or :class:`PromptInvalid` naming the choices."""
    if owner.scope == "survey":
        by_safe = {safe(p): p for p in owner.allowed}
        if safe(name) not in by_safe:
            choices = ", ".join(owner.allowed)
            raise PromptInvalid(
                f"survey {owner.label!r} has no prompt {name!r}; its prompts: {choices}",
                problem="name",
                expected=choices,
            )
        return safe(name)
    if not _NAME.match(name):
        raise PromptInvalid(
            f"prompt name {name!r}: use 1-64 letters, digits, _ or -",
            problem="name",
            expected="[A-Za-z0-9_-]{1,64}",
        )
    return name


def describe(owner: Owner, path: Path, info: WavInfo | None = None) -> dict[str, Any]:
    if info is None:
        with wave.open(str(path)) as w:
            info = WavInfo(w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes())
    return {
        "scope": owner.scope,
        "owner": owner.label,
        "lang": owner.lang or None,
        "name": path.stem,
        "path": str(path.resolve()),
        "sample_rate": info.sample_rate,
        "seconds": round(info.seconds, 3),
        "bytes": path.stat().st_size,
    }


def store(
    data_dir: Path, owner: Owner, name: str, source: Path, rules: PromptRules = PromptRules()
) -> dict[str, Any]:
    """Check ``source`` and install it atomically as the owner's prompt ``name``."""
    stem = file_name(owner, name)
    largest = 44 + int(rules.max_seconds * max(rules.rates)) * 2 * 2 + rules.max_trailing_bytes
    if source.stat().st_size > largest:  # before reading it: no prompt is that long
        raise _bad(
            f"the file is larger than any {rules.max_seconds:g} s prompt can be", "oversized"
        )
    data = source.read_bytes()
    info = check_wav_bytes(data, rules)
    folder = owner.folder(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{stem}.wav"
    fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return describe(owner, target, info)


def _uploaded(owner: Owner, folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    found = sorted(p for p in folder.glob("*.wav") if p.is_file())
    if owner.scope == "survey":  # skip the IVR's espeak-ng cache (<prompt>-<digest>.wav)
        found = [p for p in found if not _GENERATED.search(p.stem)]
    return found


def list_prompts(data_dir: Path, owner: Owner) -> list[dict[str, Any]]:
    """The owner's uploaded prompts; a survey owner without a language lists every language."""
    owners = [owner] if owner.scope == "campaign" or owner.lang else _langs(owner)
    return [describe(o, p) for o in owners for p in _uploaded(o, o.folder(data_dir))]


def remove(data_dir: Path, owner: Owner, name: str) -> list[str]:
    """Delete a prompt (a survey's in one language, or in all without one); paths removed."""
    stem = file_name(owner, name)
    owners = [owner] if owner.scope == "campaign" or owner.lang else _langs(owner)
    gone: list[str] = []
    for o in owners:
        path = o.folder(data_dir) / f"{stem}.wav"
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            gone.append(str(path))
    if not gone:
        where = f"{owner.scope} {owner.label!r}" + (f" ({owner.lang})" if owner.lang else "")
        raise NotFound(f"{where} has no uploaded prompt {name!r}", name=name)
    return gone


def _langs(owner: Owner) -> list[Owner]:
    return [Owner(owner.scope, owner.key, owner.label, lang, owner.allowed) for lang in LANGS]


def resolve_owner(engine: Engine, scope: str, ref: str, lang: str | None = None) -> Owner:
    """The campaign (id or name) or survey (id or name) a prompt belongs to; NotFound if none.

    A survey prompt names its language (the IVR keeps one folder per language); a campaign
    prompt has none (the runtime plays one safe-harbor file, whatever the language).
    """
    lang = (lang or "").strip()
    if scope == "campaign":
        if lang:
            raise PromptInvalid("campaign prompts have no language; drop lang", problem="lang")
        camp = campaign_store.resolve(engine, ref)
        return Owner("campaign", str(camp.id), camp.name)
    if scope == "survey":
        if lang not in LANGS:
            raise PromptInvalid(
                f"survey prompts need lang zh or en, not {lang!r}", problem="lang", expected="zh|en"
            )
        _row, survey = survey_store.get_survey(engine, ref)
        ids = tuple(pid for pid, _zh, _en in surveys.prompts(survey))
        return Owner("survey", survey.name, survey.name, lang, ids)
    raise PromptInvalid(f"scope {scope!r}: use campaign or survey", problem="scope")


def resolve_for_listing(engine: Engine, scope: str, ref: str, lang: str | None) -> Owner:
    """Like :func:`resolve_owner`, but a survey owner may leave the language out (= all)."""
    if scope == "survey" and not lang:
        return replace(resolve_owner(engine, scope, ref, "zh"), lang="")
    return resolve_owner(engine, scope, ref, lang)
