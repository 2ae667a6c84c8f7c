"""How fast the app's output pane absorbs streamed text, how long the loop stalls, whether keys
still get through, and whether memory stays bounded — each against floors measured in the same run.

Everything runs headless at 120x40 while a 10 ms asyncio timer measures event-loop lag (what a
keypress would feel). A flood is TextDelta events of 4 characters (about one token each) pushed
into the app's event sink — an instant replay — offered at --rate deltas/s (default 40,000: twice
the 20,000 tokens/s target), in a batch every 10 ms. During the flood a key (F12, bound to an
action that notes the time) is sent through the driver every 100 ms, as a terminal would send
it; "key latency" is send → action run.

Apps, interleaved in every round so machine load hits them alike:
- `app`: the real GearshiftApp (coalescing, UIState, the output pane); "absorbed" is deltas / time
  until the last character was handed to its widget.
- `loop floor`: a plain Textual app whose sink only collects the deltas and joins them once per
  tick (30 Hz): what the loop and the pusher cost with no widget at all.
- `log floor`: the same with a `Log` widget written once per tick (docs/performance.md's fastest pane).
Floors get the same garbage-collector tuning the app applies after its first frame
(`gc.freeze()` and a gen0 threshold of GC_GEN0), so the ratios compare widget work only;
`--no-gc-tuning` turns it off everywhere.

Then `memory`, in a fresh process: RSS of the app after its first frame and after each of three
200,000-delta floods (bounded: after the first, a flood adds about nothing), and `replay`: the
same answer replayed at speed 0 through the whole engine (SDK parser, replay transport, session).

    python bench/bench_tui_stream.py [--deltas 100000] [--runs 3] [--rate 40000] [--skip-memory] [--skip-replay]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gearshift import events as ev  # noqa: E402
from gearshift.config import load_config  # noqa: E402
from gearshift.models.client import ModelGateway  # noqa: E402
from gearshift.models.scripted import sse_reply, write_recording  # noqa: E402
from gearshift.tasks import Task  # noqa: E402
from gearshift.ui.app import GC_GEN0, TICK_S, make_app  # noqa: E402
from gearshift.ui.panes.output import OutputPane  # noqa: E402
from textual import events  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.widgets import Log, Static  # noqa: E402

SIZE = (120, 40)
KEY_EVERY_S = 0.1


def answer(deltas: int) -> str:
    """About `deltas` × 4 characters of Markdown: paragraphs of ~400 characters, a list now and then."""
    sentence = "The pane keeps up because every tick writes the text it gathered once. "
    out: list[str] = []
    size = 0
    i = 0
    while size < deltas * 4:
        block = sentence * 6 + "\n\n" if i % 5 else "- one item\n- another item\n\n"
        out.append(block)
        size += len(block)
        i += 1
    return "".join(out)[: deltas * 4]


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


@dataclass
class Result:
    rate: float  # deltas absorbed per second
    lags: list[float]
    keys: list[float]  # ms from key sent to action run
    sent_keys: int

    @property
    def p99(self) -> float:
        return percentile(self.lags, 0.99)

    @property
    def worst(self) -> float:
        return max(self.lags, default=0.0)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * q + 0.5) - 1))]


# -- floors ----------------------------------------------------------------------------------------


class Floor(App[None]):
    """A plain Textual app with the same sink contract: collect, then join once per tick."""

    def __init__(self, with_log: bool) -> None:
        super().__init__()
        self.with_log = with_log
        self.buffer: list[ev.Event] = []
        self.received = 0

    def compose(self) -> ComposeResult:
        yield Log() if self.with_log else Static("floor")

    def on_mount(self) -> None:
        self.set_interval(TICK_S, self.drain)

    def emit_event(self, event: ev.Event) -> None:
        self.buffer.append(event)

    def drain(self) -> None:
        if not self.buffer:
            return
        batch, self.buffer = self.buffer, []
        text = "".join(e.text for e in batch if isinstance(e, ev.TextDelta))
        self.received += len(text)
        if self.with_log:
            self.query_one(Log).write(text)


# -- one flood -------------------------------------------------------------------------------------


async def flood(app: Any, text: str, rate: int, done: Callable[[], bool]) -> Result:
    """Push `text` as 4-character TextDeltas at `rate` per second; measure lag and key latency."""
    loop = asyncio.get_running_loop()
    lags: list[float] = []
    keys: list[float] = []
    sent: list[float] = []
    stop = False
    app.bind("f12", "bench_ping", show=False)
    app.action_bench_ping = lambda: keys.append((time.perf_counter() - sent[-1]) * 1000) if sent else None

    async def probe() -> None:
        while not stop:
            start = loop.time()
            await asyncio.sleep(0.01)
            lags.append((loop.time() - start - 0.01) * 1000)

    async def press() -> None:
        while not stop:
            await asyncio.sleep(KEY_EVERY_S)
            if len(keys) < len(sent):  # the last one is still on its way: wait for it
                continue
            sent.append(time.perf_counter())
            app._driver.send_message(events.Key("f12", None))

    tasks = [asyncio.create_task(probe()), asyncio.create_task(press())]
    per_step = max(1, rate // 100) * 4  # characters per 10 ms step
    started = time.perf_counter()
    next_step = loop.time()
    for start in range(0, len(text), per_step):
        for i in range(start, min(start + per_step, len(text)), 4):
            app.emit_event(ev.TextDelta(task_id="bench", attempt=1, text=text[i : i + 4]))
        next_step += 0.01
        await asyncio.sleep(max(0.0, next_step - loop.time()))
    while not done():  # noqa: ASYNC110 — polls app state
        if not app.is_running:
            raise RuntimeError("the app stopped during the flood")
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started
    stop = True
    await asyncio.gather(*tasks)
    deadline = loop.time() + 2.0
    while len(keys) < len(sent) and loop.time() < deadline:  # noqa: ASYNC110 — the last key in flight
        await asyncio.sleep(0.005)
    return Result(len(text) / 4 / elapsed, lags, keys, len(sent))


def gearshift_app(root: Path, gateway: ModelGateway, tune_gc: bool) -> Any:
    task = Task(id="bench", prompt="stream", scope="single-file", context_files=("calc.py",), requires_validation=False)
    return make_app(load_config(root), [task], gateway, watch=False, ledger=False, tune_gc=tune_gc)


def shown(app: Any, chars: int) -> Callable[[], bool]:
    """Everything drained, and the pane has handed the last character to its widget."""

    def check() -> bool:
        task = app.state.tasks["bench"]
        pane = app.query_one(OutputPane)
        return not app._buffer and task.output.received >= chars and pane.caught_up(task)

    return check


async def run_app(root: Path, text: str, rate: int, tune_gc: bool) -> Result:
    app = gearshift_app(root, ModelGateway(mode="replay", recordings=root / "rec", replay_speed=0), tune_gc)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        result = await flood(app, text, rate, shown(app, len(text)))
        if app.state.tasks["bench"].output.received != len(text):
            raise RuntimeError("the app lost text")
    return result


def tune(enabled: bool) -> tuple[int, int, int]:
    saved = gc.get_threshold()
    if enabled:
        gc.freeze()
        gc.set_threshold(GC_GEN0, *saved[1:])
    return saved


def untune(saved: tuple[int, int, int]) -> None:
    gc.set_threshold(*saved)
    gc.unfreeze()


async def run_floor(text: str, rate: int, with_log: bool, tune_gc: bool) -> Result:
    app = Floor(with_log)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        saved = tune(tune_gc)
        try:
            return await flood(app, text, rate, lambda: not app.buffer and app.received >= len(text))
        finally:
            untune(saved)


async def run_memory(root: Path, deltas: int, rate: int, tune_gc: bool) -> list[float]:
    text = answer(deltas)
    app = gearshift_app(root, ModelGateway(mode="replay", recordings=root / "rec", replay_speed=0), tune_gc)
    marks: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.5)
        # The SDK is imported on a thread after the first frame (≈ 70 MB with anthropic 2.17):
        # wait for it, or the first flood's figure would hold the import, not the pane.
        while not app.gateway.client_ready:  # noqa: ASYNC110 — polls app state
            await asyncio.sleep(0.05)
        marks.append(rss_mb())
        for round_ in (1, 2, 3):
            await flood(app, text, rate, shown(app, round_ * len(text)))
            pane = app.query_one(OutputPane)
            while not pane.settled:  # noqa: ASYNC110 — polls app state
                await asyncio.sleep(0.02)
            marks.append(rss_mb())
    return marks


async def run_replay(root: Path, deltas: int, tune_gc: bool) -> Result:
    app = gearshift_app(root, ModelGateway(mode="replay", recordings=root / "rec", replay_speed=0), tune_gc)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        loop = asyncio.get_running_loop()
        lags: list[float] = []
        stop = False

        async def probe() -> None:
            while not stop:
                start = loop.time()
                await asyncio.sleep(0.01)
                lags.append((loop.time() - start - 0.01) * 1000)

        prober = asyncio.create_task(probe())
        started = time.perf_counter()
        await pilot.press("r")
        while app.state.tasks["bench"].status in ("queued", "running"):  # noqa: ASYNC110 — polls app state
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - started
        stop = True
        await prober
    return Result(deltas / elapsed, lags, [], 0)


def prepare(folder: Path, deltas: int) -> Path:
    root = folder / "proj"
    root.mkdir()
    (root / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    (root / "gearshift.toml").write_text("[validation]\nenabled = false\n")
    text = answer(deltas)
    frames = sse_reply("claude-sonnet-4-6", [{"type": "text", "text": text}], {"input": 100, "output": deltas}, text_chunk_chars=4)
    write_recording(root / "rec", "bench", 1, 1, "claude-sonnet-4-6", frames, frame_gap_ms=0.0)
    return root


@dataclass
class Series:
    results: list[Result] = field(default_factory=list)

    def med(self, key: Callable[[Result], float]) -> float:
        return statistics.median(key(r) for r in self.results)

    def keys(self) -> list[float]:
        return [k for r in self.results for k in r.keys]


def line(name: str, r: Result) -> str:
    keys = f", keys {statistics.median(r.keys):.1f} ms median / {max(r.keys):.1f} max ({len(r.keys)}/{r.sent_keys})" if r.keys else ""
    return f"  {name:11} {r.rate:>9,.0f} deltas/s, lag p99 {r.p99:6.1f} ms, worst {r.worst:6.1f} ms{keys}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deltas", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=int, default=40_000, help="deltas/s offered")
    parser.add_argument("--no-gc-tuning", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-replay", action="store_true")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    tune_gc = not args.no_gc_tuning
    if args.memory_child:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(asyncio.run(run_memory(prepare(Path(tmp), 1_000), 200_000, args.rate, tune_gc))))
        return
    text = answer(args.deltas)
    series = {name: Series() for name in ("app", "loop floor", "log floor")}
    with tempfile.TemporaryDirectory() as tmp:
        root = prepare(Path(tmp), args.deltas)
        for i in range(args.runs):
            print(f"round {i + 1}:")
            for name in series:
                if name == "app":
                    result = asyncio.run(run_app(root, text, args.rate, tune_gc))
                else:
                    result = asyncio.run(run_floor(text, args.rate, name == "log floor", tune_gc))
                series[name].results.append(result)
                print(line(name, result), flush=True)
        marks: list[float] = []
        if not args.skip_memory:
            child = [sys.executable, __file__, "--memory-child", "--rate", str(args.rate)] + (["--no-gc-tuning"] if not tune_gc else [])
            marks = json.loads(subprocess.run(child, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        replay = None if args.skip_replay else asyncio.run(run_replay(root, args.deltas, tune_gc))
    app, loop_floor, log_floor = series["app"], series["loop floor"], series["log floor"]
    keys, floor_keys = app.keys(), loop_floor.keys()
    rate = app.med(lambda r: r.rate)
    print()
    print(f"{args.deltas:,} deltas of 4 characters offered at {args.rate:,}/s, medians of {args.runs} rounds"
          f"{'' if tune_gc else ', no GC tuning'}:")
    print()
    print("| what | measured | floor (same run) | ratio / target |")
    print("|---|---|---|---|")
    print(f"| output pane absorbs | {rate:,.0f} deltas/s | {log_floor.med(lambda r: r.rate):,.0f}/s `Log` coalesced | target ≥ 20,000/s |")
    p99, floor_p99 = app.med(lambda r: r.p99), loop_floor.med(lambda r: r.p99)
    print(f"| loop lag p99 during the flood | {p99:.1f} ms | {floor_p99:.1f} ms loop only · {log_floor.med(lambda r: r.p99):.1f} ms `Log` | target ≤ 50 ms |")
    print(f"| loop lag, worst | {app.med(lambda r: r.worst):.1f} ms | {loop_floor.med(lambda r: r.worst):.1f} ms loop only | — |")
    if keys:
        answered = f"{len(keys)}/{sum(r.sent_keys for r in app.results)} answered"
        print(f"| key → action during the flood, median / p99 | {statistics.median(keys):.1f} / {percentile(keys, 0.99):.1f} ms ({answered}) "
              f"| {statistics.median(floor_keys):.1f} / {percentile(floor_keys, 0.99):.1f} ms loop only | — |")
    if marks:
        steps = " → ".join(f"{m:.0f}" for m in marks)
        print(f"| RSS: after the first frame → after each of three 200k-delta floods | {steps} MB "
              f"| — | 2nd and 3rd floods {marks[3] - marks[1]:+.0f} MB together (bounded) |")
    if replay is not None:
        print(f"| instant replay through the engine (SDK parser, session), {args.deltas:,} deltas | {replay.rate:,.0f} deltas/s, "
              f"lag p99 {replay.p99:.1f} ms | — | — |")


if __name__ == "__main__":
    main()
