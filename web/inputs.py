"""What a request may carry, checked before a handler sees it (issue 18, findings 5, 9, 10).

- Body size: each route declares its kind (web/routing.py: ``body="json" | "small" |
  "upload"``); a declared ``Content-Length`` over the limit is refused before reading, and a
  chunked body is cut off at the limit while it is read.
- JSON: UTF-8, at most ``MAX_DEPTH`` deep, no NaN/Infinity, integers within 64 bits, strings
  without NUL or lone surrogates and normalised to NFC; a failure names the field.
- Query strings and path parameters: no NUL or lone surrogates; ``*_id`` parameters are
  whole numbers that fit a database integer (``external_id`` is an integration's text).
- Multipart: a boundary, and a malformed body is a 400, not a traceback.
"""

from __future__ import annotations

import asyncio
import json
import re
import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.helpers import parse_mimetype

from outdial.errors import InvalidInput, OutdialError

MAX_DEPTH = 32
SMALL_BODY = 16 * 1024
INT64 = 2**63
BODY_LIMIT = web.RequestKey("body_limit", int)
_SURROGATE = re.compile("[\ud800-\udfff]")
_ID_PARAM = re.compile(r"^[0-9]{1,19}$")


class BodyTooLarge(OutdialError):
    """A request body past its route's limit."""

    code = "body_too_large"
    http_status = 413


class BodyTooSlow(OutdialError):
    """A body that did not arrive in time (a client trickling bytes to hold a handler)."""

    code = "body_too_slow"
    http_status = 408


#: a JSON body arrives whole within this; an upload's parts each send something this often
BODY_READ_TIMEOUT_S = 30.0


class UploadTooLarge(BodyTooLarge):
    """An upload past ``max_upload_mb`` (the same code the streaming check answers)."""

    code = "upload_too_large"


def text_problem(value: str) -> str:
    """Why a string cannot be stored and exported, or ""."""
    if "\x00" in value:
        return "contains a NUL character"
    if _SURROGATE.search(value):
        return "contains a lone UTF-16 surrogate (not valid Unicode)"
    return ""


def check_text(value: str, field: str) -> str:
    problem = text_problem(value)
    if problem:
        raise InvalidInput(f"{field} {problem}", field=field)
    return unicodedata.normalize("NFC", value)


def check_request_line(request: web.Request) -> None:
    """Query parameters and path parameters: clean text; ids that fit a database integer."""
    for key, value in request.query.items():
        check_text(key, "query parameter name")
        check_text(value, key)
    for key, value in request.match_info.items():
        check_text(value, key)
        numeric = key.endswith("_id") and not key.startswith("external")
        if numeric and (not _ID_PARAM.match(value) or int(value) >= INT64):
            raise InvalidInput(f"{key} must be a whole number below 2^63", field=key)


def limit_for(kind: str, request: web.Request, max_json: int, max_upload: int) -> int:
    return {"small": SMALL_BODY, "upload": max_upload}.get(kind, max_json)


def refuse_oversized(request: web.Request, limit: int, upload: bool = False) -> None:
    length = request.content_length
    if length is not None and length > limit:
        if upload:
            raise UploadTooLarge(
                f"the file is larger than the {limit // (1024 * 1024)} MB upload limit",
                limit_bytes=limit,
            )
        raise BodyTooLarge(
            f"the request body is {length} bytes; this route accepts at most {limit}",
            limit_bytes=limit,
        )


async def read_limited(request: web.Request) -> bytes:
    """The body, read no further than the route's limit (also for chunked bodies)."""
    limit = request.get(BODY_LIMIT, SMALL_BODY)
    refuse_oversized(request, limit)
    data = bytearray()
    try:
        async with asyncio.timeout(BODY_READ_TIMEOUT_S):
            while chunk := await request.content.read(64 * 1024):
                data += chunk
                if len(data) > limit:
                    raise BodyTooLarge(
                        f"the request body is larger than {limit} bytes", limit_bytes=limit
                    )
    except TimeoutError as exc:
        raise BodyTooSlow(f"the body did not arrive within {BODY_READ_TIMEOUT_S:g} s") from exc
    return bytes(data)


async def read_chunk(part: BodyPartReader, size: int = 256 * 1024) -> bytes:
    """One chunk of an upload, or :class:`BodyTooSlow` when nothing comes for a while."""
    try:
        async with asyncio.timeout(BODY_READ_TIMEOUT_S):
            return await part.read_chunk(size)
    except TimeoutError as exc:
        raise BodyTooSlow(f"the upload stalled for {BODY_READ_TIMEOUT_S:g} s") from exc


def _constant(name: str) -> Any:
    raise InvalidInput(f"{name} is not a JSON number outdial accepts")


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, checked and normalised, or a clear 400 naming the field."""
    if request.content_type != "application/json":
        raise InvalidInput("send a JSON body with Content-Type: application/json")
    raw = await read_limited(request)
    if len(raw) > OFF_LOOP_BYTES:  # a big document is parsed on a worker thread
        return await asyncio.to_thread(parse_json, raw)
    return parse_json(raw)


#: JSON bodies larger than this are parsed off the event loop (issue 18, finding 5)
OFF_LOOP_BYTES = 64 * 1024


def parse_json(raw: bytes) -> dict[str, Any]:
    """Decode, parse and check a JSON object body (web/inputs.py's rules)."""
    try:
        text = raw.decode("utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("the body is not UTF-8") from exc
    try:
        body = json.loads(text, parse_constant=_constant)
    except RecursionError as exc:
        raise InvalidInput(f"the JSON body is nested more than {MAX_DEPTH} deep") from exc
    except ValueError as exc:
        raise InvalidInput(f"the body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise InvalidInput("the JSON body must be an object")
    cleaned: dict[str, Any] = clean(body, "", 0)
    return cleaned


def clean(value: Any, path: str, depth: int) -> Any:
    """Check every value of a parsed JSON document; the error names the field's path."""
    where = path or "body"
    if depth > MAX_DEPTH:
        raise InvalidInput(f"the JSON body is nested more than {MAX_DEPTH} deep", field=where)
    if isinstance(value, str):
        return check_text(value, where)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        if not -INT64 <= value < INT64:
            raise InvalidInput(f"{where} is out of range (a 64-bit integer)", field=where)
        return value
    if isinstance(value, list):
        return [clean(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = check_text(key, f"{where} key")
        out[name] = clean(item, f"{path}.{name}" if path else name, depth + 1)
    return out


def int_field(body: dict[str, Any], name: str, default: int | None = None) -> int:
    """A whole-number field (a JSON number, or digits in a string); else a 400 naming it."""
    value = body.get(name)
    if value is None and default is not None:
        return default
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not -INT64 <= value < INT64:
        raise InvalidInput(f"field {name!r} must be a whole number", field=name)
    return value


def str_field(body: dict[str, Any], name: str, default: str = "", max_len: int = 2000) -> str:
    """A text field (numbers are taken as their text); else a 400 naming it."""
    value = body.get(name, default)
    if value is None:
        value = default
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidInput(f"field {name!r} must be a string", field=name)
    text = str(value)
    if len(text) > max_len:
        raise InvalidInput(f"field {name!r} is longer than {max_len} characters", field=name)
    return text


async def text_body(request: web.Request) -> str:
    """A text body (a campaign file): read within the route's limit, in its charset (UTF-8
    by default); bytes that are not in it are a 400 that says so, never a 500."""
    raw = await read_limited(request)
    charset = request.charset or "utf-8"
    try:
        return raw.decode(charset)
    except (UnicodeDecodeError, LookupError) as exc:
        raise InvalidInput(f"the request body is not {charset} text", field="body") from exc


async def part_text(part: BodyPartReader, limit: int = 64 * 1024) -> str:
    """A form field's text: UTF-8, clean, at most ``limit`` bytes."""
    data = bytearray()
    while chunk := await part.read_chunk(8192):
        data += chunk
        if len(data) > limit:
            raise InvalidInput(f"field {part.name!r} is longer than {limit} bytes", field=part.name)
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"field {part.name!r} is not UTF-8", field=part.name) from exc
    return check_text(text, part.name or "field").strip()


async def multipart_parts(request: web.Request) -> AsyncIterator[BodyPartReader]:
    """The named parts of a multipart/form-data body; a malformed body is a clear 400."""
    mime = parse_mimetype(request.headers.get("Content-Type", ""))
    if mime.type != "multipart" or not mime.parameters.get("boundary"):
        raise InvalidInput("send multipart/form-data (with a boundary) and a 'file' part")
    try:
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                return
            if isinstance(part, BodyPartReader) and part.name:
                name = check_text(part.name, "part name")
                if name != part.name:
                    raise InvalidInput("part names must be plain text", field=name)
                yield part
    except (ValueError, AssertionError, LookupError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"the multipart body is malformed ({type(exc).__name__})") from exc


async def form_body(request: web.Request) -> Any:
    """A url-encoded or multipart form (the console's forms); a malformed body is a clear 400,
    never a 500 (a multipart type without a boundary, undecodable text)."""
    try:
        return await request.post()
    except (ValueError, AssertionError, LookupError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"the form is malformed ({type(exc).__name__})") from exc


async def save_part(
    part: BodyPartReader,
    path: Path,
    limit: int,
    error: type[OutdialError] = UploadTooLarge,
    **fields: Any,
) -> None:
    """Stream an upload part to disk, counting bytes: ``error`` (a 413) past ``limit``."""
    size = 0
    with path.open("wb") as fh:
        while chunk := await read_chunk(part):
            size += len(chunk)
            if size > limit:
                raise error(
                    f"the file is larger than the {limit // (1024 * 1024)} MB upload limit",
                    limit_bytes=limit,
                    **fields,
                )
            fh.write(chunk)


async def file_upload(
    request: web.Request, stem: Path, limit: int
) -> tuple[Path, str, dict[str, str]]:
    """A multipart form of one ``file`` part and small text fields: (where the file was
    streamed: ``stem`` with the sent name's suffix, the sent name, the fields). A failed
    upload leaves nothing on disk; after a good one the caller deletes the file."""
    fields: dict[str, str] = {}
    name = ""
    path = stem
    try:
        async for part in multipart_parts(request):  # malformed bodies: a clear 400
            if part.name == "file":
                if name:  # a second file would be an orphan on disk
                    raise InvalidInput("send exactly one 'file' part", field="file")
                name = check_text(Path(part.filename or "upload").name, "filename")
                path = stem.with_suffix(Path(name).suffix[:8])
                await save_part(part, path, limit)
            else:
                fields[part.name or ""] = await part_text(part)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if not name:
        raise InvalidInput("the upload has no 'file' part: choose a file", field="file")
    return path, name, fields
