"""A cancellation that lands while a check is still being started, or again while it is being
killed, still ends with every process of the check dead and its pipes closed (process.py).

The start is held open at the moment that used to go wrong — the process is running, asyncio is
not done connecting it — by wrapping the real spawn; the test cancels there, then lets it go on."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from gearshift.events import Event, ValidationFinished
from gearshift.validation import process
from gearshift.validation.runner import run_validation
from gearshift.validation.sandbox import Confinement, Layers, bwrap_path

from tests.engine.test_signals import with_marker
from tests.engine.test_validation_runner import specs_for
from tests.engine.test_validation_sandbox import needs_bwrap


@pytest.fixture
def marker() -> Iterator[str]:
    """A unique `sleep` argv for the hung check; whatever still carries it afterwards is killed."""
    marker = f"1000.{secrets.randbelow(10**6):06d}"  # `sleep` takes a fraction
    yield marker
    for pid in with_marker(marker):
        os.kill(pid, 9)


@dataclass
class Spawns:
    """The check processes started, and a gate that holds a start open until it is set."""

    procs: list[process.Process] = field(default_factory=list)
    go: asyncio.Event = field(default_factory=asyncio.Event)


@pytest.fixture
def spawns(monkeypatch: pytest.MonkeyPatch) -> Spawns:
    seen = Spawns()
    seen.go.set()
    real = process._spawn

    async def spawn(cmd, workdir, env):  # type: ignore[no-untyped-def]
        proc = await real(cmd, workdir, env)
        seen.procs.append(proc)
        await seen.go.wait()
        return proc

    monkeypatch.setattr(process, "_spawn", spawn)
    return seen


def start_hung(
    root: Path, marker: str, events: list[Event], confinement: Confinement | None = None
) -> asyncio.Task:
    """A validation run of one check whose two sleeps (one out of its group) never end."""
    hang = {"run": f"setsid sleep {marker}1 & sleep {marker}2 & wait", "timeout_s": 3000}
    specs = specs_for(root, ["hang"], hang=hang)
    return asyncio.create_task(
        run_validation(specs, root, events.append, run_id="r", task_id="t", confinement=confinement)
    )


async def until(what, what_for: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(600):  # a ceiling for a slow machine, not a timing assertion
        if what():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what_for}")


def sleeping(marker: str) -> int:
    """How many of the check's sleeps run (not counting a bwrap whose argv holds the command)."""
    return sum(
        Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"sleep\0") for pid in with_marker(marker)
    )


async def hung_run(root: Path, marker: str, events: list[Event]) -> asyncio.Task:
    """start_hung, returned once both sleeps run."""
    task = start_hung(root, marker, events)
    await until(lambda: sleeping(marker) >= 2, "both sleeps run")
    return task


@pytest.mark.parametrize("sandboxed", [False, pytest.param(True, marks=needs_bwrap)])
async def test_a_cancel_while_the_check_is_starting_kills_what_it_started(
    tmp_path: Path, marker: str, spawns: Spawns, sandboxed: bool
) -> None:
    """Sandboxed, that start is bwrap still setting up: asyncio's own cleanup killed the outer
    bwrap only, and the inner one (not yet bound to die with it) kept the pipes open forever."""
    spawns.go.clear()  # started, but asyncio not yet done with the start
    events: list[Event] = []
    bwrap = bwrap_path()
    confinement = Confinement(bwrap, Layers(tmp_path)) if sandboxed and bwrap else None
    task = start_hung(tmp_path, marker, events, confinement)
    await until(lambda: spawns.procs, "the check started")
    task.cancel()
    await asyncio.sleep(0)  # the cancellation reaches the start before it can finish
    spawns.go.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert with_marker(marker) == []  # the setsid one too
    (proc,) = spawns.procs
    assert proc.returncode is not None
    assert isinstance(events[-1], ValidationFinished) and events[-1].outcome == "cancelled"


async def test_a_cancelled_check_has_its_pipes_closed_before_the_loop_ends(
    tmp_path: Path, marker: str, spawns: Spawns
) -> None:
    """Left open, the transport is closed by the garbage collector after asyncio.run closed the
    loop, and prints an "Event loop is closed" traceback."""
    task = await hung_run(tmp_path, marker, [])
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (proc,) = spawns.procs
    assert proc._transport.is_closing()  # type: ignore[attr-defined]


async def test_a_second_cancel_during_the_kill_does_not_cut_it_short(tmp_path: Path, marker: str) -> None:
    task = await hung_run(tmp_path, marker, [])
    task.cancel()
    for _ in range(5):  # Ctrl+C pressed again and again while the checks are being killed
        await asyncio.sleep(0)
        task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert with_marker(marker) == []
