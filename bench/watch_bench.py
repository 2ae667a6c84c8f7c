"""How fast a save shows a running validator, and whether a burst is one run.

    python bench/watch_bench.py [--saves 20] [--burst 500]

Measures, in one run on this machine:
- the floor: watchfiles.awatch with its defaults (debounce 1600 ms, step 50 ms), write → batch;
- gearshift's ProjectWatcher: write → ValidationStarted (the validator's process is being spawned
  at that moment), median and p95 over `--saves` single saves;
- a burst of `--burst` new files written as fast as possible (a `git checkout`): how many runs
  started and how long until the one run started after the last write.
Target (issue 3): a save shows its validator running within 50 ms (median); a burst is one run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tui"))

from gearshift import events as ev  # noqa: E402
from gearshift.config import load_config  # noqa: E402
from gearshift.watch import ProjectWatcher  # noqa: E402


def project(root: Path) -> Path:
    (root / "gearshift.toml").write_text('[validation]\nchecks = ["python_compile"]\n')
    (root / "mod.py").write_text("x = 1\n")
    return root


async def floor(root: Path, saves: int) -> list[float]:
    from watchfiles import awatch

    stop = asyncio.Event()
    got: asyncio.Queue[float] = asyncio.Queue()

    async def watch() -> None:
        async for _ in awatch(root, stop_event=stop):
            got.put_nowait(time.perf_counter())

    task = asyncio.create_task(watch())
    await asyncio.sleep(0.5)
    out = []
    for i in range(saves):
        t0 = time.perf_counter()
        (root / "mod.py").write_text(f"x = {i}\n")
        out.append((await asyncio.wait_for(got.get(), 10) - t0) * 1000)
        await asyncio.sleep(0.2)
    stop.set()
    with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
        await asyncio.wait_for(task, 5)
    return out


async def gearshift_saves(root: Path, saves: int, burst: int) -> tuple[list[float], int, float]:
    started: asyncio.Queue[float] = asyncio.Queue()

    def emit(event: ev.Event) -> None:
        if isinstance(event, ev.ValidationStarted):
            started.put_nowait(time.perf_counter())

    watcher = ProjectWatcher(load_config(root), emit)
    task = asyncio.create_task(watcher.run())
    await asyncio.wait_for(watcher.ready.wait(), 10)
    out = []
    for i in range(saves):
        t0 = time.perf_counter()
        (root / "mod.py").write_text(f"x = {i}\n")
        out.append((await asyncio.wait_for(started.get(), 10) - t0) * 1000)
        await asyncio.sleep(0.3)  # let the run finish so each save starts from quiet
    await asyncio.sleep(1.0)
    while not started.empty():
        started.get_nowait()
    runs_before = watcher.runs_started
    (root / "pkg").mkdir()
    for i in range(burst):
        (root / "pkg" / f"m{i}.py").write_text(f"v{i} = {i}\n")
    t_last = time.perf_counter()
    first_start = await asyncio.wait_for(started.get(), 30)
    await asyncio.sleep(2.0)
    runs = watcher.runs_started - runs_before
    watcher.stop()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return out, runs, (first_start - t_last) * 1000


def summary(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]
    return f"{statistics.median(values):7.1f} ms (p95 {p95:.1f}, min {values[0]:.1f}, max {values[-1]:.1f})"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--burst", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        base = await floor(project(Path(a)), args.saves)
        saves, runs, burst_ms = await gearshift_saves(project(Path(b)), args.saves, args.burst)
    print(f"| what | median (p95, min, max) over {args.saves} saves |")
    print("|---|---|")
    print(f"| watchfiles defaults, write → batch (floor) | {summary(base)} |")
    print(f"| gearshift watcher, write → validator started | {summary(saves)} |")
    print(
        f"| burst of {args.burst} files | {runs} run(s) started; it started {burst_ms:.0f} ms after the last write |"
    )


if __name__ == "__main__":
    asyncio.run(main())
