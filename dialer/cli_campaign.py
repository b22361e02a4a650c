"""``outdial campaign status NAME [--json]``: why is a campaign (not) dialing?
``outdial campaign start|pause|stop NAME``: control the campaign in the running server.

Works from any shell while ``outdial serve`` dials: attempts by state, agents by state,
records by status, the abandon gauge, and the pacer's last decisions with their inputs, from
the database (dialer/status.py). When the campaign's engine is alive, the running server is
asked as well (a one-use token, as for start/stop) and its runner's snapshot is shown: each
agent's state and for how long, calls by state, the pacer's words now, the abandon gauge
against target and cap, SIP failures (issue 11.5).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

import click

from dialer.status import db_status


def _human(d: dict[str, Any]) -> str:
    ab = d["abandon"]
    lines = [f"campaign {d['campaign_id']} {d['name']}: {d['status']} ({d['mode']})"]
    if d.get("interrupted"):  # its server is gone: nothing below is live (issue 16)
        lines.append(f"  {d['interrupted']}")
        if d.get("unresolved_calls") or d.get("agents_to_resume"):
            lines.append(
                f"  left by the stop: {d.get('unresolved_calls', 0)} call(s) to close, "
                f"{d.get('agents_to_resume', 0)} agent session(s) to resume"
            )
    idle = d.get("idle")
    if idle:  # before the pacer's words: the schedule or the records stop it first
        lines.append(f"  not dialing: {idle['message']}")
    lines += [
        f"  calls in flight: {d['calls_in_flight']}"
        + (" (simulated and real)" if d.get("simulated") else ""),
        "  attempts: " + _pairs(d["attempts_by_state"]),
        "  agents: " + _pairs(d["agents_by_state"]),
        "  records: " + _pairs(d["records_by_status"]) + f" ({d['records_remaining']} to go)",
        f"  abandon gauge: {ab['rate']:.2%} ({ab['abandoned']} of {ab['live_answers']} "
        "live answers)",
    ]
    sim = d.get("simulated")
    if sim:  # the simulated carrier's calls, apart: never in the real figures (issue 17)
        sab = sim["abandon"]
        lines += [
            "  SIMULATED calls (the simulated carrier; not real calls, not counted above):",
            "    attempts: " + _pairs(sim["attempts_by_state"]),
            f"    abandon: {sab['rate']:.2%} ({sab['abandoned']} of {sab['live_answers']} "
            "live answers)",
        ]
    if d.get("snapshot"):  # live, from the runner in the server
        lines += _snapshot_lines(d["snapshot"])
    if not idle and not d["decisions"]:
        lines.append("  pacer: no decision recorded yet")
    for dec in d["decisions"]:
        lines.append(
            f"  {dec['at']}: {dec['mode']}, place {dec['calls']}. {dec.get('reason', '')} "
            f"ready {dec.get('ready_agents', '?')}, busy {dec.get('busy_agents', '?')}, "
            f"ringing {dec.get('ringing', '?')}, waiting {dec.get('waiting_for_agent', '?')}, "
            f"hit rate {dec.get('hit_rate', 0):.1%}, "
            f"expected free agents {dec.get('expected_free_agents', '?')}, "
            f"abandon gauge {dec.get('abandon_gauge', 0):.2%}"
        )
    return "\n".join(lines)


def _live_or_stored(ctx: Any, engine: Any, campaign_id: int) -> dict[str, Any]:
    """The running server's status, with its runner's snapshot (issue 11.5), when the
    campaign's engine is alive; else (or when the server cannot be asked) the database's."""
    from datetime import UTC, datetime

    from dialer import recovery
    from outdial.errors import OutdialError

    stored = db_status(engine, campaign_id)
    if not recovery.alive(recovery.run_of(engine, campaign_id), datetime.now(UTC)):
        return stored
    cfg = ctx.config()
    url = f"http://{cfg.host}:{cfg.port}/api/campaigns/{campaign_id}/status"
    try:
        body = _post_as(engine, None, url, "status", method="GET")
    except OutdialError as exc:  # the server is elsewhere or refuses: what is stored
        stored["live_error"] = str(exc)
        return stored
    live: dict[str, Any] = body.get("campaign") or stored
    return live


def _snapshot_lines(snap: dict[str, Any]) -> list[str]:
    """The runner's snapshot in words (dialer/snapshot.py)."""
    lines = [f"  pacer now: {snap['pacer_words']}"]
    for a in snap["agents_live"]:
        extra = f" ({a['pause_reason']})" if a.get("pause_reason") else ""
        lines.append(f"  agent {a['agent_id']}: {a['state']}{extra} for {a['since_seconds']} s")
    ab = snap["abandon_live"]
    if ab["pacer_gauge"] is not None:
        lines.append(
            f"  abandon (pacer): {ab['pacer_gauge']:.2%}, target {ab['target']:.0%}, "
            f"cap {ab['cap']:.0%}"
        )
    lines.append(f"  leads being claimed: {snap['claims_pending']}")
    if snap.get("failures"):
        lines.append("  SIP failures: " + _pairs(snap["failures"]))
    return lines


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"


def register(group: click.Group) -> None:
    """Add ``campaign status`` to the ``outdial`` group (creating ``campaign`` if needed)."""
    from outdial.cli import emit, json_option, pass_ctx

    campaign = group.commands.get("campaign")
    if not isinstance(campaign, click.Group):

        @group.group("campaign")
        def campaign_group() -> None:
            """A running campaign's dialing status."""

        campaign = campaign_group

    @campaign.command("status")
    @click.argument("name")
    @json_option
    @pass_ctx
    def status_command(ctx: Any, name: str, as_json: bool) -> None:
        """Attempts, agents, abandon gauge and the pacer's last decisions (by name or id)."""
        from campaigns import store

        engine = ctx.migrated_engine()
        camp = store.resolve(engine, name)
        assert camp.id is not None
        emit(as_json, _live_or_stored(ctx, engine, camp.id), _human)

    for action in ("start", "pause", "stop"):
        campaign.add_command(_control_command(action))


def _control_command(action: str) -> click.Command:
    from outdial.cli import emit, json_option, pass_ctx

    @click.command(
        action,
        help=f"""{action.capitalize()} dialing in the running `outdial serve`.

        Like every other command, this needs only the database (the data directory or
        OUTDIAL_DATABASE_URL), no API token: the engine lives in the server, so the command
        makes a one-use API token for an admin (--as USER), calls the server with it and
        revokes it at once. --token (or OUTDIAL_TOKEN) uses your own token instead, e.g.
        from a machine without access to the database.""",
    )
    @click.argument("name")
    @click.option("--server", default=None, help="Server URL (default http://OUTDIAL_HOST:PORT).")
    @click.option("--token", default=None, help="Use this API token (or OUTDIAL_TOKEN).")
    @click.option(
        "--as", "as_user", default=None, help="Admin or manager to act as (default: an admin)."
    )
    @json_option
    @pass_ctx
    def control(
        ctx: Any,
        name: str,
        server: str | None,
        token: str | None,
        as_user: str | None,
        as_json: bool,
    ) -> None:
        from campaigns import store

        cfg = ctx.config()
        engine = ctx.migrated_engine(cfg)
        camp = store.resolve(engine, name)
        url = (server or f"http://{cfg.host}:{cfg.port}").rstrip("/")
        target = f"{url}/api/campaigns/{camp.id}/{action}"
        given = token or os.environ.get("OUTDIAL_TOKEN", "")
        body = _post(target, given) if given else _post_as(engine, as_user, target, action)
        emit(as_json, body, lambda d: f"campaign {name}: {d['campaign'].get('status', action)}")

    return control


def _post_as(
    engine: Any, as_user: str | None, url: str, action: str, method: str = "POST"
) -> dict[str, Any]:
    """POST with a token made for this one call and revoked right after (issue 16.10)."""
    from outdial import auth
    from outdial.errors import NotFound
    from outdial.roles import Role

    allowed = {Role.ADMIN.value, Role.MANAGER.value}
    users = [u for u in auth.list_users(engine) if not u.disabled and u.role in allowed]
    if as_user is not None:
        users = [u for u in users if u.username == as_user]
    users.sort(key=lambda u: (u.role != Role.ADMIN.value, u.id))
    if not users:
        raise NotFound(
            f"no enabled admin or manager{f' {as_user}' if as_user else ''} to act as;"
            " give --as USER or --token",
            user=as_user,
        )
    row, secret = auth.create_token(
        engine, users[0].username, f"{auth.ONE_SHOT_PREFIX}campaign {action}"
    )
    try:
        return _post(url, secret, method)
    finally:
        auth.revoke_token(engine, row.id or 0)


def _post(url: str, token: str, method: str = "POST") -> dict[str, Any]:
    """POST (or GET) to the server's API; its one-line JSON error becomes ours."""
    from outdial.errors import RemoteError

    req = urllib.request.Request(
        url,
        data=b"{}" if method == "POST" else None,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            data: dict[str, Any] = json.load(resp)
            return data
    except urllib.error.HTTPError as exc:
        try:
            message = json.load(exc).get("message", exc.reason)
        except ValueError:
            message = exc.reason
        raise RemoteError(f"the server refused: {message}", status=exc.code) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise RemoteError(f"cannot reach outdial at {url}: {exc}") from exc
