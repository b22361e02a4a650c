"""What an agent-leg INVITE says about itself: its From identity and auto-answer hints.

Phones tell concurrent calls apart by their From (Linphone refuses a second call from
the same address with 486, issue 12), so each agent leg gets its own user part and a
display name with the campaign's name and the customer's masked number. Auto-answer
hints come in the forms phones act on; which ones are sent is configurable
(``OUTDIAL_SIP_AUTO_ANSWER``, per agent through ``ConnectAgent.auto_answer``). The
softphone must still allow auto-answer (baresip ``answermode auto``, Linphone's
auto-answer setting); the hints only ask.
"""

from __future__ import annotations

import re

#: form name -> (header, value); ``{host}`` is our SIP host.
AUTO_ANSWER_HEADERS: dict[str, tuple[str, str]] = {
    # RFC 3261 20.9 Call-Info needs a URI; answer-after=0 is Polycom/Yealink/Snom/Linphone.
    "call-info": ("Call-Info", "<sip:{host}>;answer-after=0"),
    # Cisco/Grandstream/Yealink/FreePBX form.
    "alert-info": ("Alert-Info", "<http://127.0.0.1/>;info=alert-autoanswer"),
    # The "intercom" variant some Polycom and Grandstream firmware expect.
    "alert-info-intercom": ("Alert-Info", "<http://127.0.0.1/>;info=intercom"),
    # RFC 5373.
    "answer-mode": ("Answer-Mode", "Auto"),
}
DEFAULT_AUTO_ANSWER = ("call-info", "alert-info")

_USER_SAFE = re.compile(r"[^A-Za-z0-9._~-]")
_DISPLAY_UNSAFE = re.compile(r'["\\\r\n<>]')


def auto_answer_headers(forms: tuple[str, ...], host: str) -> tuple[tuple[str, str], ...]:
    """The headers for ``forms`` (unknown names are skipped; config validates them)."""
    out = []
    for form in forms:
        if form in AUTO_ANSWER_HEADERS:
            name, value = AUTO_ANSWER_HEADERS[form]
            out.append((name, value.format(host=host)))
    return tuple(out)


def mask_number(target: str) -> str:
    """The customer's number with all but its last four digits hidden."""
    digits = re.sub(r"\D", "", target.split("@", 1)[0])
    return "…" + digits[-4:] if digits else ""


def agent_from(call_id: str, customer: str, display: str, host: str) -> str:
    """A From for the agent leg of ``call_id``: unique user part, readable display name."""
    user = "outdial-" + (_USER_SAFE.sub("-", call_id)[:40] or "call")
    shown = " ".join(p for p in (display or "outdial", mask_number(customer)) if p)
    shown = _DISPLAY_UNSAFE.sub("", shown)
    return f'"{shown}" <sip:{user}@{host}>'
