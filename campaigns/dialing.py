"""The typed dialing section of a campaign definition (issue 11.3), pure.

    mode = "predictive"            # stays at the top level of the definition

    [dialing]
    lines_per_agent = 1.5          # progressive: lines per ready agent
    abandon_target = 0.02          # the pacer aims here (rule 2: throttle at 2 %)
    abandon_cap = 0.03             # hard stop (rules 2, 18: 3 % of live answers)
    max_lines = 200                # calls in flight; absent: the trunk (OUTDIAL_SIP_MAX_LINES)
    max_cps = 10                   # new calls per second
    ring_timeout = 30              # seconds before a no-answer (rules 5, 22: at least 15)
    amd = true                     # answering-machine detection
    amd_deadline = 6.0             # seconds after the answer for its verdict (then: a person)
    amd_sample_share = 0.02        # rule 19: share of machine verdicts still sent to an agent
    machine_action = "leave_message"   # or "hang_up"
    machine_prompt = "voicemail_notice"  # the prompt left on a machine
    preview_auto_dial_seconds = 0  # preview: dial by itself after N s (0: the agent dials)
    wrap_up_limit = 120            # seconds of wrap-up before the agent is reminded (0: none)
    record_calls = true            # record each call for quality review (DATA_DIR/recordings)
    softphone_test = true          # ring the agent's softphone once when they sign in at the desk

One table of :class:`Field` drives the parser, the defaults, the JSON Schema
(campaigns/schema.py) and the README's defaults table, so they cannot disagree.
Unknown keys are refused by name, never dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

#: rules 5, 22: an unanswered call rings at least 15 s
MIN_RING_TIMEOUT = 15
#: rules 2, 18: abandoned calls stay under 3 % of live answers
MAX_ABANDON_CAP = 0.03


class DialingMode(StrEnum):
    """How a campaign dials: the one enum every package uses (issue 11.6)."""

    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"
    AGENTLESS = "agentless"


class MachineAction(StrEnum):
    HANG_UP = "hang_up"
    LEAVE_MESSAGE = "leave_message"


@dataclass(frozen=True)
class Field:
    """One dialing setting: its JSON type, bounds, default and what it means."""

    key: str
    type: str  # JSON Schema type: "integer", "number", "boolean", "string"
    default: object  # None: computed at run time (see ``doc``)
    doc: str
    example: object
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: tuple[str, ...] = ()


FIELDS: tuple[Field, ...] = (
    Field("lines_per_agent", "number", 1.0, "progressive: lines dialed per ready agent", 1.5,
          minimum=1.0, maximum=10.0),
    Field("abandon_target", "number", 0.02, "abandon rate the predictive pacer aims at "
          "(share of live answers, rule 2)", 0.02, minimum=0.0, maximum=MAX_ABANDON_CAP,
          exclusive_minimum=True),
    Field("abandon_cap", "number", MAX_ABANDON_CAP, "abandon rate at which predictive dialing "
          "drops to 1:1 (rules 2, 18); at least abandon_target", 0.03, minimum=0.0,
          maximum=MAX_ABANDON_CAP, exclusive_minimum=True),
    Field("max_lines", "integer", None, "calls in flight at most; absent: the trunk's "
          "capacity, OUTDIAL_SIP_MAX_LINES", 200, minimum=1, maximum=10_000),
    Field("max_cps", "number", 10.0, "new calls per second at most", 10, minimum=0.1,
          maximum=1000.0),
    Field("ring_timeout", "integer", 30, "seconds an unanswered call rings (rules 5, 22: "
          "at least 15)", 30, minimum=MIN_RING_TIMEOUT, maximum=120),
    Field("amd", "boolean", False, "answering-machine detection before an agent is sought",
          True),
    Field("amd_deadline", "number", 6.0, "seconds after the answer by which AMD decides; "
          "undecided is a person (an agent takes it)", 6.0, minimum=1.0, maximum=10.0),
    Field("amd_sample_share", "number", 0.02, "share of machine verdicts still offered to an "
          "agent, who marks person or machine (rule 19: the false-positive estimate)", 0.02,
          minimum=0.0, maximum=0.5),
    Field("machine_action", "string", MachineAction.HANG_UP.value, "on a machine: hang_up, "
          "or leave_message (plays machine_prompt; needs amd)", "hang_up",
          choices=tuple(m.value for m in MachineAction)),
    Field("machine_prompt", "string", "", "prompt name left on a machine "
          "(outdial prompts add ... --name NAME)", "voicemail_notice"),
    Field("preview_auto_dial_seconds", "integer", 0, "preview: seconds before the record on "
          "screen is dialed by itself (0: only the agent dials)", 0, minimum=0, maximum=600),
    Field("wrap_up_limit", "integer", 0, "seconds of wrap-up after which the agent's screen "
          "gets wrap_up_overdue (0: no limit)", 120, minimum=0, maximum=3600),
    Field("record_calls", "boolean", True, "record each call (both sides, mixed) to "
          "DATA_DIR/recordings/<call id>.wav for quality review", True),
    Field("softphone_test", "boolean", True, "a short test call to the agent's softphone "
          "when they sign in at the desk; the page says whether it answered", True),
)  # fmt: skip
BY_KEY: Mapping[str, Field] = {f.key: f for f in FIELDS}


@dataclass(frozen=True)
class DialingSpec:
    """How a campaign dials, beside its ``mode``. ``max_lines`` None: the trunk's capacity."""

    lines_per_agent: float = 1.0
    abandon_target: float = 0.02
    abandon_cap: float = MAX_ABANDON_CAP
    max_lines: int | None = None
    max_cps: float = 10.0
    ring_timeout: int = 30
    amd: bool = False
    amd_deadline: float = 6.0
    amd_sample_share: float = 0.02
    machine_action: MachineAction = MachineAction.HANG_UP
    machine_prompt: str = ""
    preview_auto_dial_seconds: int = 0
    wrap_up_limit: int = 0
    record_calls: bool = True
    softphone_test: bool = True

    def lines(self, trunk_lines: int) -> int:
        """Calls in flight at most: the campaign's own limit, else the trunk's (issue 11.3)."""
        return self.max_lines if self.max_lines is not None else trunk_lines


Problem = tuple[str, str]  # (field path, message)


def _in_bounds(f: Field, value: float) -> bool:
    lo_ok = f.minimum is None or (value > f.minimum if f.exclusive_minimum else value >= f.minimum)
    return lo_ok and (f.maximum is None or value <= f.maximum)


def _bounds(f: Field) -> str:
    lo = "" if f.minimum is None else f"{'above' if f.exclusive_minimum else 'from'} {f.minimum:g}"
    hi = "" if f.maximum is None else f"{'up ' if lo else ''}to {f.maximum:g}"
    return " ".join(x for x in (lo, hi) if x)


def check_value(f: Field, value: object) -> str | None:
    """Why ``value`` is not valid for ``f`` (a message), or None when it is."""
    if f.type == "boolean":
        return None if isinstance(value, bool) else "must be true or false"
    if f.type == "string":
        if not isinstance(value, str):
            return "must be a string"
        if f.choices and value not in f.choices:
            return f"must be one of {', '.join(f.choices)}"
        return None
    is_num = isinstance(value, int | float) and not isinstance(value, bool)
    if (f.type == "integer" and not isinstance(value, int)) or not is_num:
        what = "a whole number" if f.type == "integer" else "a number"
        return f"must be {what} {_bounds(f)}".rstrip()
    assert isinstance(value, int | float)
    if not _in_bounds(f, float(value)):
        return f"must be {_bounds(f)}, not {value}"
    return None


def parse_dialing(value: object, where: str = "dialing") -> tuple[DialingSpec, list[Problem]]:
    """Validate a ``[dialing]`` table; unknown keys are problems that name the key."""
    if value is None:
        return DialingSpec(), []
    if not isinstance(value, Mapping):
        return DialingSpec(), [(where, "dialing is a table of settings such as ring_timeout")]
    problems: list[Problem] = []
    for key in value:
        if str(key) not in BY_KEY:
            problems.append(
                (f"{where}.{key}", f"unknown dialing setting (known: {', '.join(BY_KEY)})")
            )
    got: dict[str, object] = {}
    for f in FIELDS:
        if f.key not in value:
            continue
        error = check_value(f, value[f.key])
        if error:
            problems.append((f"{where}.{f.key}", f"{f.key} {error} (e.g. {f.example!r})"))
        else:
            got[f.key] = value[f.key]
    spec = DialingSpec(
        lines_per_agent=float(_num(got, "lines_per_agent", 1.0)),
        abandon_target=float(_num(got, "abandon_target", 0.02)),
        abandon_cap=float(_num(got, "abandon_cap", MAX_ABANDON_CAP)),
        max_lines=int(_num(got, "max_lines", 0)) if "max_lines" in got else None,
        max_cps=float(_num(got, "max_cps", 10.0)),
        ring_timeout=int(_num(got, "ring_timeout", 30)),
        amd=bool(got.get("amd", False)),
        amd_deadline=float(_num(got, "amd_deadline", 6.0)),
        amd_sample_share=float(_num(got, "amd_sample_share", 0.02)),
        machine_action=MachineAction(str(got.get("machine_action", MachineAction.HANG_UP))),
        machine_prompt=str(got.get("machine_prompt", "")).strip(),
        preview_auto_dial_seconds=int(_num(got, "preview_auto_dial_seconds", 0)),
        wrap_up_limit=int(_num(got, "wrap_up_limit", 0)),
        record_calls=bool(got.get("record_calls", True)),
        softphone_test=bool(got.get("softphone_test", True)),
    )
    if spec.abandon_target > spec.abandon_cap:
        problems.append((f"{where}.abandon_target", "abandon_target is above abandon_cap"))
    if spec.machine_action is MachineAction.LEAVE_MESSAGE:
        if not spec.amd:
            problems.append(
                (f"{where}.machine_action", "leave_message needs amd = true to know a machine")
            )
        if not spec.machine_prompt:
            problems.append(
                (f"{where}.machine_prompt", "leave_message needs machine_prompt, a prompt name")
            )
    return spec, problems


def _num(got: Mapping[str, object], key: str, default: float) -> float:
    value = got.get(key, default)
    return float(value) if isinstance(value, int | float) else default


def dialing_to_dict(spec: DialingSpec) -> dict[str, object]:
    """The TOML/JSON form :func:`parse_dialing` reads back; ``max_lines`` only when set."""
    out: dict[str, object] = {
        "lines_per_agent": spec.lines_per_agent,
        "abandon_target": spec.abandon_target,
        "abandon_cap": spec.abandon_cap,
        "max_cps": spec.max_cps,
        "ring_timeout": spec.ring_timeout,
        "amd": spec.amd,
        "amd_deadline": spec.amd_deadline,
        "amd_sample_share": spec.amd_sample_share,
        "machine_action": spec.machine_action.value,
        "machine_prompt": spec.machine_prompt,
        "preview_auto_dial_seconds": spec.preview_auto_dial_seconds,
        "wrap_up_limit": spec.wrap_up_limit,
        "record_calls": spec.record_calls,
        "softphone_test": spec.softphone_test,
    }
    if spec.max_lines is not None:
        out["max_lines"] = spec.max_lines
    return out


def defaults_table() -> str:
    """The README's table of dialing defaults (a test keeps the README in step)."""
    rows = ["| `[dialing]` key | default | allowed | meaning |", "|---|---|---|---|"]
    for f in FIELDS:
        default = "trunk capacity" if f.default is None else _show(f.default)
        allowed = ", ".join(f.choices) if f.choices else (_bounds(f) or f.type)
        rows.append(f"| `{f.key}` | {default} | {allowed} | {f.doc} |")
    return "\n".join(rows)


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return f'"{value}"' if isinstance(value, str) and value else str(value) or '""'
