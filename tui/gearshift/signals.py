"""SIGTERM and SIGHUP stop gearshift the way Ctrl+C does.

Ctrl+C cancels the running asyncio task: the call in flight is booked as cancelled with what was
billed, every check's process group is killed, the stage is removed. `timeout`, CI runners and a
closed terminal send SIGTERM or SIGHUP instead, whose default is to die on the spot and leave
all of that behind; here they cancel the same task, and the exit status says which signal
stopped the run (128 + the signal number: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
T = TypeVar("T")


def exit_status(signum: int) -> int:
    """The shell's convention for "stopped by a signal": 128 + its number."""
    return 128 + signum


@contextlib.contextmanager
def on_stop_signals(callback: Callable[[int], None]) -> Iterator[None]:
    """Call `callback(signum)` on the running loop for SIGTERM and SIGHUP while inside."""
    loop = asyncio.get_running_loop()
    installed: list[int] = []
    for signum in STOP_SIGNALS:
        try:
            loop.add_signal_handler(signum, callback, signum)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
            continue
        installed.append(signum)
    try:
        yield
    finally:
        for number in installed:
            loop.remove_signal_handler(number)


class Stopped(Exception):
    """The run was cancelled by SIGTERM or SIGHUP."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


async def until_stopped(work: Awaitable[T]) -> T:
    """Await `work`; a SIGTERM or SIGHUP cancels it (once: a second one waits for the cleanup)
    and, when the cancellation has run its course, raises Stopped."""
    task = asyncio.ensure_future(work)
    received: list[int] = []

    def stop(signum: int) -> None:
        if not received:
            received.append(signum)
            task.cancel()

    with on_stop_signals(stop):
        try:
            return await task
        except asyncio.CancelledError:
            if received and not _cancelling_us():
                raise Stopped(received[0]) from None
            raise


def _cancelling_us() -> bool:
    """True when the caller itself is being cancelled (Ctrl+C), not only the work."""
    current = asyncio.current_task()
    return current is not None and current.cancelling() > 0


def say_stopped(exc: Stopped) -> int:
    """Say why the run stopped and give its exit status. After a SIGHUP the terminal is usually
    gone and every write fails (EIO, or EPIPE on a pipe): the status must still say SIGHUP, not
    a traceback's 1 or the 120 Python gives when it cannot flush stdout at exit."""
    try:
        print(
            f"gearshift: {exc}; the call in flight (if any) is booked as cancelled, checks were killed",
            file=sys.stderr,
            flush=True,
        )
        sys.stdout.flush()
    except OSError:
        _write_nowhere()
    return exit_status(exc.signum)


def _write_nowhere() -> None:
    """Point stdout and stderr at /dev/null, so nothing left to write fails at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            os.dup2(devnull, stream.fileno())
    os.close(devnull)
