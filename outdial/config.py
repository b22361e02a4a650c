"""Configuration: environment variables, optionally a TOML file.

Precedence, highest first: environment variables, the TOML file named by
``OUTDIAL_CONFIG`` (keys are the variable names without the ``OUTDIAL_``
prefix, in lower case), the user's own file (``~/.config/outdial/config.toml``,
``$XDG_CONFIG_HOME`` honoured), then the defaults below. The README's
configuration table lists every setting; ``SETTINGS`` here is its single source.

The data directory is found the way git finds its repository (issue 16.10): unless
it is given (``--data-dir``, ``OUTDIAL_DATA_DIR``, ``data_dir`` in ``OUTDIAL_CONFIG``),
the current directory and each parent are searched for ``var/outdial.db``; then the
user's file's ``data_dir``; then ``./var``. :func:`locate` says what was chosen and
where it looked.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from outdial.errors import ConfigError


@dataclass(frozen=True)
class Setting:
    """One documented setting."""

    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "./var", "Directory for the embedded database, recordings and uploads."),
    Setting(
        "database_url",
        "",
        "SQLAlchemy URL; empty means SQLite at DATA_DIR/outdial.db. "
        "PostgreSQL: postgresql+psycopg://user:pass@host:5432/db",
    ),
    Setting("host", "127.0.0.1", "Address `outdial serve` listens on."),
    Setting("port", "8080", "Port `outdial serve` listens on."),
    Setting("log_format", "auto", "`console`, `json`, or `auto` (console on a terminal)."),
    Setting("log_level", "info", "debug, info, warning, error."),
    Setting("admin_password", "", "Password of the first admin (else generated and printed once)."),
    Setting("session_hours", "12", "Lifetime of a login session cookie, in hours."),
    Setting("secure_cookies", "false", "Mark cookies Secure (set true behind HTTPS)."),
    Setting("max_upload_mb", "200", "Largest accepted upload (call lists, prompts), in MB."),
    Setting("sip_trunk", "", "SIP trunk for E.164 calls, host[:port] (empty: none)."),
    Setting(
        "sim_carrier",
        "auto",
        "`auto`: with no sip_trunk, `outdial serve` starts the simulated carrier (no real "
        "calls); `off`: never. `on` is what a running server with the simulator reports.",
    ),
    Setting("sim_scenario", "", "Scenario file for the simulated carrier (sip/sim_scenario.json)."),
    Setting("sip_trunk_user", "", "Digest user name for the trunk."),
    Setting("sip_trunk_password", "", "Digest password for the trunk."),
    Setting("sip_bind_host", "127.0.0.1", "Address the SIP workers bind to."),
    Setting(
        "sip_calls_per_worker",
        "32",
        "Customer calls per SIP worker process, each with its agent leg (lowered to what the "
        "pjsua2 module holds).",
    ),
    Setting(
        "rtp_ports",
        "20000-39999",
        "Media (RTP/RTCP) ports of the SIP workers, FIRST-LAST; each worker takes its own "
        "block (4 per call slot + 16). Give each outdial process on a machine its own range.",
    ),
    Setting(
        "sip_auto_answer",
        "call-info,alert-info",
        "Auto-answer hints on agent-leg INVITEs: comma-separated call-info, alert-info, "
        "alert-info-intercom, answer-mode, or none.",
    ),
    Setting(
        "pjproject_tarball",
        "",
        "Path or URL of pjproject-2.15.1.tar.xz for the pjsua2 build (scripts/build_pjsua2.py);"
        " empty: ../shared/vendor/ beside the project, then /work/shared/vendor/.",
    ),
    Setting("build_cache", "", "Where the pjsua2 build caches its wheel (empty: ~/.cache/outdial)"),
    Setting(
        "sip_max_lines",
        "100",
        "Calls in flight the trunk carries; a campaign without its own dialing.max_lines "
        "dials up to this many.",
    ),
    Setting(
        "owned_numbers",
        "",
        "Comma-separated E.164 caller IDs the company owns; a campaign may only present one of "
        "these (rules 11, 23, 27). Empty: none, so no campaign can start.",
    ),
    Setting(
        "webhook_secrets_file",
        "",
        'TOML file of operator-set webhook secrets, `"campaign name" = "secret"`; an entry '
        "wins over the secret outdial generated for that campaign.",
    ),
    Setting("webhook_allow_http", "false", "Allow plain http:// webhook targets (else https)."),
    Setting(
        "webhook_allow_private",
        "false",
        "Allow webhook targets on loopback, private, link-local or other non-public addresses.",
    ),
    Setting(
        "alert_webhook_url",
        "",
        "URL that receives a signed JSON POST when a KPI alert fires (empty: none); the "
        "webhook_allow_http and webhook_allow_private settings apply to it.",
    ),
    Setting(
        "alert_webhook_secret",
        "",
        "HMAC-SHA256 key that signs alert webhooks (required with alert_webhook_url).",
    ),
    Setting(
        "recording_retention_days",
        "90",
        "Call recordings older than this many days are deleted daily (0: keep them all); "
        "recordings of calls awaiting review or under an open evaluation or dispute are kept.",
    ),
    Setting("max_json_kb", "1024", "Largest accepted JSON request body, in KB."),
    Setting(
        "monitor_roles",
        "manager,qa",
        "Roles that may listen to, whisper into and barge into live calls (admins always "
        "may): comma-separated manager, qa, or none.",
    ),
    Setting(
        "monitor_notice",
        "true",
        "Agents' desks say that calls may be monitored (never who listens, or when); false: "
        "no notice, as local policy wants.",
    ),
    Setting(
        "profiles_dir",
        "",
        "Directory of extra compliance profiles (NAME.json), used by name next to us|uk|cn|eu.",
    ),
)


@dataclass(frozen=True)
class Config:
    """Validated settings. Build with :func:`load`."""

    data_dir: Path
    database_url: str
    host: str
    port: int
    log_format: str
    log_level: str
    admin_password: str
    session_hours: float
    secure_cookies: bool
    max_upload_mb: int
    sip_trunk: str
    sip_trunk_user: str
    sip_trunk_password: str
    sip_bind_host: str
    sip_calls_per_worker: int
    sip_auto_answer: tuple[str, ...]
    pjproject_tarball: str
    build_cache: str
    sip_max_lines: int
    owned_numbers: tuple[str, ...]
    webhook_secrets_file: Path | None = None
    webhook_allow_http: bool = False
    webhook_allow_private: bool = False
    max_json_kb: int = 1024
    alert_webhook_url: str = ""
    alert_webhook_secret: str = ""
    recording_retention_days: int = 90
    profiles_dir: Path | None = None
    sim_carrier: str = "auto"
    sim_scenario: str = ""
    monitor_roles: tuple[str, ...] = ("manager", "qa")
    monitor_notice: bool = True
    rtp_ports: tuple[int, int] = (20000, 39999)

    @property
    def simulated(self) -> bool:
        """A simulated carrier answers this server's calls (no real calls are made)."""
        return self.sim_carrier == "on"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def max_json_bytes(self) -> int:
        return self.max_json_kb * 1024


DB_MARKER = Path("var") / "outdial.db"


@dataclass(frozen=True)
class DataDirChoice:
    """Which data directory, why, and every place looked at before choosing it."""

    path: Path
    how: str
    looked: tuple[str, ...]

    def explain(self) -> str:
        return f"data directory {self.path} ({self.how}); looked at: {', '.join(self.looked)}"


def user_config_path(env: Mapping[str, str]) -> Path | None:
    """``$XDG_CONFIG_HOME/outdial/config.toml``, else ``$HOME/.config/outdial/config.toml``."""
    base = env.get("XDG_CONFIG_HOME") or (
        str(Path(env["HOME"]) / ".config") if env.get("HOME") else ""
    )
    return Path(base) / "outdial" / "config.toml" if base else None


def _layers(env: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """(user file's settings, OUTDIAL_CONFIG's settings, what was looked at)."""
    looked: list[str] = []
    user: dict[str, str] = {}
    path = user_config_path(env)
    if path is not None:
        looked.append(f"{path} ({'read' if path.is_file() else 'absent'})")
        if path.is_file():
            user = _read_toml(path)
    named = env.get("OUTDIAL_CONFIG")
    return user, _read_toml(Path(named)) if named else {}, looked


def locate(
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    data_dir: str | None = None,
) -> DataDirChoice:
    """The data directory the commands use, and where it was looked for (issue 16.10)."""
    env = os.environ if environ is None else environ
    user, named, looked = _layers(env)
    if data_dir is not None:
        return DataDirChoice(Path(data_dir).expanduser(), "--data-dir", ())
    if env.get("OUTDIAL_DATA_DIR") is not None:
        return DataDirChoice(Path(env["OUTDIAL_DATA_DIR"]).expanduser(), "OUTDIAL_DATA_DIR", ())
    if "data_dir" in named:
        how = f"data_dir in {env['OUTDIAL_CONFIG']}"
        return DataDirChoice(Path(named["data_dir"]).expanduser(), how, ())
    start = (cwd or Path.cwd()).absolute()
    walked = []
    for folder in (start, *start.parents):
        walked.append(str(folder / DB_MARKER))
        if (folder / DB_MARKER).is_file():
            found = Path("./var") if folder == start else folder / "var"
            return DataDirChoice(found, f"found {folder / DB_MARKER}", tuple(walked))
    looked = walked + looked
    if "data_dir" in user:
        how = f"data_dir in {user_config_path(env)}"
        return DataDirChoice(Path(user["data_dir"]).expanduser(), how, tuple(looked))
    return DataDirChoice(Path("./var"), "the default, ./var", tuple(looked))


def load(
    environ: Mapping[str, str] | None = None, cwd: Path | None = None, **overrides: Any
) -> Config:
    """Read the configuration; raise :class:`ConfigError` naming a bad value."""
    env = os.environ if environ is None else environ
    raw: dict[str, str] = {s.name: s.default for s in SETTINGS}
    user, named, _ = _layers(env)
    raw.update(user)
    raw.update(named)
    for s in SETTINGS:
        value = env.get("OUTDIAL_" + s.name.upper())
        if value is not None:
            raw[s.name] = value
    raw.update({k: str(v) for k, v in overrides.items() if v is not None})
    raw["data_dir"] = str(locate(env, cwd, overrides.get("data_dir")).path)
    return _validate(raw)


def _read_toml(path: Path) -> dict[str, str]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}", path=str(path)) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}", path=str(path)) from exc
    known = {s.name for s in SETTINGS}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown setting(s) in {path}: {', '.join(unknown)}", path=str(path))
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in data.items()}


def _validate(raw: dict[str, str]) -> Config:
    data_dir = Path(raw["data_dir"]).expanduser()
    port = _int(raw, "port", 1, 65535)
    log_format = raw["log_format"].lower()
    if log_format not in {"auto", "console", "json"}:
        raise ConfigError(f"OUTDIAL_LOG_FORMAT must be auto, console or json, not {log_format!r}")
    log_level = raw["log_level"].lower()
    if log_level not in {"debug", "info", "warning", "error"}:
        raise ConfigError(f"OUTDIAL_LOG_LEVEL must be debug, info, warning or error: {log_level!r}")
    try:
        session_hours = float(raw["session_hours"])
    except ValueError as exc:
        raise ConfigError(
            f"OUTDIAL_SESSION_HOURS is not a number: {raw['session_hours']!r}"
        ) from exc
    if session_hours <= 0:
        raise ConfigError("OUTDIAL_SESSION_HOURS must be positive")
    secure = raw["secure_cookies"].lower()
    if secure not in {"true", "false", "1", "0", "yes", "no"}:
        raise ConfigError(f"OUTDIAL_SECURE_COOKIES must be true or false, not {secure!r}")
    cfg = Config(
        data_dir=data_dir,
        database_url=raw["database_url"].strip(),
        host=raw["host"],
        port=port,
        log_format=log_format,
        log_level=log_level,
        admin_password=raw["admin_password"],
        session_hours=session_hours,
        secure_cookies=secure in {"true", "1", "yes"},
        max_upload_mb=_int(raw, "max_upload_mb", 1, 100_000),
        sip_trunk=raw["sip_trunk"].strip(),
        sip_trunk_user=raw["sip_trunk_user"],
        sip_trunk_password=raw["sip_trunk_password"],
        sip_bind_host=raw["sip_bind_host"].strip() or "127.0.0.1",
        sip_calls_per_worker=_int(raw, "sip_calls_per_worker", 1, 1000),
        sip_auto_answer=_auto_answer(raw["sip_auto_answer"]),
        pjproject_tarball=raw["pjproject_tarball"].strip(),
        build_cache=raw["build_cache"].strip(),
        sip_max_lines=_int(raw, "sip_max_lines", 1, 10_000),
        owned_numbers=_numbers(raw["owned_numbers"]),
        webhook_secrets_file=_path(raw["webhook_secrets_file"]),
        webhook_allow_http=_bool(raw, "webhook_allow_http"),
        webhook_allow_private=_bool(raw, "webhook_allow_private"),
        max_json_kb=_int(raw, "max_json_kb", 1, 1_000_000),
        alert_webhook_url=raw["alert_webhook_url"].strip(),
        alert_webhook_secret=raw["alert_webhook_secret"],
        recording_retention_days=_int(raw, "recording_retention_days", 0, 36_500),
        profiles_dir=_path(raw["profiles_dir"]),
        sim_carrier=_sim_carrier(raw["sim_carrier"]),
        sim_scenario=raw["sim_scenario"].strip(),
        monitor_roles=_monitor_roles(raw["monitor_roles"]),
        monitor_notice=_bool(raw, "monitor_notice"),
        rtp_ports=_rtp_ports(raw["rtp_ports"]),
    )
    if cfg.alert_webhook_url and not cfg.alert_webhook_secret:
        raise ConfigError(
            "OUTDIAL_ALERT_WEBHOOK_URL needs OUTDIAL_ALERT_WEBHOOK_SECRET to sign with"
        )
    assert {f.name for f in fields(cfg)} == {s.name for s in SETTINGS}
    return cfg


def _sim_carrier(text: str) -> str:
    value = text.strip().lower() or "auto"
    if value not in {"auto", "off", "on"}:
        raise ConfigError(f"OUTDIAL_SIM_CARRIER must be auto or off, not {text!r}")
    return value


AUTO_ANSWER_FORMS = ("call-info", "alert-info", "alert-info-intercom", "answer-mode")


def _auto_answer(text: str) -> tuple[str, ...]:
    forms = tuple(f.strip().lower() for f in text.split(",") if f.strip())
    if forms in {(), ("none",)}:
        return ()
    bad = [f for f in forms if f not in AUTO_ANSWER_FORMS]
    if bad:
        raise ConfigError(
            f"OUTDIAL_SIP_AUTO_ANSWER: unknown form(s) {bad}; use {', '.join(AUTO_ANSWER_FORMS)}"
            " or none"
        )
    return forms


def _monitor_roles(text: str) -> tuple[str, ...]:
    roles = tuple(r.strip().lower() for r in text.split(",") if r.strip())
    if roles in {(), ("none",)}:
        return ()
    bad = [r for r in roles if r not in {"manager", "qa", "admin"}]
    if bad:
        raise ConfigError(f"OUTDIAL_MONITOR_ROLES: unknown role(s) {bad}; use manager, qa or none")
    return roles


def _rtp_ports(text: str) -> tuple[int, int]:
    from sip.rtp_ports import parse_rtp_ports  # its SipConfigError is a ConfigError

    return parse_rtp_ports(text)


def _path(text: str) -> Path | None:
    return Path(text.strip()).expanduser() if text.strip() else None


def _bool(raw: dict[str, str], name: str) -> bool:
    value = raw[name].strip().lower()
    if value not in {"true", "false", "1", "0", "yes", "no"}:
        raise ConfigError(f"OUTDIAL_{name.upper()} must be true or false, not {value!r}")
    return value in {"true", "1", "yes"}


def _numbers(text: str) -> tuple[str, ...]:
    numbers = tuple(n.strip() for n in text.split(",") if n.strip())
    for n in numbers:
        if not (n.startswith("+") and n[1:].isdigit() and 8 <= len(n) <= 16):
            raise ConfigError(f"OUTDIAL_OWNED_NUMBERS: {n!r} is not an E.164 number")
    return numbers


def _int(raw: dict[str, str], name: str, low: int, high: int) -> int:
    try:
        value = int(raw[name])
    except ValueError as exc:
        raise ConfigError(f"OUTDIAL_{name.upper()} is not a whole number: {raw[name]!r}") from exc
    if not low <= value <= high:
        raise ConfigError(f"OUTDIAL_{name.upper()} must be between {low} and {high}, not {value}")
    return value
