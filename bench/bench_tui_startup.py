"""Whole-process start-up: `gearshift PROJECT` against a plain five-pane Textual app, same run.

Each run starts a new Python process on a pseudo-terminal (120x40, as a person's terminal) and
times from just before the process is spawned to its first *full* frame: the first frame written
to the terminal in which every pane shows its content. Both apps go through `App.run()` with
Textual's real terminal driver, so encoding and writing the frame are paid as they would be.

- floor: a plain Textual app of five panes — DataTable of 200 rows, RichLog, Log, Markdown,
  Syntax of 300 lines (docs/performance.md's "five-pane app") — full when the table holds its rows,
  the Markdown document its blocks and every pane has been laid out;
- trivial: a Textual app showing one Static (for scale: what Textual itself costs);
- app: `gearshift.cli.main([project])` on a scratch copy of sample-projects/python-shop (its
  recordings make the gateway offline) — full when the queue lists every task, the first task is
  selected and shown in the output pane, and every pane has been laid out. The child also reports
  whether the anthropic SDK had been imported by then (it must not have been).

The runs interleave the three, so machine load hits them alike; the ratio of medians is what
to read (target ≤ 1.5).

    python bench/bench_tui_startup.py [--runs 9]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample-projects" / "python-shop"
SIZE = (120, 40)
# Heavy modules worth knowing about at the first frame ("anthropic" must not be among them).
HEAVY = ("anthropic", "httpx2", "markdown_it", "pygments", "watchfiles", "gearshift.pipeline.journey")


# -- the child processes ---------------------------------------------------------------------------


def _hook_first_full_frame(result: Path, ready: Any) -> None:
    """Patch App._display: after each frame is written, record the time once `ready(app)` holds."""
    from textual.app import App

    original = App._display

    def display(self: App[Any], screen: Any, renderable: Any) -> None:
        original(self, screen, renderable)
        if renderable is None or getattr(self, "_bench_done", False) or not ready(self):
            return
        self._bench_done = True  # type: ignore[attr-defined]
        loaded = [name for name in HEAVY if name in sys.modules]
        result.write_text(json.dumps({"t": time.perf_counter(), "loaded": loaded}))
        self.exit()

    App._display = display  # type: ignore[method-assign]


def _laid_out(*widgets: Any) -> bool:
    return all(w.region.area > 0 for w in widgets)


def child_floor(result: Path, data: Path) -> None:
    from rich.syntax import Syntax
    from textual.app import App, ComposeResult
    from textual.containers import Grid, VerticalScroll
    from textual.widgets import DataTable, Log, Markdown, RichLog, Static

    class FivePanes(App[None]):
        CSS = "Grid { grid-size: 3 2; } Grid > * { border: round $panel; }"

        def compose(self) -> ComposeResult:
            with Grid():
                yield DataTable(id="table")
                yield RichLog(id="richlog")
                yield Log(id="log")
                yield Markdown((data / "doc.md").read_text(), id="md")
                with VerticalScroll(id="code"):
                    yield Static(Syntax((data / "code.py").read_text(), "python"), id="syntax")

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns("id", "task", "model", "status", "cost")
            table.add_rows((str(i), f"task {i}", "sonnet", "queued", f"${i / 1000:.3f}") for i in range(200))
            richlog = self.query_one(RichLog)
            for i in range(50):
                richlog.write(f"[bold]run {i}[/] ✓ ruff ✓ pytest")
            self.query_one(Log).write_lines(f"line {i}: validator output" for i in range(50))

    def ready(app: App[Any]) -> bool:
        table, md = app.query_one(DataTable), app.query_one(Markdown)
        blocks = md.children
        return (
            table.row_count == 200
            and bool(blocks)
            and _laid_out(table, app.query_one(RichLog), app.query_one(Log), md, blocks[0], app.query_one("#syntax"))
        )

    _hook_first_full_frame(result, ready)
    FivePanes().run()


def child_trivial(result: Path, _data: Path) -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    class Trivial(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("hello", id="hello")

    _hook_first_full_frame(result, lambda app: _laid_out(app.query_one("#hello")))
    Trivial().run()


def child_app(result: Path, project: Path) -> None:
    import tomllib

    tasks = len(tomllib.loads((project / "tasks.toml").read_text()).get("task", []))

    def ready(app: Any) -> bool:
        if type(app).__name__ != "GearshiftApp" or len(app.screen_stack) != 1:
            return False
        queue, output = app.query_one("#queue"), app.query_one("#output")
        return (
            queue.row_count == tasks
            and app.selected is not None
            and output.task_id == app.selected
            and bool(output.children)
            and _laid_out(queue, app.query_one("#routing"), output, output.children[0], app.query_one("#cost"), app.query_one("#validation"))
        )

    _hook_first_full_frame(result, ready)
    from gearshift.cli import main

    main([str(project)])


# -- the parent ------------------------------------------------------------------------------------


def write_floor_data(folder: Path) -> Path:
    data = folder / "floor"
    data.mkdir()
    doc = ["# Five panes\n"]
    for i in range(12):
        doc.append(f"## Section {i}\n\nSome *prose* with `code` and a [link](https://example.com).\n\n- one\n- two\n")
    (data / "doc.md").write_text("\n".join(doc))
    code = []
    for i in range(60):
        code += [f"def function_{i}(a: int, b: int) -> int:", f'    """Add with offset {i}."""', f"    total = a + b + {i}", "    return total", ""]
    (data / "code.py").write_text("\n".join(code[:300]) + "\n")
    return data


def run_child(args: list[str], env: dict[str, str]) -> tuple[float, list[str]]:
    """Spawn `python this-file --child ...` on a fresh pty; return (seconds to full frame, HEAVY modules loaded)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    result = Path(args[-1])
    result.unlink(missing_ok=True)

    def drain() -> None:  # the terminal must be read, or the child blocks writing its frames
        try:
            while os.read(master, 65536):
                pass
        except OSError:
            pass

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--child", *args], stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    try:
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
        reader.join(timeout=5)
    if not result.is_file():
        raise RuntimeError(f"child {args[0]} exited {proc.returncode} without reaching a full frame")
    data = json.loads(result.read_text())
    return data["t"] - started, data["loaded"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument(
        "--env-bytecode", action="store_true",
        help="keep this environment's bytecode settings (PYTHONDONTWRITEBYTECODE makes the app compile its modules on every start)",
    )
    parser.add_argument("--child", nargs=3, metavar=("KIND", "INPUT", "RESULT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, source, result = args.child
        {"floor": child_floor, "trivial": child_trivial, "app": child_app}[kind](Path(result), Path(source))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = write_floor_data(folder)
        project = folder / "python-shop"
        shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns(".gearshift", "__pycache__", ".pytest_cache", ".ruff_cache"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
        env.update(TERM="xterm-256color", XDG_CONFIG_HOME=str(folder / "xdg"), COLUMNS=str(SIZE[0]), LINES=str(SIZE[1]))
        # Compiled modules cached as an installed user's would be, for both apps alike, outside
        # the checkout (this machine sets PYTHONDONTWRITEBYTECODE, which would make the app
        # compile every one of its modules on each start while Textual's come precompiled).
        if not args.env_bytecode:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
        result = str(folder / "result.json")
        run_child(["floor", str(data), result], env)  # warm the file cache and .pyc files once
        run_child(["trivial", str(data), result], env)
        run_child(["app", str(project), result], env)
        floors: list[float] = []
        trivials: list[float] = []
        apps: list[float] = []
        loaded: set[str] = set()
        for i in range(args.runs):
            floors.append(run_child(["floor", str(data), result], env)[0] * 1000)
            trivials.append(run_child(["trivial", str(data), result], env)[0] * 1000)
            elapsed, modules = run_child(["app", str(project), result], env)
            apps.append(elapsed * 1000)
            loaded.update(modules)
            print(f"run {i + 1}: floor {floors[-1]:.0f} ms, trivial {trivials[-1]:.0f} ms, app {apps[-1]:.0f} ms, ratio {apps[-1] / floors[-1]:.2f}")
    floor, trivial, app = statistics.median(floors), statistics.median(trivials), statistics.median(apps)
    print()
    print("| what | measured | floor | ratio (target) |")
    print("|---|---|---|---|")
    print(
        f"| process start → first full frame, median of {args.runs} | {app:.0f} ms ({min(apps):.0f}–{max(apps):.0f}) "
        f"| {floor:.0f} ms ({min(floors):.0f}–{max(floors):.0f}) plain five-pane app | {app / floor:.2f}× (≤ 1.5×) |"
    )
    print(f"| (for scale) a one-Static Textual app, same run | — | {trivial:.0f} ms ({min(trivials):.0f}–{max(trivials):.0f}) | app {app / trivial:.2f}× |")
    print(f"\nanthropic imported before the app's first full frame: {'YES — regression' if 'anthropic' in loaded else 'no'}")
    print(f"heavy modules loaded by then: {', '.join(sorted(loaded)) or 'none'} (of {', '.join(HEAVY)})")


if __name__ == "__main__":
    main()
