"""``outdial bench sip`` is registered on the shared ``bench`` group and validates input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sip.cli import register


def _root() -> click.Group:
    @click.group()
    def root() -> None:
        pass

    register(root)
    return root


def test_bench_sip_is_registered_with_its_options() -> None:
    result = CliRunner().invoke(_root(), ["bench", "sip", "--help"])
    assert result.exit_code == 0
    for option in ("--target", "--calls", "--cps", "--hold", "--amd", "--json"):
        assert option in result.output


def test_existing_bench_group_is_reused() -> None:
    @click.group()
    def root() -> None:
        pass

    @root.group("bench")
    def bench() -> None:
        pass

    @bench.command("other")
    def other() -> None:
        pass

    register(root)
    assert set(bench.commands) == {"other", "sip"}


def test_bad_target_is_a_typed_error() -> None:
    result = CliRunner().invoke(_root(), ["bench", "sip", "--target", "127.0.0.1:5060"])
    assert result.exit_code != 0
    assert result.exception is not None and "SIP URI" in str(result.exception)


@pytest.mark.sip
def test_bench_json_prints_only_json_with_agent_legs(sipp) -> None:
    """A real run (the installed ``outdial`` console script, so fd 1 is a real pipe):
    stdout parses as one JSON document; log lines and PJSIP's output go to stderr."""
    customer = sipp("uas_answer.xml", calls=2)
    agent = sipp("agent_answer.xml", calls=2)
    outdial = Path(sys.executable).with_name("outdial")
    args = ["bench", "sip", "--target", customer.uri(), "--calls", "2", "--cps", "2"]
    args += ["--hold", "1", "--lines", "2", "--agent", agent.uri("agent"), "--json"]
    done = subprocess.run(
        [str(outdial), *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout)
    assert figures["answered"] == 2 and figures["bridged"] == 2
    assert figures["calls_per_worker"] == 2 and figures["workers_at_start"] >= 1
    assert figures["rtp_agent_legs"]["legs"] == 2  # stats kept for every leg
