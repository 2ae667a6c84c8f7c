"""How fast the app's output pane absorbs streamed text, and how long keys would wait.

Two measurements, each while a 10 ms asyncio timer measures event-loop lag (what a keypress would
feel), in the real app (headless, 120x40):

- `ui`: N TextDelta events (4 characters, about one token each) pushed into the app's event sink
  at --rate deltas per second (a batch every 10 ms) — the UI alone: buffer, coalesce per tick,
  one MarkdownStream write per tick. "deltas/s" is what the pane absorbed: N / time until the
  last character is on screen.
- `replay`: the same answer replayed at speed 0 through the real engine (SDK, replay transport,
  session), end to end.

Prints medians over runs; compare with perf-floors.md (per-token Markdown writes: ~1.7k chunks/s
with ~400 ms stalls).

    python bench/bench_tui_stream.py [--deltas 40000] [--runs 3] [--mode ui|replay|both]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gearshift import events as ev  # noqa: E402
from gearshift.config import load_config  # noqa: E402
from gearshift.models.client import ModelGateway  # noqa: E402
from gearshift.models.scripted import sse_reply, write_recording  # noqa: E402
from gearshift.tasks import Task  # noqa: E402
from gearshift.ui.app import make_app  # noqa: E402
from gearshift.ui.panes.output import OutputPane  # noqa: E402

RATE = 20_000  # deltas per second offered in `ui` mode (set by --rate)


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


def prepare(folder: Path, deltas: int) -> tuple[Path, Path]:
    root = folder / "proj"
    root.mkdir()
    (root / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    (root / "gearshift.toml").write_text("[validation]\nenabled = false\n")
    text = answer(deltas)
    frames = sse_reply("claude-sonnet-4-6", [{"type": "text", "text": text}], {"input": 100, "output": deltas}, text_chunk_chars=4)
    recordings = folder / "rec"
    write_recording(recordings, "bench", 1, 1, "claude-sonnet-4-6", frames, frame_gap_ms=0.0)
    return root, recordings


async def one_run(root: Path, recordings: Path, deltas: int, mode: str) -> tuple[float, float, float, int]:
    gateway = ModelGateway(mode="replay", recordings=recordings, replay_speed=0)
    task = Task(id="bench", prompt="stream", scope="single-file", context_files=("calc.py",), requires_validation=False)
    app = make_app(load_config(root), [task], gateway, watch=False, ledger=False)
    lags: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        stop = False

        async def probe() -> None:
            loop = asyncio.get_running_loop()
            while not stop:
                start = loop.time()
                await asyncio.sleep(0.01)
                lags.append((loop.time() - start - 0.01) * 1000)

        prober = asyncio.create_task(probe())
        started = time.perf_counter()
        if mode == "replay":
            await pilot.press("r")
            while app.state.tasks["bench"].status in ("queued", "running"):  # noqa: ASYNC110 — polls app state
                await asyncio.sleep(0.005)
        else:
            text = answer(deltas)
            per_step = max(1, RATE // 100) * 4  # characters per 10 ms step
            loop = asyncio.get_running_loop()
            next_step = loop.time()
            for start in range(0, len(text), per_step):
                for i in range(start, min(start + per_step, len(text)), 4):
                    app.emit_event(ev.TextDelta(task_id="bench", attempt=1, text=text[i : i + 4]))
                next_step += 0.01
                await asyncio.sleep(max(0.0, next_step - loop.time()))
            pane = app.query_one(OutputPane)
            segments = app.state.tasks["bench"].output.segments

            def shown() -> bool:
                """Everything drained, and the pane has handed the last character to its widget."""
                task = app.state.tasks["bench"]
                return not app._buffer and bool(segments) and task.output.chars >= len(text) and pane.caught_up(task)

            while not shown():  # noqa: ASYNC110 — polls app state
                await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - started
        await pilot.pause(0.2)
        stop = True
        await prober
        answered = len(app.state.tasks["bench"].output.plain())
    lags.sort()
    p99 = lags[int(len(lags) * 0.99) - 1] if lags else 0.0
    return deltas / elapsed, p99, lags[-1] if lags else 0.0, answered


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deltas", type=int, default=40_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mode", choices=("ui", "replay", "both"), default="both")
    parser.add_argument("--rate", type=int, default=20_000, help="deltas/s offered in ui mode")
    args = parser.parse_args()
    global RATE
    RATE = args.rate
    modes = ("ui", "replay") if args.mode == "both" else (args.mode,)
    for mode in modes:
        with tempfile.TemporaryDirectory() as tmp:
            root, recordings = prepare(Path(tmp), args.deltas)
            results = []
            for i in range(args.runs):
                results.append(asyncio.run(one_run(root, recordings, args.deltas, mode)))
                rate, p99, worst, chars = results[-1]
                print(f"{mode} run {i + 1}: {rate:,.0f} deltas/s, loop lag p99 {p99:.1f} ms, worst {worst:.1f} ms, {chars:,} chars")
        print(
            f"{mode} median: {statistics.median(r[0] for r in results):,.0f} deltas/s, "
            f"p99 lag {statistics.median(r[1] for r in results):.1f} ms, worst {statistics.median(r[2] for r in results):.1f} ms"
        )


if __name__ == "__main__":
    main()
