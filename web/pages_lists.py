"""Call lists in the console: upload (preview, mapping, progress, report), lists, contacts.

An upload is two steps: the file is kept aside and previewed (``POST /api/lists/preview``
answers the same preview as JSON), then imported with the mapping the manager confirmed —
the same ``lists.importer`` calls as ``POST /api/lists`` with a ``mapping`` field.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from pathlib import Path
from typing import Any

from aiohttp import web

from compliance.profiles import LAWFUL_BASES
from dialer import board
from lists import browse, columns, importer, store
from lists.errors import ListFileError
from lists.preview import preview
from outdial.errors import InvalidInput, OutdialError
from web import inputs
from web.api_lists import RUNNING, _run, contact_json, job_json
from web.apidoc import ANY_OBJ, INT, STR, Doc, arr, obj
from web.i18n import N_
from web.keys import CONFIG, ENGINE
from web.middleware import run_db
from web.routing import Routes
from web.shell import MANAGERS, lang_of, render

routes = Routes()
_TOKEN = re.compile(r"^[0-9a-f]{16}$")
ENCODINGS = ("", "utf-8", "gbk", "gb18030", "utf-16")
PAGE = 50
SIZES: web.AppKey[store.SizeCache] = web.AppKey("lists.sizes")


def setup(app: web.Application) -> None:
    app[SIZES] = store.SizeCache()


def _staging(request: web.Request) -> Path:
    folder: Path = request.app[CONFIG].data_dir / "uploads" / "staged"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _staged(request: web.Request, token: str) -> tuple[Path, dict[str, str]]:
    """The kept file of a preview and what was sent with it."""
    if not _TOKEN.match(token):
        raise InvalidInput("the upload has expired; choose the file again", field="file")
    meta_path = _staging(request) / f"{token}.json"
    if not meta_path.is_file():
        raise InvalidInput("the upload has expired; choose the file again", field="file")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    return _staging(request) / meta["stored"], meta


async def _receive(request: web.Request) -> tuple[str, dict[str, str]]:
    """Save a multipart upload aside: (token, fields)."""
    limit = request.app[CONFIG].max_upload_bytes
    fields: dict[str, str] = {}
    token = secrets.token_hex(8)
    async for part in inputs.multipart_parts(request):  # malformed bodies: a clear 400
        if part.name == "file" and part.filename:
            if "stored" in fields:  # a second file would be an orphan on disk
                raise InvalidInput("send exactly one 'file' part", field="file")
            name = inputs.check_text(Path(part.filename).name, "filename")
            stored = f"{token}{Path(name).suffix[:8]}"
            try:
                await inputs.save_part(part, _staging(request) / stored, limit)
            except BaseException:
                (_staging(request) / stored).unlink(missing_ok=True)
                raise
            fields["file_name"], fields["stored"] = name, stored
        elif part.name in ("campaign", "list", "region", "encoding", "lawful_basis", "sheet"):
            fields[part.name] = (await inputs.part_text(part))[:128]
    if "stored" not in fields:
        raise InvalidInput("choose a CSV, TSV or XLSX file first", field="file")
    (_staging(request) / f"{token}.json").write_text(json.dumps(fields), encoding="utf-8")
    return token, fields


async def _preview(
    request: web.Request, path: Path, encoding: str, sheet: str = ""
) -> dict[str, Any]:
    result: dict[str, Any] = await run_db(preview, path, encoding or None, sheet or None)
    return result


@routes.post(
    "/api/lists/preview",
    roles=MANAGERS,
    body="upload",
    doc=Doc(
        "Preview a call-list file: detected encoding, first rows, column mapping",
        form=obj(required=["file"], file={"type": "string", "format": "binary"}, encoding=STR),
        returns=obj(staged=STR),
    ),
)
async def api_preview(request: web.Request) -> web.Response:
    """multipart: file (+ encoding): the detected encoding, first rows and column mapping,
    and ``staged``, which ``POST /lists/upload/import`` takes instead of the file."""
    token, fields = await _receive(request)
    path, _ = _staged(request, token)
    data = await _preview(request, path, fields.get("encoding", ""), fields.get("sheet", ""))
    return web.json_response({"staged": token, **data})


@routes.get("/lists", roles=MANAGERS)
async def lists_page(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    sizes = await run_db(request.app[SIZES].read, engine)
    rows = await run_db(store.lists_of, engine, None, sizes)
    return render("lists.html", request, {"lists": rows})


@routes.get("/lists/upload", roles=MANAGERS)
async def upload_page(request: web.Request) -> web.Response:
    from campaigns import store as campaigns

    names = [c.name for c in await run_db(campaigns.all_campaigns, request.app[ENGINE])]
    ctx = {
        "campaigns": names,
        "encodings": ENCODINGS,
        "campaign": request.query.get("campaign"),
        "bases": LAWFUL_BASES,
    }
    return render("upload.html", request, ctx)


#: an unreadable upload in the manager's words, by error code (lists/errors.py)
UPLOAD_WORDS = {
    "list_file_empty": N_("The file %(file)s is empty."),
    "list_file_binary": N_(
        "%(file)s is not a call list: it is not text. Save the list from Excel as CSV or "
        "XLSX and choose it again."
    ),
}


def _problem_words(request: web.Request, err: ListFileError, file_name: str) -> str:
    """The reader names the file as it was kept on disk (a token); the manager knows it by
    the name they chose, and reads the problem in their language where it has words."""
    words = UPLOAD_WORDS.get(err.code)
    if words and file_name:
        return lang_of(request).gettext(words) % {"file": file_name}
    stored = str(err.fields.get("file") or "")
    return err.message.replace(stored, file_name) if stored and file_name else err.message


@routes.post("/lists/upload/preview", roles=MANAGERS, body="upload")
async def upload_preview(request: web.Request) -> web.Response:
    fields: dict[str, str] = {}
    try:
        token, fields = await _receive(request)
        path, _ = _staged(request, token)
        data = await _preview(request, path, fields.get("encoding", ""), fields.get("sheet", ""))
    except ListFileError as err:
        message = _problem_words(request, err, fields.get("file_name", ""))
        return render("_upload_problem.html", request, {"message": message})
    ctx = {"staged": token, "p": data, "f": fields, "error": "", "error_field": ""}
    return render("_upload_preview.html", request, ctx)


@routes.post("/lists/upload/sheet", roles=MANAGERS)
async def upload_sheet(request: web.Request) -> web.Response:
    """The preview again, of another sheet of the same workbook (the mapping detected anew)."""
    form = await inputs.form_body(request)
    token = str(form.get("staged", ""))
    path, meta = _staged(request, token)
    sheet = str(form.get("sheet", "")).strip()
    try:
        data = await _preview(request, path, "", sheet)
    except ListFileError as err:
        return render("_upload_problem.html", request, {"message": err.message})
    fields = {**meta, **{k: str(form.get(k, "")).strip() for k in _KEPT}, "sheet": sheet}
    ctx = {"staged": token, "p": data, "f": fields, "error": "", "error_field": ""}
    return render("_upload_preview.html", request, ctx)


_KEPT = ("campaign", "list", "region", "encoding", "lawful_basis")


def _mapping(form: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for field in ("phone", "name", "order_id", "address", "visit_date"):
        columns = [str(v) for v in form.getall(f"map_{field}", []) if str(v)]
        if columns:
            out[field] = columns
    return out


@routes.post("/lists/upload/import", roles=MANAGERS)
async def upload_import(request: web.Request) -> web.Response:
    form = await inputs.form_body(request)
    token = str(form.get("staged", ""))
    path, meta = _staged(request, token)
    mapping = _mapping(form)
    opts_fields = {
        "campaign": str(form.get("campaign", "")).strip(),
        "list": str(form.get("list", "")).strip(),
        "region": str(form.get("region", "")).strip(),
        "encoding": str(form.get("encoding", "")).strip(),
        "lawful_basis": str(form.get("lawful_basis", "")).strip(),
        "sheet": str(form.get("sheet", "")).strip(),
        "mapping": json.dumps(mapping, ensure_ascii=False),
    }
    from web.api_lists import _options

    engine = request.app[ENGINE]
    data = await _preview(request, path, opts_fields["encoding"], opts_fields["sheet"])
    try:
        opts = _options(opts_fields)
        # the importer checks the mapping when it runs; check it now to say so at the field
        columns.map_columns(data["headers"], mapping, visit_dates="visit_date" in mapping)
        job, again = await run_db(importer.start, engine, path, opts, meta["file_name"])
    except OutdialError as err:
        ctx = {
            "staged": token,
            "p": {**data, "mapping": {k: v for k, v in mapping.items()}},
            "f": {**meta, **opts_fields},
            "error": err.message,
            "error_field": str(err.fields.get("field", "")),
        }
        return render("_upload_preview.html", request, ctx, status=200)
    (_staging(request) / f"{token}.json").unlink(missing_ok=True)
    if again:
        path.unlink(missing_ok=True)
    else:
        task = asyncio.ensure_future(_run(engine, job.id or 0, path))
        request.app[RUNNING].add(task)
        task.add_done_callback(request.app[RUNNING].discard)
    return await _progress(request, job.list_id, already=again)


async def _progress(request: web.Request, list_id: int, already: bool = False) -> web.Response:
    job = await run_db(store.latest_job, request.app[ENGINE], list_id)
    data = job_json(job, importer.live_progress(job.id or 0))
    ctx = {"job": data, "list_id": list_id, "already": already}
    return render("_upload_progress.html", request, ctx)


@routes.get("/lists/{list_id}/progress", roles=MANAGERS)
async def progress(request: web.Request) -> web.Response:
    return await _progress(request, _int(request, "list_id"))


def _int(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise web.HTTPNotFound() from None


async def _search(request: web.Request) -> dict[str, Any]:
    list_id, engine = _int(request, "list_id"), request.app[ENGINE]
    lst = await run_db(store.get_list, engine, list_id)
    q = request.query.get("q", "")
    anywhere = request.query.get("anywhere", "") not in ("", "0")
    try:
        offset = max(0, int(request.query.get("offset", "0")))
    except ValueError:
        offset = 0
    size = None if q.strip() else (await run_db(request.app[SIZES].read, engine)).get(list_id, 0)
    total, rows = await run_db(
        browse.search, engine, list_id, q, offset, PAGE, anywhere=anywhere, size=size
    )
    return {
        "list": lst,
        "q": q,
        "anywhere": anywhere,
        "name_query": bool(q.strip()) and not browse.is_digits(q),
        "offset": offset,
        "total": total,
        "contacts": rows,
    }


@routes.get("/lists/{list_id}", roles=MANAGERS)
async def contacts_page(request: web.Request) -> web.Response:
    ctx = await _search(request)
    name = "_contacts.html" if request.headers.get("HX-Request") else "contacts.html"
    return render(name, request, {**ctx, "page": PAGE})


@routes.get(
    "/api/lists/{list_id}/search",
    roles=MANAGERS,
    doc=Doc(
        "Search a list's contacts by name or the last digits of a number (50 a page)",
        query={
            "q": "the start of a name, or the last digits of a number",
            "anywhere": "1: the name may hold q anywhere (slower: reads the whole list)",
            "offset": "first row",
        },
        returns=obj(total=INT, contacts=arr(ANY_OBJ)),
    ),
)
async def api_search(request: web.Request) -> web.Response:
    """?q= start of a name, or the last digits of a number; &anywhere=1; &offset=. 50 a page."""
    ctx = await _search(request)
    return web.json_response(
        {"total": ctx["total"], "contacts": [contact_json(c) for c in ctx["contacts"]]}
    )


@routes.get("/contacts/{contact_id}/attempts", roles=MANAGERS)
async def attempts_fragment(request: web.Request) -> web.Response:
    rows = await run_db(board.attempts_of, request.app[ENGINE], _int(request, "contact_id"))
    return render("_attempts.html", request, {"attempts": rows})


@routes.get(
    "/api/contacts/{contact_id}/attempts",
    roles=MANAGERS,
    doc=Doc("A contact's attempt history", returns=obj(attempts=arr(ANY_OBJ))),
)
async def api_attempts(request: web.Request) -> web.Response:
    rows = await run_db(board.attempts_of, request.app[ENGINE], _int(request, "contact_id"))
    return web.json_response({"attempts": rows})
