"""CLI for the SIP layer: ``outdial bench sip``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Iterator

import click

from sip.errors import InvalidTarget


def _bench_group(group: click.Group) -> click.Group:
    """The shared ``bench`` group: other packages may have created it already."""
    existing = group.commands.get("bench")
    if isinstance(existing, click.Group):
        return existing

    @group.group("bench")
    def bench() -> None:
        """Benchmarks: print figures, assert nothing."""

    return bench


@contextlib.contextmanager
def _stdout_to_stderr(active: bool) -> Iterator[None]:
    """With --json, stdout carries only the JSON: everything else written to fd 1 during
    the run (log lines, PJSIP's own output, worker processes started meanwhile) goes to
    stderr instead."""
    if not active:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def register(group: click.Group) -> None:
    bench = _bench_group(group)

    @bench.command("sip")
    @click.option("--target", required=True, help="SIP URI of the far end, e.g. sip:HOST:PORT")
    @click.option("--calls", default=100, show_default=True, type=click.IntRange(min=1))
    @click.option("--cps", default=10.0, show_default=True, type=click.FloatRange(min=0.1))
    @click.option("--hold", default=5.0, show_default=True, type=click.FloatRange(min=0))
    @click.option("--amd", is_flag=True, help="run answering-machine detection on every call")
    @click.option(
        "--lines",
        default=32,
        show_default=True,
        type=click.IntRange(min=1),
        help="customer calls per worker process, K (lowered to what the pjsua2 module holds)",
    )
    @click.option("--record", "record_dir", default=None, help="record every call in this dir")
    @click.option("--agent", default=None, help="auto-answering agent SIP URI to bridge to")
    @click.option(
        "--start-method",
        type=click.Choice(["spawn", "forkserver"]),
        default="forkserver",
        show_default=True,
        help="how worker processes start",
    )
    @click.option("--prestart", is_flag=True, help="start every worker before the first call")
    @click.option(
        "--warm",
        default=None,
        type=click.IntRange(min=0),
        help="idle workers kept ready ahead of demand [default: one second of calls]",
    )
    @click.option("--max-workers", default=300, show_default=True, type=click.IntRange(min=1))
    @click.option("--json", "as_json", is_flag=True, help="print the figures as JSON")
    def bench_sip(
        target: str,
        calls: int,
        cps: float,
        hold: float,
        amd: bool,
        lines: int,
        agent: str | None,
        start_method: str,
        prestart: bool,
        warm: int | None,
        max_workers: int,
        record_dir: str | None,
        as_json: bool,
    ) -> None:
        """Place CALLS calls at CPS per second, hold each HOLD s with media, hang up."""
        from sip.bench import format_summary, run_bench

        if not target.startswith(("sip:", "sips:")):
            raise InvalidTarget(f"--target must be a SIP URI, not {target!r}")
        with _stdout_to_stderr(as_json):
            figures = asyncio.run(
                run_bench(
                    target,
                    calls,
                    cps,
                    hold,
                    amd=amd,
                    customer_lines=lines,
                    start_method=start_method,
                    agent=agent,
                    prestart=prestart,
                    warm_workers=warm,
                    max_workers=max_workers,
                    record_dir=record_dir,
                )
            )
        click.echo(json.dumps(figures, indent=2) if as_json else format_summary(figures))
