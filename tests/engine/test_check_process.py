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

from tests.engine.test_signals import with_marker
from tests.engine.test_validation_runner import specs_for


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


async def hung_run(root: Path, marker: str, events: list[Event]) -> asyncio.Task:
    """A validation run of one check whose two sleeps (one out of its group) never end; returned
    once both run."""
    hang = {"run": f"setsid sleep {marker}1 & sleep {marker}2 & wait", "timeout_s": 3000}
    specs = specs_for(root, ["hang"], hang=hang)
    task = asyncio.create_task(run_validation(specs, root, events.append, run_id="r", task_id="t"))
    for _ in range(600):  # a ceiling for a slow machine, not a timing assertion
        if len(with_marker(marker)) >= 2:
            return task
        await asyncio.sleep(0.05)
    raise AssertionError("the check's sleeps never ran")


async def test_a_cancel_while_the_check_is_starting_kills_what_it_started(
    tmp_path: Path, marker: str, spawns: Spawns
) -> None:
    spawns.go.clear()  # started, but asyncio not yet done with the start
    events: list[Event] = []
    task = await hung_run(tmp_path, marker, events)
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
