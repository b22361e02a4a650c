"""Files into the do-not-call lists (rules 7, 8, 24): an internal DNC file with reasons, and
national registry snapshots with their dates and staleness (the console's DNC page, the same
calls as ``POST /api/dnc/import`` and ``POST /api/registry``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from compliance import registry, store
from compliance.errors import NumberFormatError
from compliance.gate import REGISTRIES
from compliance.models import RegistrySnapshot
from compliance.profiles import load_ruleset
from outdial.errors import InvalidInput
from outdial.storage import session_scope

#: invalid lines listed in an import's report (all of them are counted)
INVALID_SHOWN = 100
SNAPSHOTS_SHOWN = 20


def import_file(
    engine: Engine,
    path: Path,
    region: str = "CN",
    reason: str = "",
    sheet: str | None = None,
    source: str = "import",
) -> dict[str, Any]:
    """Every number of a CSV/TSV/XLSX file onto the internal DNC list in one transaction
    (rule 8), with the row's reason or else ``reason``: counts of added, already listed (or
    twice in the file) and invalid lines, with the invalid ones by row."""
    from lists.dnc_file import read_dnc_file  # pandas stays in lists/

    rows = read_dnc_file(path, None, sheet)
    result = store.dnc_import_rows(
        engine, ((r.row, r.number, r.reason or reason) for r in rows), source, region
    )
    return {
        "read": result.read,
        "added": result.added,
        "duplicates": result.already,
        "invalid": len(result.invalid),
        "invalid_rows": [{"row": r, "number": t} for r, t in result.invalid[:INVALID_SHOWN]],
    }


@dataclass(frozen=True)
class Snapshot:
    name: str
    as_of: date
    count: int
    max_age_days: int | None  # None: no loaded profile scrubs against it
    age_days: int

    @property
    def stale(self) -> bool:
        """Older than its profile allows: telemarketing calls are blocked (rules 7, 24)."""
        return self.max_age_days is not None and self.age_days > self.max_age_days


def max_ages() -> dict[str, int]:
    """Each registry's allowed snapshot age in days, from the jurisdiction profiles."""
    out: dict[str, int] = {}
    for profile in REGISTRIES:
        reg = load_ruleset(profile).base.registry
        if reg is not None:
            out[reg.name] = reg.max_age_days
    return out


def snapshots(engine: Engine, today: date) -> list[Snapshot]:
    """The registry snapshots loaded, newest first, with their age against ``today``."""
    ages = max_ages()
    with session_scope(engine) as s:
        rows = list(
            s.exec(
                select(RegistrySnapshot)
                .order_by(col(RegistrySnapshot.as_of).desc(), col(RegistrySnapshot.id).desc())
                .limit(SNAPSHOTS_SHOWN)
            )
        )
    return [
        Snapshot(r.name, r.as_of, r.count, ages.get(r.name), (today - r.as_of).days) for r in rows
    ]


def registry_names() -> tuple[str, ...]:
    return tuple(n for names in REGISTRIES.values() for n in names)


def load_registry(engine: Engine, path: Path, name: str, as_of: str, today: date) -> Snapshot:
    """A national registry file (one number per line, 10-digit US numbers allowed) saved as
    the newest snapshot of ``name`` dated ``as_of`` (audited)."""
    if name not in registry_names():
        raise InvalidInput(
            f"unknown registry {name!r} (one of {', '.join(registry_names())})", field="name"
        )
    try:
        snapshot = date.fromisoformat(as_of)
    except ValueError as exc:
        raise InvalidInput("the snapshot date must be YYYY-MM-DD", field="as_of") from exc
    if snapshot > today:
        raise InvalidInput("the snapshot date cannot be in the future", field="as_of")
    try:
        reg = registry.from_file(name, snapshot, path)
    except NumberFormatError as exc:
        raise InvalidInput(f"the registry file has a line that is not a number: {exc.message}",
                           field="file") from exc  # fmt: skip
    if not len(reg):
        raise InvalidInput("the registry file holds no number", field="file")
    snap = store.registry_save(engine, reg)
    return Snapshot(
        snap.name, snap.as_of, snap.count, max_ages().get(name), (today - snapshot).days
    )
