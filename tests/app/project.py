"""A tiny Python project and scripted model recordings that drive the real engine offline.

Every app test runs the real Session (routing, staging, the editor tool, real validators run as
subprocesses, the ledger) against a replay gateway reading recordings written here with the
engine's own `sse_reply` + `write_recording`. The stories:

- `mul`: Sonnet adds `mul` with a bug and a test for it → pytest fails (fail-logic) →
  escalation proposed → Opus fixes the bug and rewords the module docstring → validation passes
  → a change of three hunks over two files (calc.py: docstring, mul; tests/test_mul.py: new).
- `opus-direct`: the same request answered by Opus at attempt 1 (for "force escalation").
- `story`: a long Markdown answer streamed in small chunks (for streaming and pausing).
- `missing`: no recording at all (the engine's replay_missing failure).
- `syntax`: Sonnet writes `mul` without its colon → the compile check fails (fail-syntax) → a
  correction attempt on Sonnet fixes it.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gearshift.config import load_config
from gearshift.models import replay
from gearshift.models.client import ModelGateway
from gearshift.models.scripted import sse_reply, write_recording
from gearshift.tasks import Task

SONNET = "claude-sonnet-4-6"
OPUS = "claude-opus-4-7"
EDITOR = "str_replace_based_edit_tool"

CALC = '''"""Tiny arithmetic helpers."""


def add(a, b):
    return a + b


def sub(a, b):
    return a - b
'''
TEST_CALC = """from calc import add, sub


def test_add():
    assert add(2, 3) == 5


def test_sub():
    assert sub(5, 3) == 2
"""
TEST_MUL = """from calc import mul


def test_mul():
    assert mul(2, 3) == 6
"""
PYPROJECT = """[project]
name = "tinyproj"
version = "0.0.0"

[tool.pytest.ini_options]
pythonpath = ["."]
testpaths = ["tests"]
"""
# A deterministic logic check for snapshot tests: pytest's own output carries timings and
# absolute report paths, which must not appear in a picture. It runs alone: checks run
# concurrently, so two checks would write their lines to the log in either order.
CHECK_SCRIPT = """import sys
sys.path.insert(0, ".")
import calc
failures = []
if hasattr(calc, "mul") and calc.mul(2, 3) != 6:
    failures.append(f"calc.py:12: mul(2, 3) returned {calc.mul(2, 3)}, expected 6")
for line in failures:
    print(line)
print(f"{len(failures)} failed" if failures else "all checks passed")
sys.exit(1 if failures else 0)
"""

PROMPTS = {
    "mul": "Add a mul(a, b) function to calc.py with a test.",
    "opus-direct": "Add a mul(a, b) function to calc.py with a test.",
    "story": "Explain how calc.py is organised.",
    "missing": "Rename sub to subtract.",
    "syntax": "Add a mul(a, b) function to calc.py.",
}

STORY = (
    "## How calc.py is organised\n\n"
    + "\n\n".join(
        f"Paragraph {i}: the module keeps each helper small and pure, so every function can be "
        f"tested on its own and the tests read like a specification of the arithmetic."
        for i in range(1, 9)
    )
    + "\n\n- `add` adds\n- `sub` subtracts\n"
)


def write_project(root: Path, *, checks: str = "pytest", alert: float = 0.5, budget: float | None = None) -> Path:
    """The project at `root`; `checks="script"` swaps pytest for the deterministic CHECK_SCRIPT."""
    (root / "tests").mkdir(parents=True, exist_ok=True)
    (root / "calc.py").write_text(CALC)
    (root / "tests" / "test_calc.py").write_text(TEST_CALC)
    (root / "pyproject.toml").write_text(PYPROJECT)
    lines = ["[validation]"]
    if checks == "compile":  # one syntax check, alone for the same reason as the script
        lines += [
            'checks = ["compile"]',
            "timeout_s = 60",
            "",
            "[validation.commands.compile]",
            f'run = "{sys.executable} -m py_compile calc.py"',
            'kind = "syntax"',
        ]
    elif checks == "script":
        (root / "check_calc.py").write_text(CHECK_SCRIPT)
        lines += [
            'checks = ["unit"]',
            "timeout_s = 60",
            "",
            "[validation.commands.unit]",
            f'run = "{sys.executable} check_calc.py"',
            'kind = "logic"',
        ]
    else:
        lines += ['checks = ["python_compile", "pytest"]', "timeout_s = 60"]
    lines += ["", "[cost_tracking]", f"alert_threshold_per_task = {alert}"]
    if budget is not None:
        lines.append(f"session_budget_usd = {budget}")
    (root / "gearshift.toml").write_text("\n".join(lines) + "\n")
    return root


def _usage(inp: int, out: int, write: int = 0, read: int = 0) -> dict[str, int]:
    return {"input": inp, "output": out, "cache_write_5m": write, "cache_read": read}


def _edit(**fields: Any) -> dict[str, Any]:
    return {"type": "tool_use", "name": EDITOR, "input": fields}


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def _save(folder: Path, task_id: str, attempt: int, turn: int, model: str, blocks: list[dict[str, Any]], usage: dict[str, int], stop: str, chunk: int = 12) -> None:
    frames = sse_reply(model, blocks, usage, stop, text_chunk_chars=chunk)
    write_recording(folder, task_id, attempt, turn, model, frames, frame_gap_ms=1.0)


def write_recordings(folder: Path) -> Path:
    """Every story's calls, scripted (the header then says so)."""
    folder.mkdir(parents=True, exist_ok=True)
    bug = CALC + '\n\ndef mul(a, b):\n    return a + b\n'
    _save(folder, "mul", 1, 1, SONNET, [
        _text("I'll add `mul` to **calc.py** and a test for it.\n"),
        _edit(command="str_replace", path="calc.py", old_str=CALC, new_str=bug),
        _edit(command="create", path="tests/test_mul.py", file_text=TEST_MUL),
    ], _usage(1800, 220, write=2400), "tool_use")
    _save(folder, "mul", 1, 2, SONNET, [_text("Added `mul` and `tests/test_mul.py`.")], _usage(400, 40, read=2400), "end_turn")
    _save(folder, "mul", 2, 1, OPUS, [
        _text("The test fails because `mul` adds. Fixing it, and naming `mul` in the docstring.\n"),
        _edit(command="str_replace", path="calc.py", old_str="def mul(a, b):\n    return a + b", new_str="def mul(a, b):\n    return a * b"),
        _edit(command="str_replace", path="calc.py", old_str='"""Tiny arithmetic helpers."""', new_str='"""Tiny arithmetic helpers: add, sub and mul."""'),
    ], _usage(2100, 260, write=1900), "tool_use")
    _save(folder, "mul", 2, 2, OPUS, [_text("`mul` now multiplies; the tests pass.")], _usage(300, 30, read=1900), "end_turn")
    _save(folder, "opus-direct", 1, 1, OPUS, [
        _text("Adding `mul` with its test.\n"),
        _edit(command="str_replace", path="calc.py", old_str=CALC, new_str=CALC + '\n\ndef mul(a, b):\n    return a * b\n'),
    ], _usage(1800, 200, write=2400), "tool_use")
    _save(folder, "opus-direct", 1, 2, OPUS, [_text("Done.")], _usage(400, 20, read=2400), "end_turn")
    _save(folder, "story", 1, 1, SONNET, [_text(STORY)], _usage(1500, 600, write=1200), "end_turn", chunk=6)
    broken = CALC + "\n\ndef mul(a, b)\n    return a * b\n"  # the colon is missing: it does not compile
    _save(folder, "syntax", 1, 1, SONNET, [
        _text("Adding `mul`.\n"),
        _edit(command="str_replace", path="calc.py", old_str=CALC, new_str=broken),
    ], _usage(1800, 120, write=2400), "tool_use")
    _save(folder, "syntax", 1, 2, SONNET, [_text("Added `mul`.")], _usage(400, 20, read=2400), "end_turn")
    _save(folder, "syntax", 2, 1, SONNET, [
        _text("The `def` line lacks its colon; fixing it.\n"),
        _edit(command="str_replace", path="calc.py", old_str="def mul(a, b)\n", new_str="def mul(a, b):\n"),
    ], _usage(600, 60, read=2400), "tool_use")
    _save(folder, "syntax", 2, 2, SONNET, [_text("`mul` compiles now.")], _usage(300, 15, read=2400), "end_turn")
    return folder


def make_tasks(*ids: str, force: dict[str, str] | None = None) -> list[Task]:
    force = force or {}
    return [
        Task(id=i, prompt=PROMPTS[i], scope="single-file", context_files=("calc.py",), force=force.get(i))
        for i in ids
    ]


def gateway(recordings: Path, speed: float = 0.0) -> ModelGateway:
    return ModelGateway(mode="replay", recordings=recordings, replay_speed=speed)


def config_for(root: Path):  # type: ignore[no-untyped-def]
    return load_config(root)


class ReplayGate:
    """Pauses every replayed stream after `frames` paced frames, until `release()`.

    Installed by patching `replay.replay_transport` with its own `sleep` hook; the gateway must
    replay at a finite, non-zero speed so that the pacing (and so the gate) is consulted.
    """

    def __init__(self, frames: int) -> None:
        self.frames = frames
        self.seen = 0
        self.paused = asyncio.Event()
        self._open = asyncio.Event()

    async def sleep(self, _seconds: float) -> None:
        self.seen += 1
        if self.seen > self.frames and not self._open.is_set():
            self.paused.set()
            await self._open.wait()

    def release(self) -> None:
        self._open.set()

    def install(self, monkeypatch: Any) -> None:
        original: Callable[..., Any] = replay.replay_transport
        monkeypatch.setattr(replay, "replay_transport", functools.partial(original, sleep=self.sleep))


async def wait_for(predicate: Callable[[], bool], pilot: Any, limit_s: float = 60.0) -> None:
    """Let the app run until `predicate()` holds (validators are real subprocesses)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("the app did not reach the expected state in time")
        await pilot.pause(0.02)




async def run_to_review(app: Any, pilot: Any, task_id: str) -> None:
    """Run the selected task `task_id` (press r) until its change awaits review."""
    await pilot.pause()
    await pilot.press("r")
    await wait_for(lambda: app.state.tasks[task_id].status == "awaiting_review", pilot)
