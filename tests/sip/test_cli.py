"""``outdial bench sip`` is registered on the shared ``bench`` group and validates input."""

from __future__ import annotations

import click
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
