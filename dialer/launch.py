"""What must hold before a campaign starts dialing (dialer/runtime.py calls these).

The campaign's prompts are found as files (``outdial prompts add``); compliance's launch
checks refuse an anonymous or foreign caller ID, a short ring timeout or a missing safe-harbor
message (rules 4, 5, 11, 20, 22, 23, 27); the gate refuses a campaign with no record it may
lawfully call (rule 26). Each refusal is a :class:`dialer.errors.CampaignNotReady` naming
the field.
"""

from __future__ import annotations

from pathlib import Path

from dialer.errors import CampaignNotReady
from dialer.ports import ComplianceGate, EngineSettings


def machine_wav(campaign_id: int, name: str, settings: EngineSettings) -> str:
    """The campaign's ``dialing.machine_prompt`` as a file (``outdial prompts add``)."""
    path = prompt_path(campaign_id, settings.machine_prompt, settings.data_dir)
    if not path.is_file():
        raise CampaignNotReady(
            f"campaign {name!r} leaves a message on machines, but its prompt "
            f"{settings.machine_prompt!r} is not uploaded (outdial prompts add FILE "
            f"--campaign {name!r} --name {settings.machine_prompt})",
            campaign=campaign_id,
            field="dialing.machine_prompt",
        )
    return str(path)


def prompt_path(campaign_id: int, name: str, data_dir: str | None = None) -> Path:
    """Where the campaign's uploaded prompt ``name`` lives (campaigns/prompts.py)."""
    from campaigns.prompts import Owner

    if data_dir is None:
        from outdial import config

        data_dir = str(config.load().data_dir)
    folder = Owner("campaign", str(campaign_id), "").folder(Path(data_dir))
    return folder / f"{name}.wav"


def launch_checks(
    name: str,
    campaign_id: int,
    settings: EngineSettings,
    owned: frozenset[str] | None,
    prompt: str = "",
) -> None:
    """Refuse to start what compliance forbids: an anonymous or foreign caller ID, a ring
    timeout under 15 s, no safe-harbor message where a call can be abandoned (rules 4,
    5, 11, 20, 22, 23, 27). ``owned``: the company's caller IDs (None: the campaign's own
    counts as owned)."""
    from compliance.decision import CampaignSettings, Mode, Problem
    from compliance.decision import launch_checks as compliance_checks

    problems = compliance_checks(
        CampaignSettings(
            caller_id=settings.caller_id,
            owned_numbers=frozenset({settings.caller_id}) if owned is None else owned,
            mode=Mode(settings.core.mode),
            ring_timeout_s=None
            if settings.allow_short_ring_timeout_for_tests
            else settings.ring_timeout,
            safe_harbor_recording=settings.safe_harbor_wav,
            agent_reserved=settings.core.mode == "preview",
        )
    )
    if settings.allow_short_ring_timeout_for_tests:
        problems = [p for p in problems if p.field != "ring_timeout_s"]
    wav = settings.safe_harbor_wav
    if prompt and wav and not Path(wav).is_file():  # rules 4, 20: named, never uploaded
        problems.append(
            Problem(
                ("rule-4", "rule-20"),
                "safe_harbor_prompt",
                f"campaign {name!r} has no prompt {prompt!r}: upload it with "
                f"`outdial prompts add FILE --campaign {name} --name {prompt}`",
            )
        )
    elif wav and not Path(wav).is_file():  # rules 4, 20: a message that exists
        problems.append(
            Problem(
                ("rule-4", "rule-20"),
                "safe_harbor_recording",
                f"the safe-harbor recording {wav} does not exist",
            )
        )
    if problems:
        detail = "; ".join(f"{p.message} ({', '.join(p.rules)})" for p in problems)
        raise CampaignNotReady(
            f"campaign {name!r} cannot start: {detail}",
            campaign=campaign_id,
            problems=[
                {"field": p.field, "rules": list(p.rules), "message": p.message} for p in problems
            ],
        )


def basis_checks(gate: ComplianceGate, campaign_id: int) -> None:
    """Rule 26: a campaign with no record it may lawfully call does not start, and says how
    to record consent or a basis (the gate's ``launch_problems``)."""
    problems = gate.launch_problems()
    if problems:
        raise CampaignNotReady(
            f"campaign {campaign_id} cannot start: {'; '.join(problems)}",
            campaign=campaign_id,
            problems=[
                {"field": "lawful_basis", "rules": ["rule-26"], "message": p} for p in problems
            ],
        )
