"""Sample data for the simulated call centre (issue 17): ``outdial demo`` and the board's
button make three campaigns — a return visit (回访), an order verification (核单) and a
satisfaction survey (满意度调查) — with small Chinese sample lists and ten simulated agents,
ready to start; ``outdial demo --reset`` removes them.

Everything goes through the paths a user's data takes: campaign definitions rendered from
the templates (``campaigns.templates``) and loaded (``campaigns.files``), lists imported from
CSV with a consent column (``lists.importer``), the safe-harbor prompt stored
(``campaigns.prompts``), agents created as users (``outdial.auth``).

Calling windows: the campaigns' schedules are open all day in the machine's own time zone,
and the simulated customers' time zone is one where it is afternoon now, so the legal
calling hours (rule 28: 09:00-20:00 where the customer is) hold whenever someone tries the
demo. Running ``outdial demo`` again moves them to where it is afternoon then.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from outdial.config import Config

DEMO_PREFIX = "演示·"  # every demo campaign's name starts with this
AGENT_PREFIX = "sim"  # sim01 .. sim10, role agent
AGENTS = 10
CALLER_ID = "+8610010000"
SOUNDS = Path(__file__).parents[1] / "sip" / "sounds"

_SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗"
_GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛")
_PRODUCTS = ("电热水壶", "电饭煲", "微波炉", "空气炸锅", "吸尘器", "电风扇", "榨汁机", "加湿器")


@dataclass(frozen=True, slots=True)
class DemoCampaign:
    template: str  # a key of campaigns.templates.TEMPLATES
    name: str
    prefix: str  # the sample numbers' first digits (11-digit Chinese mobiles)
    script: str
    header: str  # the list's extra column
    dated: bool = False  # a 送货日期 column a week ago: a return visit is due N days after it


CAMPAIGNS = (
    DemoCampaign(
        "return_visit",
        f"{DEMO_PREFIX}回访",
        "1390010",
        "您好，{name}，您{送货日期}签收的{商品}用得还好吗？",
        "商品",
        dated=True,
    ),
    DemoCampaign(
        "order_verification",
        f"{DEMO_PREFIX}核单",
        "1390020",
        "您好，{name}，跟您核对一下订单：{商品}，请问信息都对吗？",
        "商品",
    ),
    DemoCampaign(
        "survey",
        f"{DEMO_PREFIX}满意度调查",
        "1390030",
        "您好，{name}，耽误您一分钟做个满意度调查，我帮您转到语音问卷。",
        "商品",
    ),
)


def local_zone() -> str:
    """The machine's IANA time zone (TZ, else /etc/localtime's link), else UTC."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and "/" in tz:
        return tz
    try:
        target = os.readlink("/etc/localtime")
    except OSError:
        return "UTC"
    return target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else "UTC"


def afternoon_zone(now: datetime) -> str:
    """The Etc/GMT zone where it is 13:xx or 14:xx now (POSIX signs: Etc/GMT-8 is UTC+8)."""
    offset = (13 - now.astimezone(UTC).hour) % 24
    offset = offset - 24 if offset > 14 else offset
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def definition(c: DemoCampaign, zone: str) -> str:
    """The template for ``c``'s kind, edited as a manager would: name, caller ID, script,
    an all-day schedule in ``zone``, short retries, progressive dialing."""
    from campaigns import templates

    text = templates.render(c.template, "progressive")
    text = re.sub(r'^name = ".*"$', f'name = "{c.name}"', text, count=1, flags=re.M)
    text = re.sub(r'^caller_id = "[^"]*"', f'caller_id = "{CALLER_ID}"', text, count=1, flags=re.M)
    text = re.sub(r'^timezone = "[^"]*"', f'timezone = "{zone}"', text, count=1, flags=re.M)
    text = re.sub(r"^script = .*$", f'script = "{c.script}"', text, count=1, flags=re.M)
    text = re.sub(r"^ring_timeout = \d+", "ring_timeout = 20", text, count=1, flags=re.M)
    days = "".join(
        f'{d} = ["00:00-24:00"]\n' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    )
    text = re.sub(r"(\[schedule\][^\n]*\n)(?:\w+ = \[[^\n]*\n)+", rf"\g<1>{days}", text, count=1)
    retry = "busy = 1\nno_answer = 2\nmachine = 2\nfailure = 1\nmax_attempts = 3\n"
    # the whole [retry] table, its commented-out keys too (a later key would be set twice)
    text = re.sub(
        r"(\[retry\][^\n]*\n)(?:(?:#[^\n]*|\w+ = \d+[^\n]*)\n)+", rf"\g<1>{retry}", text, count=1
    )
    return text


def sample_csv(c: DemoCampaign, rows: int, seed: int, today: date) -> str:
    """A Chinese call list: name, mobile, product (and delivery date a week ago for a return
    visit), consent (是) with its date and evidence."""
    import random

    rng = random.Random(seed)
    dated = ",送货日期" if c.dated else ""
    lines = [f"姓名,手机号,{c.header}{dated},同意,同意日期,同意凭证"]
    delivered = f",{today - timedelta(days=7)}" if c.dated else ""
    consented = today - timedelta(days=14)
    for i in range(rows):
        name = rng.choice(_SURNAMES) + rng.choice(_GIVEN) + (rng.choice(_GIVEN) if i % 3 else "")
        product = rng.choice(_PRODUCTS)
        lines.append(f"{name},{c.prefix}{i:04d},{product}{delivered},是,{consented},官网表单")
    return "\n".join(lines) + "\n"


def create(
    engine: Engine, cfg: Config, rows: int = 30, now: datetime | None = None, agents: int = AGENTS
) -> dict[str, Any]:
    """Make (or refresh) the three demo campaigns and the ten simulated agents."""
    from campaigns import files, prompts
    from lists import importer

    now = now or datetime.now(UTC)
    zone = local_zone()
    customers_zone = afternoon_zone(now)
    made: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="outdial-demo-") as tmp:
        for i, c in enumerate(CAMPAIGNS):
            path = Path(tmp) / f"{c.template}.toml"
            path.write_text(definition(c, zone), encoding="utf-8")
            row, _version, _secret = files.load(engine, path)
            owner = prompts.resolve_owner(engine, "campaign", str(row.id))
            prompts.store(cfg.data_dir, owner, "safe_harbor", SOUNDS / "zh_sorry.wav")
            csv = Path(tmp) / f"{c.name}.csv"
            csv.write_text(sample_csv(c, rows, i, now.date()), encoding="utf-8")
            report = importer.import_file(engine, csv, importer.ImportOptions(campaign=c.name))
            made.append(
                {
                    "id": row.id,
                    "name": c.name,
                    "kind": row.kind,
                    "imported": report.get("imported", 0),
                }
            )
    _set_customer_zone(engine, [m["id"] for m in made], customers_zone)
    return {
        "campaigns": made,
        "agents": _agents(engine, agents),
        "campaign_zone": zone,
        "customer_zone": customers_zone,
    }


def _set_customer_zone(engine: Engine, campaign_ids: list[int], zone: str) -> None:
    """Simulated customers live where it is afternoon now (module docstring, rule 28)."""
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE contacts SET timezones = :z WHERE campaign_id = :c"),
            [{"z": json.dumps([zone]), "c": cid} for cid in campaign_ids],
        )


def _agents(engine: Engine, count: int) -> list[str]:
    from outdial import auth

    names = [f"{AGENT_PREFIX}{i:02d}" for i in range(1, count + 1)]
    with engine.connect() as conn:
        have = set(conn.execute(sa.text("SELECT username FROM users")).scalars())
    for i, name in enumerate(names, 1):
        if name not in have:
            uri = f"sip:agent-{name}@127.0.0.1"  # the simulated carrier's softphones
            auth.create_user(
                engine, name, secrets.token_urlsafe(18), "agent", f"模拟坐席{i:02d}", uri
            )
    return names


def demo_campaign_ids(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, name FROM campaigns")).all()
    return [int(r[0]) for r in rows if str(r[1]).startswith(DEMO_PREFIX)]


def reset(engine: Engine) -> dict[str, Any]:
    """Remove the demo campaigns (with their lists, calls and results) and the agents."""
    ids = demo_campaign_ids(engine)
    removed = 0
    if ids:
        removed = _delete_campaigns(engine, ids)
    with engine.begin() as conn:
        users = [
            int(u)
            for u in conn.execute(
                sa.text(
                    "SELECT id FROM users WHERE username LIKE :p AND role = 'agent' "
                    "AND sip_uri LIKE :u"
                ),
                # only the users demo made: their softphone is the simulated carrier's
                {"p": f"{AGENT_PREFIX}%", "u": "sip:agent-%@127.0.0.1"},
            ).scalars()
        ]
    agents = _delete_users(engine, users)
    return {"campaigns": len(ids), "rows": removed, "agents": agents}


def _delete_campaigns(engine: Engine, ids: list[int]) -> int:
    """Every row that belongs to the campaigns, children before parents (foreign keys)."""
    meta = SQLModel.metadata
    with engine.connect() as conn:
        present = set(sa.inspect(conn).get_table_names())
    removed = 0
    with engine.begin() as conn:
        for table in reversed(meta.sorted_tables):
            if table.name not in present:
                continue
            cond = _owned_by(table, ids, present)
            if cond is not None:
                removed += conn.execute(table.delete().where(cond)).rowcount or 0
    return removed


def _owned_by(table: sa.Table, ids: list[int], present: set[str]) -> Any:
    """A WHERE clause for the rows of ``table`` that belong to campaigns ``ids``."""
    if table.name == "campaigns":
        return table.c.id.in_(ids)
    if "campaign_id" in table.c:
        return table.c.campaign_id.in_(ids)
    for fk in table.foreign_keys:  # one step away: rows of a row that has campaign_id
        parent = fk.column.table
        if parent.name in present and "campaign_id" in parent.c:
            sub = sa.select(fk.column).where(parent.c.campaign_id.in_(ids))
            return fk.parent.in_(sub)
    return None


def _delete_users(engine: Engine, ids: list[int]) -> int:
    if not ids:
        return 0
    meta = SQLModel.metadata
    with engine.connect() as conn:
        present = set(sa.inspect(conn).get_table_names())
    with engine.begin() as conn:
        for table in reversed(meta.sorted_tables):
            if table.name == "users" or table.name not in present:
                continue
            for fk in table.foreign_keys:
                if fk.column.table.name == "users":
                    if fk.parent.nullable:
                        conn.execute(
                            table.update().where(fk.parent.in_(ids)).values({fk.parent.name: None})
                        )
                    else:
                        conn.execute(table.delete().where(fk.parent.in_(ids)))
        users = meta.tables["users"]
        return conn.execute(users.delete().where(users.c.id.in_(ids))).rowcount or 0


def describe(result: dict[str, Any]) -> str:
    lines = [f"sample campaigns (schedule in {result['campaign_zone']}, all day):"]
    for m in result["campaigns"]:
        lines.append(f"  {m['name']} (id {m['id']}): {m['imported']} records")
    lines.append(f"simulated agents: {', '.join(result['agents'])}")
    lines.append(
        f"simulated customers live in {result['customer_zone']}, where it is afternoon now "
        "(calling hours, rule 28)"
    )
    lines.append("start one: outdial campaign start 演示·满意度调查  (or the board's Start button)")
    return "\n".join(lines)


__all__ = ["CAMPAIGNS", "create", "describe", "reset"]
