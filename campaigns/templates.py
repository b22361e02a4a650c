"""Commented campaign definitions to start from, pure (issue 16.2).

``outdial campaigns new --kind return_visit > spring.toml`` prints one of these: every key a
definition may hold, with the seeds' habits (a weekday schedule, Chinese dispositions), each
line saying what it does. A test loads every kind in every allowed mode through the parser and
the JSON Schema, so a template can never show a key the parser would refuse.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from campaigns import dialing, rules


@dataclass(frozen=True)
class Template:
    kind: rules.Kind  # what ``kind`` the definition holds
    mode: rules.Mode  # the default mode for this template
    name: str
    purpose: str
    script: str
    dispositions: tuple[rules.Disposition, ...]
    extra: tuple[tuple[str, str, str], ...] = ()  # (key, TOML value, comment)


_CALLBACK = rules.Disposition("callback", "预约回呼 / Call back", callback=True)
_DNC = rules.Disposition("do_not_call", "勿扰 / Do not call", do_not_call=True, final=True)
_WRONG = rules.Disposition("wrong_number", "错号 / Wrong number", contact=False, final=True)

TEMPLATES: Mapping[str, Template] = {
    "return_visit": Template(
        rules.Kind.RETURN_VISIT,
        rules.Mode.PROGRESSIVE,
        "回访 (return visits)",
        "service",
        "您好，{name}，我是回访专员。您于{happened_at}的{subject}，请问您对服务满意吗？",
        (
            rules.Disposition("satisfied", "满意 / Satisfied", success=True, final=True),
            rules.Disposition("follow_up", "有问题需跟进 / Needs follow-up", final=True),
            _CALLBACK,
            _DNC,
            _WRONG,
        ),
        (
            ("return_visit_delay_days", "3", "days after the delivery or repair"),
            ("survey", '""', "a survey to attach, e.g. the seeds' six questions"),
        ),
    ),
    "order_verification": Template(
        rules.Kind.ORDER_VERIFICATION,
        rules.Mode.PROGRESSIVE,
        "核单 (order verification)",
        "service",
        "您好，{name}，这里是客服中心。跟您核对一下订单{order_id}：收货地址{address}，"
        "付款方式{payment}，送货时间{delivery_time}，对吗？",
        (
            rules.Disposition("confirmed", "确认 / Confirmed", success=True, final=True),
            rules.Disposition("changed", "修改 / Changed", success=True, final=True),
            rules.Disposition("cancelled", "取消 / Cancelled", final=True),
            _CALLBACK,
            _DNC,
            _WRONG,
        ),
        (
            (
                "webhook_url",
                '"https://orders.example.com/hooks/outdial"',
                "verdicts are POSTed here",
            ),
        ),
    ),
    "survey": Template(
        rules.Kind.SATISFACTION_SURVEY,
        rules.Mode.AGENTLESS,
        "满意度调查 (satisfaction survey)",
        "service",
        "您好，{name}，耽误您一分钟做个满意度调查。",
        (
            rules.Disposition("completed", "完成 / Completed", success=True, final=True),
            rules.Disposition("refused", "拒访 / Refused", final=True),
            _CALLBACK,
            _DNC,
            _WRONG,
        ),
        (("survey", '""', 'empty: the seeds\' six questions ("outdial surveys list")'),),
    ),
    "callback": Template(
        rules.Kind.GENERIC,  # promised callbacks: no kind of their own, the generic rules
        rules.Mode.PREVIEW,
        "回拨 (callbacks)",
        "service",
        "您好，{name}，您之前预约了今天回电，我是客服。",
        (
            rules.Disposition("resolved", "已解决 / Resolved", success=True, final=True),
            rules.Disposition("unresolved", "未解决 / Not resolved", final=True),
            _CALLBACK,
            _DNC,
            _WRONG,
        ),
        (("callback_team_delay_minutes", "15", "minutes before a team callback goes to anyone"),),
    ),
}
KINDS: Sequence[str] = tuple(TEMPLATES)


def _s(text: str) -> str:
    """A TOML basic string (JSON escapes are valid TOML)."""
    return json.dumps(text, ensure_ascii=False)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _s(value)
    return str(value)


def render(kind: str, mode: str | None = None) -> str:
    """The commented TOML definition for ``kind`` (a key of :data:`TEMPLATES`)."""
    t = TEMPLATES[kind]
    m = rules.Mode(mode) if mode else t.mode
    lines = [
        f"# outdial campaign: {kind}. Edit, then: outdial campaigns load FILE",
        "# Every key: outdial campaigns schema (JSON Schema). Unknown keys are refused.",
        f"name = {_s(t.name)}",
        f'kind = "{t.kind.value}"',
        f'mode = "{m.value}"            # preview | progressive | predictive | agentless',
        f'purpose = "{t.purpose}"        # service (own customers) | marketing (needs consent)',
        'region = "CN"                # compliance profile: CN, US, UK, EU',
        'timezone = "Asia/Shanghai"   # the schedule below is in this zone',
        'caller_id = "+861012345678"  # must be one of OUTDIAL_OWNED_NUMBERS (rules 11, 23, 27)',
        "# active_from = 2026-03-01   # optional first and last day",
        "# active_until = 2026-06-30",
        'callback_hours = "09:00-20:00"  # when a customer may ask to be called back',
        'safe_harbor_prompt = "safe_harbor"  # outdial prompts add FILE --name safe_harbor',
    ]
    lines += [f"{key} = {value}  # {comment}" for key, value, comment in t.extra]
    lines += [
        "# script: {field} is filled from the record: {name}, {order_id}, {address}, {number}",
        "# and every column of the list by its header, e.g. {商品}; return visits pushed with",
        "# POST /api/return-visits also have {happened_at} and {subject}. A field the record",
        "# lacks shows as [missing: field] on the agent's screen.",
        f"script = {_s(t.script)}",
        "",
        _dialing_block(m),
    ]
    lines += [
        "",
        "[schedule]  # campaign zone; HH:MM-HH:MM spans; a day left out is not dialed",
        *(f'{d} = ["09:00-12:00", "14:00-18:00"]' for d in rules.DAYS[:5]),
        "",
        "[retry]  # minutes before a record is dialed again, by outcome",
        *(f"{o} = {s // 60}" for o, s in rules.DEFAULT_RETRY_SECONDS.items()),
        '# bad_number = 1440  # carrier said "not in service": not redialed unless set',
        f"max_attempts = {rules.DEFAULT_MAX_ATTEMPTS}",
    ]
    for d in t.dispositions:
        lines += ["", "[[dispositions]]", f"code = {_s(d.code)}", f"label = {_s(d.label)}"]
        for flag in ("contact", "success", "callback", "do_not_call", "final"):
            default = flag == "contact"
            if getattr(d, flag) != default:
                lines.append(f"{flag} = {_value(getattr(d, flag))}")
    lines += ["", "# the agent's pause menu (a pause needs one of these codes); the defaults:"]
    for r in rules.DEFAULT_PAUSE_REASONS:
        lines += ["[[pause_reasons]]", f"code = {_s(r.code)}", f"label = {_s(r.label)}"]
    return "\n".join(lines) + "\n"


def _dialing_block(mode: rules.Mode) -> str:
    spec = dialing.DialingSpec()
    values = dialing.dialing_to_dict(spec)
    out = ["[dialing]  # every key optional; the values below are the defaults"]
    for f in dialing.FIELDS:
        if f.key == "max_lines":
            out.append(f"# max_lines = {f.example}  # {f.doc}")
            continue
        value = values[f.key]
        if f.key == "preview_auto_dial_seconds" and mode is not rules.Mode.PREVIEW:
            out.append(f"# {f.key} = {_value(value)}  # {f.doc}")
            continue
        out.append(f"{f.key} = {_value(value)}  # {f.doc}")
    return "\n".join(out)
