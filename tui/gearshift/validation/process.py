"""A check's process: start it, wait for its exit, and stop it whatever happens meanwhile.

A cancellation (Ctrl+C, or SIGTERM/SIGHUP through signals.py) can land at any await of a check,
and each of them must end with every process of the check dead and its pipes closed before the
event loop closes. Two races made that fail:

- while asyncio is still connecting the pipes of a process it has already started, a cancel
  makes asyncio itself kill the first process only and then wait for *all* the pipes to close
  (Python 3.11.7's `_wait()`); what that process started (the sandbox's init, a `setsid`
  child) still holds them, so the run hung forever. `start()` therefore never lets a
  cancellation interrupt a start: it lets it finish, then stops the check like any other;
- a cancellation after the kill left the subprocess transport open; collected after the loop
  had closed, it printed an "Event loop is closed" traceback. `stop()` closes it.

Cleanup runs to its end even if the caller is cancelled again meanwhile (`to_the_end`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable, Iterable
from pathlib import Path

from gearshift.validation.reap import kill_marked

Process = asyncio.subprocess.Process


async def _spawn(cmd: list[str] | str, workdir: Path, env: dict[str, str]) -> Process:
    common = dict(
        cwd=workdir,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # its own process group: one killpg stops it and its children
    )
    if isinstance(cmd, str):
        return await asyncio.create_subprocess_shell(cmd, **common)  # type: ignore[arg-type]
    return await asyncio.create_subprocess_exec(*cmd, **common)  # type: ignore[arg-type]


async def start(cmd: list[str] | str, workdir: Path, env: dict[str, str], marker: str) -> Process:
    """Start the check. Cancelled meanwhile, the start still completes (shielded), then what it
    started is stopped (group, marked processes, transport) before the cancellation goes on."""
    spawning = asyncio.ensure_future(_spawn(cmd, workdir, env))
    try:
        return await asyncio.shield(spawning)
    except asyncio.CancelledError:
        await to_the_end(_abandon(spawning, marker))
        raise


async def _abandon(spawning: asyncio.Future[Process], marker: str) -> None:
    try:
        proc = await spawning
    except Exception:  # it did not start; a process that got as far as forking carries the marker
        await asyncio.to_thread(kill_marked, marker)
        return
    await stop(proc, marker, ())


async def kill_group(pgid: int, marker: str) -> None:
    """The check's process group, then whatever left it (setsid) but still carries its marker
    (a walk of /proc: in a thread, off the loop)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    await asyncio.to_thread(kill_marked, marker)


async def exited(proc: Process) -> int:
    """The main process's exit status, as soon as it exits. `proc.wait()` would also wait for
    its pipes to close, which a background child still holding them can delay forever; the
    returncode is set by the child watcher the moment the process exits, so poll it."""
    while proc.returncode is None:  # noqa: ASYNC110 - no public event for "exited, pipes open"
        await asyncio.sleep(0.02)
    return proc.returncode


def release(proc: Process) -> None:
    """Close the process's transport (its pipes), which an escapee may still hold open: left
    open, it is closed by the garbage collector, after the loop, with a traceback. asyncio
    offers no public way to do this."""
    transport = getattr(proc, "_transport", None)
    if transport is not None:
        transport.close()


async def stop(proc: Process, marker: str, pumps: Iterable[asyncio.Task[None]]) -> None:
    """Kill everything of the check, reap it, stop reading its output, close its pipes."""
    await kill_group(proc.pid, marker)
    pending = list(pumps)
    for pump in pending:
        pump.cancel()
    await exited(proc)
    if pending:
        await asyncio.wait(pending)
    release(proc)


async def to_the_end(cleanup: Awaitable[object]) -> None:
    """Run `cleanup` to its end even when the caller is cancelled again meanwhile (a second
    Ctrl+C while checks are being killed); such a cancellation is passed on afterwards."""
    job = asyncio.ensure_future(cleanup)
    cancelled = False
    while not job.done():
        try:
            await asyncio.shield(job)
        except asyncio.CancelledError:
            cancelled = cancelled or not job.cancelled()
    job.result()
    if cancelled:
        raise asyncio.CancelledError
