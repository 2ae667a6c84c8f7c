"""Quitting is clean on every path: nothing starts after the user confirmed, what runs is
cancelled and awaited, the ledger closes last, and no path leaves a traceback or a warning."""

from __future__ import annotations

import json
import logging
import os
import signal
from typing import Any

import pytest
from gearshift import events as ev
from gearshift.ui.screens.confirm import ConfirmScreen

from tests.app.conftest import SIZE
from tests.app.project import ReplayGate, wait_for

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")  # "coroutine … was never awaited"


def count_calls(app: Any) -> list[str]:
    """Every model call the gateway is asked to make, by task, from now on."""
    calls: list[str] = []
    original = app.gateway.stream

    async def stream(req: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(req.task_id if hasattr(req, "task_id") else req.model.id)
        return await original(req, *args, **kwargs)

    app.gateway.stream = stream
    return calls


def watch_ledger(app: Any) -> list[str]:
    """Ledger writes made after it was closed (each would be a ProgrammingError)."""
    late: list[str] = []
    ledger = app.ledger
    closed = [False]
    for name in ("record_call", "record_task"):
        original = getattr(ledger, name)

        def wrapped(*args: Any, _original: Any = original, _name: str = name) -> Any:
            if closed[0]:
                late.append(_name)
            return _original(*args)

        setattr(ledger, name, wrapped)
    close = ledger.close

    def closing() -> None:
        closed[0] = True
        close()

    ledger.close = closing
    return late


async def test_quit_while_run_all_awaits_an_escalation_makes_no_more_calls(
    build: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = build("mul", "opus-direct", "story")
    calls = count_calls(app)
    late = watch_ledger(app)
    with caplog.at_level(logging.ERROR):
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("R")
            await wait_for(lambda: "mul" in app.approvals, pilot)
            await pilot.press("q")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen)
            made = len(calls)
            await pilot.press("y")
            await wait_for(lambda: app.return_code is not None, pilot)
        assert len(calls) == made  # nothing after the user said Quit
    assert app.return_code == 0 and app._exception is None
    assert late == []
    assert app.session.records["opus-direct"].status == "queued"  # never started
    assert app.session.records["mul"].status == "cancelled"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_the_palette_has_one_quit_and_it_asks(build: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = ReplayGate(frames=5)
    gate.install(monkeypatch)
    app = build("story", speed=1000.0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert [t for t in titles if "quit" in t.lower()] == ["Quit"]
        await pilot.press("r")
        await wait_for(gate.paused.is_set, pilot)
        await app.action_quit()  # what Textual's own palette entry and bindings call
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert [t for t in titles if "quit" in t.lower()] == ["Quit"]  # over a modal too
        await pilot.press("y")
        await wait_for(lambda: app.return_code is not None, pilot)
    assert app.return_code == 0 and app._exception is None
    assert app.session.records["story"].status == "cancelled"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
async def test_a_stop_signal_quits_like_a_confirmed_quit(
    build: Any, monkeypatch: pytest.MonkeyPatch, signum: int
) -> None:
    gate = ReplayGate(frames=5)
    gate.install(monkeypatch)
    app = build("story", speed=1000.0)
    late = watch_ledger(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await wait_for(gate.paused.is_set, pilot)
        os.kill(os.getpid(), signum)
        await wait_for(lambda: app.return_code is not None, pilot)
    assert app.return_code == 128 + signum and app._exception is None
    assert app.session.records["story"].status == "cancelled"
    assert late == []
    assert signal.getsignal(signum) == signal.SIG_DFL  # our handler is taken away with the app


async def test_the_app_completes_an_interrupted_apply_before_anything_runs(build: Any) -> None:
    """The journal of a dead process's apply is finished at start and the user is told."""
    from gearshift.edits import intent
    from gearshift.edits.apply import apply_changes
    from gearshift.edits.workspace import FileChange

    app = build("story")  # writes the project; the app under test is built again below
    root = app.config.root
    journal_dir = root / ".gearshift" / "undo"
    calc = (root / "calc.py").read_text()
    apply_changes(root, [FileChange("calc.py", calc, calc + "# done\n")], journal_dir, "t9")
    (root / "calc.py").write_text(calc)  # as if the process died before writing calc.py ...
    stamp = json.loads((journal_dir / "t9.json").read_text())["applied_at_ns"]
    intent.begin(journal_dir, {"op": "apply", "task_id": "t9", "stamp": stamp, "superseded": None})
    (root / ".calc.py.0123abcd.gearshift-tmp").write_text("half")  # ... between temp file and rename
    app = build("story")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: not (root / ".calc.py.0123abcd.gearshift-tmp").exists(), pilot)
        await pilot.pause()
        notes = [e.message for e in app.state.events if isinstance(e, ev.Notice)]
    assert notes[0] == "an interrupted apply of task t9 was completed (1 file(s))"
    assert notes[1].startswith("removed 1 temp file(s)")
    assert (root / "calc.py").read_text() == calc + "# done\n"
