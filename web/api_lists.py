"""Call lists over HTTP: upload (202 + a job), progress and report, rejects, contacts.

Rules live in lists/: this module streams the upload to a file, calls
``lists.importer`` on a worker thread and reads results back through ``lists.store``.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web
from sqlalchemy.engine import Engine

from lists import columns, export, importer, store
from lists.errors import UploadTooLarge
from lists.models import Contact, ImportJob
from outdial import memory
from outdial.errors import Conflict, InvalidInput, NotFound
from outdial.roles import Role
from web import inputs
from web.apidoc import ANY_OBJ, BOOL, FILE, INT, STR, Doc, arr, desc, enum, obj
from web.keys import CONFIG, ENGINE
from web.middleware import current_identity, run_db
from web.routing import Routes

log = structlog.get_logger(__name__)
routes = Routes()
MANAGERS = {Role.ADMIN, Role.MANAGER}
RUNNING: web.AppKey[set[asyncio.Future[None]]] = web.AppKey("lists.running")
_FIELDS = {"campaign", "list", "region", "encoding", "sheet", "dedupe", "mapping"}
_FIELDS |= {"purpose", "lawful_basis", "source", "create"}
MAX_PAGE = 1000


def setup(app: web.Application) -> None:
    app[RUNNING] = set()
    app.on_shutdown.append(_wait_for_imports)


async def _wait_for_imports(app: web.Application) -> None:
    """Let running imports finish (each is one transaction) before the engine goes away."""
    running: set[asyncio.Future[None]] = app[RUNNING]
    pending = list(running)
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)


def job_json(job: ImportJob, live: tuple[str, int, int] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": job.id,
        "list_id": job.list_id,
        "status": job.status,
        "file": job.file_name,
        "rows_total": job.rows_total,
        "rows_done": job.rows_done,
        "phase": job.status,
        "report": job.report or None,
        "error": job.error or None,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }
    if live is not None:
        out["phase"], out["rows_done"], total = live
        out["rows_total"] = total or job.rows_total
    return out


def contact_json(c: Contact) -> dict[str, Any]:
    return {
        "id": c.id,
        "row": c.row_number,
        "primary_number": c.primary_number,
        "alternates": c.alternates,
        "number_type": c.number_type,
        "timezones": c.timezones,
        "name": c.name,
        "order_id": c.order_id,
        "address": c.address,
        "custom": c.custom,
        "suppressed": c.suppressed,
        "status": c.status,
        "attempts": c.attempts,
    }


@routes.post(
    "/api/lists",
    roles=MANAGERS,
    body="upload",
    doc=Doc(
        "Upload a call list (CSV/XLSX); the import runs in the background",
        form=obj(
            required=["file", "campaign"],
            file=FILE,
            campaign=STR,
            list=STR,
            region=STR,
            encoding=STR,
            sheet=STR,
            dedupe=enum("off", "list", "campaign"),
            mapping=desc(STR, 'JSON: {"phone": "手机号"}'),
            purpose=STR,
            lawful_basis=STR,
            source=STR,
        ),
        returns=obj(job=ANY_OBJ, list_id=INT, already_imported=BOOL, progress=STR),
        status=202,
    ),
)
async def upload(request: web.Request) -> web.Response:
    """multipart/form-data: ``file`` plus campaign, and optionally list, region, encoding,
    sheet, dedupe, mapping (JSON), purpose, lawful_basis, source, create (``true``: make the
    campaign when it does not exist; else an unknown campaign is a 404)."""
    engine, cfg = request.app[ENGINE], request.app[CONFIG]
    folder = cfg.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    fields: dict[str, str] = {}
    path: Path | None = None
    file_name = ""
    try:
        async for part in inputs.multipart_parts(request):
            if part.name == "file":
                if path is not None:  # a second file would be an orphan on disk
                    raise InvalidInput("send exactly one 'file' part", field="file")
                file_name = inputs.check_text(Path(part.filename or "upload").name, "filename")
                path = folder / f"{secrets.token_hex(8)}{Path(file_name).suffix[:8]}"
                await inputs.save_part(part, path, cfg.max_upload_bytes, UploadTooLarge)
            elif part.name in _FIELDS:
                fields[part.name] = await inputs.part_text(part)
        if path is None:
            raise InvalidInput("the upload has no 'file' part", field="file")
        opts = replace(_options(fields), uploader=current_identity(request).username)
        job, again = await run_db(importer.start, engine, path, opts, file_name)
    except BaseException:
        if path is not None:
            path.unlink(missing_ok=True)
        raise
    if again:
        path.unlink(missing_ok=True)
        body = {"job": job_json(job), "list_id": job.list_id, "already_imported": True}
        return web.json_response(body, status=200)
    task = asyncio.ensure_future(_run(engine, job.id or 0, path))
    request.app[RUNNING].add(task)
    task.add_done_callback(request.app[RUNNING].discard)
    body = {
        "job": job_json(job),
        "list_id": job.list_id,
        "already_imported": False,
        "progress": f"/api/lists/{job.list_id}/import",
    }
    return web.json_response(body, status=202)


def _options(fields: dict[str, str]) -> importer.ImportOptions:
    campaign = fields.get("campaign", "")
    if not campaign:
        raise InvalidInput("field 'campaign' is required", field="campaign")
    mapping: dict[str, list[str]] = {}
    if fields.get("mapping"):
        try:
            data = json.loads(fields["mapping"])
        except ValueError as exc:
            raise InvalidInput(f"'mapping' is not JSON: {exc}", field="mapping") from exc
        if not isinstance(data, dict):
            raise InvalidInput('\'mapping\' must be an object like {"phone": "手机号"}')
        mapping = columns.mapping_from_json(data)
    return importer.ImportOptions(
        campaign=campaign,
        list_name=fields.get("list") or None,
        region=(fields.get("region") or "").upper() or None,
        mapping=mapping,
        encoding=fields.get("encoding") or None,
        sheet=fields.get("sheet") or None,
        dedupe=fields.get("dedupe") or None,
        purpose=fields.get("purpose", ""),
        lawful_basis=fields.get("lawful_basis", ""),
        source=fields.get("source", ""),
        create_campaign=fields.get("create", "").lower() in ("1", "true", "yes"),
    )


#: issue 18: imports run one at a time on their own thread. Parsing a workbook is Python
#: work that holds the GIL; in the shared pool, a burst of uploads had several parses
#: competing with the event loop (and the quick storage calls queueing behind them), and
#: each thread kept its own heap of parsed rows. Queued imports show "queued" meanwhile.
_IMPORTS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="list-import")


async def _run(engine: Engine, job_id: int, path: Path) -> None:
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(_IMPORTS, importer.run, engine, job_id, path, _drop(path))
    except Exception as exc:  # recorded on the job; GET .../import shows it
        log.warning("import failed", job_id=job_id, error=str(exc))
    finally:
        path.unlink(missing_ok=True)
        if not await loop.run_in_executor(None, memory.release):
            _release_later(loop)


def _drop(path: Path) -> importer.ProgressFn:
    """Remove the upload once every row is read (the commit phase), so a job seen ``done``
    has left nothing on disk; the ``finally`` above covers a failed import."""

    def progress(phase: str, _done: int, _total: int) -> None:
        if phase == "commit":
            path.unlink(missing_ok=True)

    return progress


_PENDING: set[asyncio.TimerHandle] = set()


def _release_later(loop: asyncio.AbstractEventLoop) -> None:
    """A release skipped by the rate limit happens once the interval has passed, so the
    last of a burst of imports still hands its memory back."""
    if _PENDING:
        return

    def fire() -> None:
        _PENDING.clear()
        loop.run_in_executor(None, memory.release)

    _PENDING.add(loop.call_later(memory.MIN_INTERVAL_S + 0.5, fire))


def _list_id(request: web.Request) -> int:
    try:
        return int(request.match_info["list_id"])
    except ValueError as exc:
        raise NotFound("no such call list") from exc


@routes.get(
    "/api/lists",
    roles=MANAGERS,
    doc=Doc(
        "Call lists", query={"campaign": "only this campaign's"}, returns=obj(lists=arr(ANY_OBJ))
    ),
)
async def lists_index(request: web.Request) -> web.Response:
    rows = await run_db(store.lists_of, request.app[ENGINE], request.query.get("campaign"))
    return web.json_response(
        {
            "lists": [
                {"id": lst.id, "campaign": camp, "name": lst.name, "status": lst.status,
                 "region": lst.region, "contacts": n}
                for lst, camp, n in rows
            ]
        }
    )  # fmt: skip


@routes.get(
    "/api/lists/{list_id}/import",
    roles=MANAGERS,
    doc=Doc("The latest import of a list and its progress", returns=obj(job=ANY_OBJ)),
)
async def import_status(request: web.Request) -> web.Response:
    job = await run_db(store.latest_job, request.app[ENGINE], _list_id(request))
    return web.json_response({"job": job_json(job, importer.live_progress(job.id or 0))})


@routes.post(
    "/api/lists/{list_id}/import/cancel",
    roles=MANAGERS,
    doc=Doc("Cancel a running import", returns=obj(job_id=INT, cancelling=BOOL)),
)
async def import_cancel(request: web.Request) -> web.Response:
    """202 when the import will roll back; 409 when it is committing, finished or not running
    here (nothing to cancel: the answer says so rather than claiming a rollback)."""
    job = await run_db(store.latest_job, request.app[ENGINE], _list_id(request))
    state = importer.request_cancel(job.id or 0)
    if state != "cancelling":
        why = {
            "committing": "the import is committing its rows and can no longer be cancelled",
            "not_running": f"the import is not running (status {job.status})",
        }[state]
        raise Conflict(why, job_id=job.id, state=state)
    return web.json_response({"job_id": job.id, "cancelling": True}, status=202)


@routes.get(
    "/api/lists/{list_id}/rejects.csv",
    roles=MANAGERS,
    doc=Doc("Rows the import refused, with the reason", content_type="text/csv", returns=STR),
)
async def rejects_csv(request: web.Request) -> web.Response:
    list_id = _list_id(request)
    text = await run_db(lambda: "".join(export.rejects_csv(request.app[ENGINE], list_id)))
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="list-{list_id}-rejects.csv"'},
    )


@routes.get(
    "/api/lists/{list_id}/contacts", roles=MANAGERS, doc=Doc("A list's contacts", returns=ANY_OBJ)
)
async def contacts(request: web.Request) -> web.Response:
    list_id = _list_id(request)
    try:
        offset = int(request.query.get("offset", "0"))
        limit = int(request.query.get("limit", "100"))
    except ValueError as exc:
        raise InvalidInput("offset and limit must be whole numbers") from exc
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"offset must be >= 0 and limit between 1 and {MAX_PAGE}")
    engine = request.app[ENGINE]
    await run_db(store.get_list, engine, list_id)
    total, rows = await run_db(store.contacts_page, engine, list_id, offset, limit)
    return web.json_response(
        {
            "total": total,
            "offset": offset,
            "limit": limit,
            "contacts": [contact_json(c) for c in rows],
        }
    )
