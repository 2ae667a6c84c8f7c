"""Blocking work of the engine run on a thread, so the event loop keeps painting and reading keys.

Making a hard-linked stage links every file of the project (62 ms on 10,000 files) and the first
import graph parses the project (~160 ms cold, docs/performance.md): on the loop, either would
freeze the app's screen that long. A thread cannot be cancelled, so when the awaiting task is,
what the thread makes anyway is handed to `undo` instead of being left behind (a stage on disk).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def off_loop(work: Callable[[], T], undo: Callable[[T], object] | None = None) -> T:
    """`work()` on a thread; if the caller is cancelled meanwhile, `undo(result)` once it ends."""
    job = asyncio.ensure_future(asyncio.to_thread(work))
    try:
        return await asyncio.shield(job)
    except asyncio.CancelledError:
        if undo is not None:
            job.add_done_callback(lambda done: _undo(done, undo))
        raise


def _undo(done: asyncio.Future[T], undo: Callable[[T], object]) -> None:
    if not done.cancelled() and done.exception() is None:
        undo(done.result())
