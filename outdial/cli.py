"""The `outdial` command.

Every command that prints a result takes ``--json``. Errors outdial raises on
purpose print one line (``outdial: error: ...``) and exit with status 2; an
unexpected bug prints one line and a pointer to ``--debug``.
"""

from __future__ import annotations

import importlib
import json
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click
import structlog

from outdial import __version__, auth, logs, migrate, storage
from outdial.config import Config, DataDirChoice, load, locate
from outdial.errors import DataDirMissing, OutdialError
from outdial.roles import Role

#: modules that add commands through ``register(group)``
COMMAND_MODULES = (
    "lists.cli",
    "compliance.cli",
    "dialer.cli",
    "campaigns.cli",
    "campaigns.cli_prompts",
    "sip.cli",
    "reports.cli",
)


@dataclass
class Ctx:
    debug: bool
    config_overrides: dict[str, Any]

    def config(self, **extra: Any) -> Config:
        return load(**{**self.config_overrides, **extra})

    def engine(self, cfg: Config | None = None, create_dir: bool = False) -> Any:
        cfg = cfg or self.config()
        if not cfg.database_url:
            try:
                storage.ensure_data_dir(cfg, create=create_dir)
            except DataDirMissing as exc:  # issue 16.10: say where we looked, as git does
                where = self.where()
                raise DataDirMissing(
                    f"no data directory: {cfg.data_dir} ({where.how}) does not exist; looked at "
                    f"{', '.join(where.looked) or 'nothing else'}. Run `outdial db upgrade` to "
                    "create ./var here, or give --data-dir or OUTDIAL_DATA_DIR",
                    path=str(cfg.data_dir),
                    looked=list(where.looked),
                ) from exc
        engine = storage.make_engine(storage.database_url(cfg))
        storage.check_reachable(engine)
        return engine

    def where(self) -> DataDirChoice:
        """The data directory these commands use and how it was found."""
        return locate(data_dir=self.config_overrides.get("data_dir"))

    def migrated_engine(self, cfg: Config | None = None) -> Any:
        """An engine on a database whose schema is current; nothing is written otherwise."""
        engine = self.engine(cfg)
        migrate.require_current(engine)
        return engine


pass_ctx = click.make_pass_decorator(Ctx)


def emit(as_json: bool, data: Any, human: Callable[[Any], str] | str) -> None:
    """Print a command's result: JSON for scripts, text for people."""
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(human(data) if callable(human) else human)


json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="outdial")
@click.option("--debug", is_flag=True, help="Show full tracebacks for unexpected errors.")
@click.option("--database-url", default=None, help="Override OUTDIAL_DATABASE_URL.")
@click.option(
    "--data-dir",
    default=None,
    help="Override OUTDIAL_DATA_DIR. Without either, the nearest var/outdial.db in this "
    "directory or a parent is used (as git finds its repository), else data_dir in "
    "~/.config/outdial/config.toml, else ./var; `outdial db status` says which.",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, database_url: str | None, data_dir: str | None) -> None:
    """outdial: outbound dialer and callback campaign engine."""
    ctx.obj = Ctx(
        debug=debug, config_overrides={"database_url": database_url, "data_dir": data_dir}
    )


# --- serve ----------------------------------------------------------------------------------


@cli.command()
@click.option("--host", default=None, help="Listen address (default OUTDIAL_HOST or 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Listen port (default OUTDIAL_PORT or 8080).")
@pass_ctx
def serve(ctx: Ctx, host: str | None, port: int | None) -> None:
    """Start the HTTP server (API, pages, WebSockets)."""
    from outdial import server

    cfg = ctx.config(host=host, port=port)
    logs.configure(cfg.log_format, cfg.log_level)
    engine = ctx.migrated_engine(cfg)
    _bootstrap_admin(engine, cfg)
    server.run(cfg, engine)


@cli.command()
@click.option("--reset", is_flag=True, help="Remove the sample campaigns and simulated agents.")
@click.option("--rows", default=30, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--agents", default=10, show_default=True, type=click.IntRange(1, 500))
@json_option
@pass_ctx
def demo(ctx: Ctx, reset: bool, rows: int, agents: int, as_json: bool) -> None:
    """Sample campaigns (回访, 核单, 满意度调查) and ten simulated agents for the simulated
    carrier; `outdial serve` without OUTDIAL_SIP_TRUNK dials them (no real calls)."""
    from outdial import demo as sample

    cfg = ctx.config()
    engine = ctx.migrated_engine(cfg)
    if reset:
        gone = sample.reset(engine)
        emit(
            as_json,
            gone,
            lambda d: f"removed {d['campaigns']} sample campaign(s), {d['agents']} agent(s)",
        )
        return
    emit(as_json, sample.create(engine, cfg, rows=rows, agents=agents), sample.describe)


def _bootstrap_admin(engine: Any, cfg: Config) -> None:
    """The first start creates user `admin`; a generated password is printed this once.

    "First" means no admin yet, not no user yet: agents added with `outdial users add` before
    the first `outdial serve` must not leave the server without anyone who can manage it."""
    users = auth.list_users(engine)
    if any(u.role == Role.ADMIN.value for u in users):
        return
    if any(u.username == "admin" for u in users):
        click.echo(
            "outdial: no admin user, and the name 'admin' is taken: create one with "
            "`outdial users add NAME --role admin`",
            err=True,
        )
        return
    password = cfg.admin_password or secrets.token_urlsafe(12)
    auth.create_user(engine, "admin", password, Role.ADMIN, display_name="Administrator")
    if cfg.admin_password:
        click.echo("outdial: created user 'admin' with the password from OUTDIAL_ADMIN_PASSWORD")
    else:
        click.echo(f"outdial: created user 'admin' with password: {password}  (shown once)")


# --- db -------------------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@json_option
@pass_ctx
def db_upgrade(ctx: Ctx, as_json: bool) -> None:
    """Create or migrate the schema to this version (creates the embedded data directory)."""
    engine = ctx.engine(create_dir=True)
    before, after = migrate.upgrade(engine)
    data = {
        "url": engine.url.render_as_string(hide_password=True),
        "before": sorted(before),
        "after": sorted(after),
        "changed": before != after,
    }
    emit(
        as_json,
        data,
        lambda d: (
            f"database at {', '.join(d['after'])}"
            + (" (upgraded)" if d["changed"] else " (already current)")
        ),
    )


@db.command("status")
@json_option
@pass_ctx
def db_status(ctx: Ctx, as_json: bool) -> None:
    """Show the schema revision and whether it is current."""
    engine = ctx.engine()
    have, want = migrate.current_heads(engine), migrate.script_heads(engine)
    where = ctx.where()
    data = {
        "current": sorted(have),
        "expected": sorted(want),
        "up_to_date": migrate.is_current(engine),
        "url": engine.url.render_as_string(hide_password=True),
        "data_dir": str(where.path.absolute()),
        "data_dir_from": where.how,
    }
    emit(
        as_json,
        data,
        lambda d: (
            (
                "up to date"
                if d["up_to_date"]
                else f"behind: at {d['current'] or 'nothing'}, expected {d['expected']}"
            )
            + f"\ndata directory {d['data_dir']} ({d['data_dir_from']})"
        ),
    )


# --- users ----------------------------------------------------------------------------------


@cli.group()
def users() -> None:
    """User accounts and roles."""


def _user_dict(u: Any) -> dict[str, Any]:
    return {
        "id": u.id,
        "username": u.username,
        "role": u.role,
        "disabled": u.disabled,
        "display_name": u.display_name,
        "sip_uri": u.sip_uri,
    }


@users.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--password", default=None, help="Default: read from OUTDIAL_NEW_PASSWORD or prompt.")
@click.option("--display-name", default="")
@click.option("--sip-uri", default="", help="An agent's softphone, e.g. sip:1001@10.0.0.5")
@json_option
@pass_ctx
def users_add(
    ctx: Ctx,
    username: str,
    role: str,
    password: str | None,
    display_name: str,
    sip_uri: str,
    as_json: bool,
) -> None:
    """Create a user."""
    import os

    password = password or os.environ.get("OUTDIAL_NEW_PASSWORD")
    if not password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    engine = ctx.migrated_engine()
    user = auth.create_user(engine, username, password, role, display_name, sip_uri)
    emit(as_json, _user_dict(user), lambda d: f"created {d['role']} {d['username']}")


@users.command("list")
@json_option
@pass_ctx
def users_list(ctx: Ctx, as_json: bool) -> None:
    """List users."""
    rows = [_user_dict(u) for u in auth.list_users(ctx.migrated_engine())]
    emit(
        as_json,
        rows,
        lambda rs: (
            "\n".join(
                f"{r['username']:<20} {r['role']:<9} {'disabled' if r['disabled'] else 'active'}"
                for r in rs
            )
            or "no users"
        ),
    )


@users.command("disable")
@click.argument("username")
@json_option
@pass_ctx
def users_disable(ctx: Ctx, username: str, as_json: bool) -> None:
    """Disable a user; their sessions end at once."""
    user = auth.set_disabled(ctx.migrated_engine(), username, True)
    emit(as_json, _user_dict(user), lambda d: f"disabled {d['username']}")


# --- tokens ---------------------------------------------------------------------------------


@cli.group()
def tokens() -> None:
    """API tokens for integrations."""


@tokens.command("create")
@click.argument("username")
@click.option("--name", default="token", help="What the token is for.")
@json_option
@pass_ctx
def tokens_create(ctx: Ctx, username: str, name: str, as_json: bool) -> None:
    """Create a token for USERNAME; the secret is printed once."""
    token, secret = auth.create_token(ctx.migrated_engine(), username, name)
    emit(
        as_json,
        {"id": token.id, "name": token.name, "username": username, "secret": secret},
        lambda d: f"token {d['id']} for {d['username']}: {d['secret']}  (shown once)",
    )


@tokens.command("list")
@json_option
@pass_ctx
def tokens_list(ctx: Ctx, as_json: bool) -> None:
    """List tokens (never their secrets)."""
    rows = [
        {
            "id": t.id,
            "name": t.name,
            "username": u,
            "prefix": t.prefix,
            "revoked": t.revoked_at is not None,
        }
        for t, u in auth.list_tokens(ctx.migrated_engine())
    ]
    emit(
        as_json,
        rows,
        lambda rs: (
            "\n".join(
                f"{r['id']:>4} {r['username']:<16} {r['name']:<20} {r['prefix']}… "
                f"{'revoked' if r['revoked'] else 'active'}"
                for r in rs
            )
            or "no tokens"
        ),
    )


@tokens.command("revoke")
@click.argument("token_id", type=int)
@json_option
@pass_ctx
def tokens_revoke(ctx: Ctx, token_id: int, as_json: bool) -> None:
    """Revoke a token at once."""
    token = auth.revoke_token(ctx.migrated_engine(), token_id)
    emit(as_json, {"id": token.id, "revoked": True}, lambda d: f"revoked token {d['id']}")


def _register_packages() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(cli)


_register_packages()


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning outdial's errors into one line and exit status 2."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="outdial", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("outdial: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except OutdialError as err:
        click.echo(f"outdial: error: {err}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        structlog.get_logger(__name__).error("unexpected error", error=repr(exc))
        click.echo(
            f"outdial: internal error: {exc.__class__.__name__}: {exc} "
            "(run again with --debug for details)",
            err=True,
        )
        sys.exit(70)
