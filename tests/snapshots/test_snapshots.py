"""Pictures of the app at the moments that matter, at a fixed 120x40 (and one at 80x24).

Every test is a plain `def` (snap_compare runs its own event loop). Pictures hold no clock, no
durations (`show_timings=False`), no absolute path (the project is always `tinyproj`), and no
blinking cursor. The engine runs for real on scripted recordings; where a picture needs the stream
stopped mid-way, a ReplayGate holds the replay after a fixed number of frames.
"""

from __future__ import annotations

from typing import Any

import pytest
from gearshift.ui import themes
from gearshift.ui.panes.output import OutputPane
from textual.widgets import Markdown

from tests.app.project import ReplayGate, wait_for

SIZE = (120, 40)
DETERMINISTIC = {"show_timings": False, "cursor_blink": False}


@pytest.fixture
def build(build):  # type: ignore[no-untyped-def]
    """The app factory, with toasts that outlive a slow machine (they expire after 5 s)."""

    def _build(*args: Any, **kwargs: Any) -> Any:
        app = build(*args, **DETERMINISTIC, **kwargs)
        app.NOTIFICATION_TIMEOUT = 3600
        return app

    return _build


def settled(app: Any, task_id: str) -> Any:
    """A predicate: the task's output pane shows everything the state holds for it."""

    def check() -> bool:
        t = app.state.tasks[task_id]
        if app._buffer or app.selected != task_id:
            return False
        pane = app.query_one(OutputPane)
        if not pane.caught_up(t) or not pane.settled:  # settled: no flood's plain text left
            return False
        live = pane.query(Markdown)  # a streaming segment: its appends land asynchronously
        last = t.output.segments[-1]
        return not live or last.kind != "text" or live.last().source == last.text

    return check


async def until(pilot: Any, predicate: Any) -> None:
    """Wait for the state, then for the repaint it causes."""
    await wait_for(predicate, pilot)
    await pilot.pause(0.3)


def test_idle_main_screen(snap_compare, build) -> None:  # type: ignore[no-untyped-def]
    """The main screen before anything ran: three queued tasks (mul highlighted), the routing
    pane says "Not routed yet", the cost meter shows $0 with no session limit, the validation
    pane says "No validation yet", and the header says "offline: scripted demo recordings"."""
    app = build("mul", "story", "missing")
    assert snap_compare(app, terminal_size=SIZE, run_before=lambda pilot: pilot.pause(0.2))


def test_task_streaming(snap_compare, build, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """`story` is running on Sonnet 4.6 and its answer is half streamed: the output pane shows
    the heading and the first paragraphs of Markdown (no Paragraph 8 yet); the queue says running;
    the routing pane shows score 0.00 below the 0.75 threshold."""
    gate = ReplayGate(frames=60)
    gate.install(monkeypatch)
    app = build("story", "mul", speed=1000.0)

    async def run_before(pilot: Any) -> None:
        await pilot.press("r")
        await wait_for(gate.paused.is_set, pilot)
        await until(pilot, settled(app, "story"))

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def _proposal(app: Any) -> Any:
    async def run_before(pilot: Any) -> None:
        await pilot.press("r")
        await until(pilot, lambda: app.state.tasks["mul"].awaiting_approval and settled(app, "mul")())

    return run_before


def test_escalation_proposal(snap_compare, build) -> None:  # type: ignore[no-untyped-def]
    """`mul` failed its logic check on Sonnet: the queue says "awaiting approval ⚑", the routing
    pane shows the escalation Sonnet 4.6 → Opus 4.7 awaiting approval (y / n) with the payload
    tokens against naive and the estimated cost; the validation pane shows unit fail-logic with the finding calc.py:12; the output pane ends with the proposal notice."""
    app = build("mul", "story", checks="script")
    assert snap_compare(app, terminal_size=SIZE, run_before=_proposal(app))


def test_escalation_proposal_at_80x24(snap_compare, build) -> None:  # type: ignore[no-untyped-def]
    """The same proposal on an 80x24 terminal: all five panes still show (queue and routing on
    top, output, validation and cost below), smaller and scrollable."""
    app = build("mul", "story", checks="script")
    assert snap_compare(app, terminal_size=(80, 24), run_before=_proposal(app))


def test_failed_validation(snap_compare, build) -> None:  # type: ignore[no-untyped-def]
    """The escalation was declined: `mul` is rejected; the validation pane shows run v1 with a
    red fail-logic badge for `unit` and its finding; the routing pane shows "declined (user)";
    the output pane ends with the rejection in red."""
    app = build("mul", checks="script")

    async def run_before(pilot: Any) -> None:
        await _proposal(app)(pilot)
        app.clear_notifications()
        await pilot.press("n")
        await until(pilot, lambda: app.state.tasks["mul"].status == "rejected" and settled(app, "mul")())

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_review_screen_with_hunks(snap_compare, build) -> None:  # type: ignore[no-untyped-def]
    """After approving, Opus fixed `mul`; the review screen lists calc.py (2 hunks) and
    tests/test_mul.py (new file, 1 hunk), with the validation passing. The first hunk (the
    docstring) is toggled to "✗ reject" (dimmed, red border); the other two say "✓ accept"."""
    app = build("mul", checks="script")

    async def run_before(pilot: Any) -> None:
        await _proposal(app)(pilot)
        await pilot.press("y")
        await until(pilot, lambda: app.state.tasks["mul"].status == "awaiting_review")
        app.clear_notifications()
        await pilot.press("v")
        await pilot.pause(0.2)
        await pilot.press("space")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_budget_alert(snap_compare, build) -> None:  # type: ignore[no-untyped-def]
    """`story` cost more than the $0.001 per-task alert: a warning toast names the threshold,
    the queue shows "⚠" next to the status, and the cost meter's alert gauge and label are in
    the warning colour ("⚠ crossed")."""
    app = build("story", checks="script", alert=0.001)

    async def run_before(pilot: Any) -> None:
        await pilot.press("r")
        await until(pilot, lambda: app.state.tasks["story"].status not in ("queued", "running", "validating") and settled(app, "story")())

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("theme", [themes.DEFAULT_DARK, themes.DEFAULT_LIGHT])
def test_shipped_theme(snap_compare, build, theme: str) -> None:  # type: ignore[no-untyped-def]
    """`opus-direct`, forced to Opus 4.7, is awaiting review in the given shipped theme: the
    model in the escalation tier colour, the staged diff highlighted, validation passing."""
    app = build("opus-direct", checks="script", force={"opus-direct": "escalation"}, theme=theme)

    async def run_before(pilot: Any) -> None:
        await pilot.press("r")
        await until(pilot, lambda: app.state.tasks["opus-direct"].status == "awaiting_review" and settled(app, "opus-direct")())

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_report_tuning_view(snap_compare, build) -> None:  # type: ignore[no-untyped-def]
    """The report's Tuning view (l, then u, then s for every session) on a ledger of 24 tasks
    whose best threshold is 0.60: the caption recommends 0.60 and gives the method; the what-if
    table marks 0.60 "← recommended" and 0.75 "← today"; below, the score-against-outcome strip
    (passes at 0.2, escalations at 0.6, Opus passes at 0.8, the threshold mark at 0.75), the cost
    bars (the 0.30–0.60 bars shortest and green, .75 in bold) and the per-band lines."""
    from tests.engine.test_tune import known_ledger

    app = build("mul")

    async def run_before(pilot: Any) -> None:
        known_ledger(app.ledger.path).close()  # another session's rows: hence s for all sessions
        await pilot.press("l")
        await pilot.pause(0.2)
        await pilot.press("u")
        await pilot.pause(0.2)
        await pilot.press("s")
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
