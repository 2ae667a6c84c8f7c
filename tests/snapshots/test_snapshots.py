"""Pictures of the app at the moments that matter, at a fixed 120x40 (and one at 80x24).

Every test is a plain `def` (snap_compare runs its own event loop). Pictures hold no clock, no
durations (`show_timings=False`), no absolute path (the project is always `tinyproj`), and no
blinking cursor. The engine runs for real on scripted recordings; where a picture needs the stream
stopped mid-way, a ReplayGate holds the replay after a fixed number of frames.
"""

from __future__ import annotations

from typing import Any

import pytest
from gearshift import events as ev
from gearshift.tasks import Task
from gearshift.ui import themes
from gearshift.ui.app import make_app

from tests.app.project import ReplayGate, config_for, gateway, wait_for, write_project

SIZE = (120, 40)
DETERMINISTIC = {"show_timings": False, "cursor_blink": False}


@pytest.fixture
def build(build):  # type: ignore[no-untyped-def]
    """The app factory, with toasts that outlive a slow machine (they expire after 5 s)."""

    def _build(*args: Any, **kwargs: Any) -> Any:
        app = build(*args, **DETERMINISTIC, **kwargs)
        app.NOTIFICATION_TIMEOUT = 3600
        app.animation_level = "none"  # gauges jump to their value: no half-drawn bar in a picture
        return app

    return _build


async def until(pilot: Any, predicate: Any) -> None:
    """Wait for the state, then for everything it caused to be on screen (`app.settled()`)."""
    await wait_for(predicate, pilot)
    await pilot.app.settled()


def test_idle_main_screen(snap_compare, build) -> None:  # type: ignore[no-untyped-def]
    """The main screen before anything ran: three queued tasks (mul highlighted), the routing
    pane says "Not routed yet", the cost meter shows $0 with no session limit, the validation
    pane says "No validation yet", and the header says "offline: scripted demo recordings"."""
    app = build("mul", "story", "missing")
    assert snap_compare(app, terminal_size=SIZE, run_before=lambda pilot: app.settled())


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
        await until(pilot, lambda: app.selected == "story")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def _proposal(app: Any) -> Any:
    async def run_before(pilot: Any) -> None:
        await pilot.press("r")
        await until(pilot, lambda: app.state.tasks["mul"].awaiting_approval)

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
        await until(pilot, lambda: app.state.tasks["mul"].status == "rejected")

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
        await pilot.app.settled()
        await pilot.press("space")
        await pilot.app.settled()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_budget_alert(snap_compare, build) -> None:  # type: ignore[no-untyped-def]
    """`story` cost more than the $0.001 per-task alert: a warning toast names the threshold,
    the queue shows "⚠" next to the status, and the cost meter's alert gauge and label are in
    the warning colour ("⚠ crossed")."""
    app = build("story", checks="script", alert=0.001)

    async def run_before(pilot: Any) -> None:
        await pilot.press("r")
        await until(pilot, lambda: app.state.tasks["story"].status not in ("queued", "running", "validating"))

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("theme", [themes.DEFAULT_DARK, themes.DEFAULT_LIGHT])
def test_shipped_theme(snap_compare, build, theme: str) -> None:  # type: ignore[no-untyped-def]
    """`opus-direct`, forced to Opus 4.7, is awaiting review in the given shipped theme: the
    model in the escalation tier colour, the staged diff highlighted, validation passing."""
    app = build("opus-direct", checks="script", force={"opus-direct": "escalation"}, theme=theme)

    async def run_before(pilot: Any) -> None:
        await pilot.press("r")
        await until(pilot, lambda: app.state.tasks["opus-direct"].status == "awaiting_review")

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
        await app.settled()
        await pilot.press("u")
        await app.settled()
        await pilot.press("s")
        await app.settled()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


# -- routing decisions (tasks without recordings: they are routed, then fail at the call) ------


def _routed(app: Any, task_id: str) -> Any:
    async def run_before(pilot: Any) -> None:
        app.query_one("#queue").select(task_id)
        await pilot.press("r")
        await until(pilot, lambda: app.state.tasks[task_id].status == "over_budget" and app.selected == task_id)
        app.clear_notifications()
        await app.settled()

    return run_before


MODULES = tuple(f"pkg/m{i}.py" for i in range(11))
ROUTED = {
    # a multi-module change over eleven files that mentions passwords: a real score with its
    # signals (scope, many files, lines involved, security terms), over the threshold
    "score": Task(id="score", scope="multi-module", prompt="Move password checks out of every module in "
                  "pkg/ into one helper and update each caller.", context_files=MODULES),
    # a security task: the always-escalate rule, whatever the score
    "audit": Task(id="audit", scope="security", prompt="Audit calc.py for unsafe input handling."),
    # an interactive question whose model is slower than routing.max_latency_ms: the latency rule
    "ask": Task(id="ask", scope="architecture", prompt="Quick question: should calc.py become a package?",
                interactive=True, requires_validation=False),
}


@pytest.mark.parametrize("task_id", list(ROUTED))
def test_routing_decision(snap_compare, tmp_path, recordings, task_id: str) -> None:  # type: ignore[no-untyped-def]
    """The routing pane for one decided task, blocked before its call by a $0.0001 session
    budget (the output pane and a gauge say so). score: "score ≥ threshold" on Opus 4.7, the
    bar past its threshold mark, each signal with its weight and detail; audit: the
    "always-escalate scope" rule on Opus 4.7; ask: the "latency fallback (interactive)" rule
    with its explanation."""
    root = write_project(tmp_path / "tinyproj", checks="script", budget=0.0001)
    (root / "pkg").mkdir()
    for path in MODULES:
        (root / path).write_text("".join(f"def f{n}(x):\n    return x + {n}\n\n" for n in range(20)))
    app = make_app(config_for(root), [ROUTED[task_id]], gateway(recordings), watch=False,
                   user_themes_dir=tmp_path / "themes", **DETERMINISTIC)
    app.NOTIFICATION_TIMEOUT = 3600
    assert snap_compare(app, terminal_size=SIZE, run_before=_routed(app, task_id))


# -- the cost meter, the report, the forms -------------------------------------------------------


@pytest.mark.parametrize("theme", [themes.DEFAULT_DARK, themes.DEFAULT_LIGHT])
def test_session_budget_at_80x24(snap_compare, build, theme: str) -> None:  # type: ignore[no-untyped-def]
    """80x24 after `story` ran under a $0.50 session budget: the cost pane is two lines, not
    cut — task, session and saved on the first, the alert and budget gauges side by side on the
    second; the footer ends with "q Quit". Both themes: every pane's border is visible."""
    app = build("story", "mul", checks="script", budget=0.5, theme=theme)

    async def run_before(pilot: Any) -> None:
        await pilot.press("r")
        await until(pilot, lambda: app.state.tasks["story"].status == "approved")
        app.clear_notifications()
        await app.settled()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_report_screen(snap_compare, build) -> None:  # type: ignore[no-untyped-def]
    """The report (l) after `story` ran: this session's spend by model — one Sonnet 4.6 row
    with its calls, cost, escalation rate and latency — and the keys to regroup it."""
    app = build("story", checks="script")

    async def run_before(pilot: Any) -> None:
        await pilot.press("r")
        await until(pilot, lambda: app.state.tasks["story"].status == "approved")
        app.clear_notifications()
        await pilot.press("l")
        await app.settled()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_add_form_refuses_a_duplicate_id(snap_compare, build) -> None:  # type: ignore[no-untyped-def]
    """The add-task form (a) with the id of a task already in the session: the id field has a
    red border and the form says "id: 'story' is already a task in this session: choose
    another id"; the typed prompt is still there."""
    app = build("story", "mul")

    async def run_before(pilot: Any) -> None:
        await pilot.press("a")
        await app.settled()
        form = app.screen
        form.query_one("#task-id").value = "story"
        await pilot.press(*"Explain calc.py again")
        await pilot.press("ctrl+s")
        await app.settled()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_confirm_quit_with_an_escalation_awaiting_approval(snap_compare, build) -> None:  # type: ignore[no-untyped-def]
    """q while `mul` waits for the user's y / n: the dialog says the task is waiting for your
    approval of an escalation and will be cancelled (not "still running"), with Quit / Stay."""
    app = build("mul", checks="script")

    async def run_before(pilot: Any) -> None:
        await _proposal(app)(pilot)
        app.clear_notifications()
        await pilot.press("q")
        await app.settled()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_syntax_correction(snap_compare, build) -> None:  # type: ignore[no-untyped-def]
    """`syntax`: Sonnet's first edit does not compile (v1 fail-syntax, compile's finding on
    calc.py), a correction attempt on Sonnet fixes the colon (v2 pass): the output pane shows
    both attempts, "attempt 2 · correction", and the change awaits review."""
    app = build("syntax", checks="compile")

    async def run_before(pilot: Any) -> None:
        await pilot.press("r")
        await until(pilot, lambda: app.state.tasks["syntax"].status == "awaiting_review")
        app.clear_notifications()
        await app.settled()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_cancelled_watcher_run(snap_compare, build) -> None:  # type: ignore[no-untyped-def]
    """The watcher's run w1 was made stale by a newer save: the validation summary shows w2's
    result and the log shows w1 struck through as "CANCELLED — stale, a newer change
    superseded it" before w2's pass. (The events are the engine's, fed in as it emits them.)"""
    app = build("story", checks="script")

    async def run_before(pilot: Any) -> None:
        for e in (
            ev.ValidationStarted(run_id="w1", task_id=None, checks=["unit"], reason="watch"),
            ev.ValidationFinished(run_id="w1", task_id=None, outcome="cancelled", findings=[], reason="watch"),
            ev.ValidationStarted(run_id="w2", task_id=None, checks=["unit"], reason="watch"),
            ev.ValidationLine(run_id="w2", check="unit", line="all checks passed"),
            ev.CheckFinished(run_id="w2", check="unit", kind="logic", passed=True, findings=[], duration_ms=40.0, exit_code=0),
            ev.ValidationFinished(run_id="w2", task_id=None, outcome="pass", findings=[], reason="watch"),
        ):
            app.emit_event(e)
        await app.settled()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


# -- the light theme where colours matter -----------------------------------------------------------


def test_escalation_proposal_in_the_light_theme(snap_compare, build) -> None:  # type: ignore[no-untyped-def]
    """The escalation proposal of test_escalation_proposal in gearshift-light: tier colours,
    the "⚑ awaiting approval" warning and the fail-logic badge readable on a light background,
    every pane's border visible."""
    app = build("mul", "story", checks="script", theme=themes.DEFAULT_LIGHT)
    assert snap_compare(app, terminal_size=SIZE, run_before=_proposal(app))


def test_review_screen_at_80x24_in_the_light_theme(snap_compare, build) -> None:  # type: ignore[no-untyped-def]
    """The review screen at 80x24 in gearshift-light: every key fits the footer, "x Reject
    change" and "esc Back" included; hunk borders green (accept) on the light background."""
    app = build("opus-direct", checks="script", force={"opus-direct": "escalation"}, theme=themes.DEFAULT_LIGHT)

    async def run_before(pilot: Any) -> None:
        await pilot.press("r")
        await until(pilot, lambda: app.state.tasks["opus-direct"].status == "awaiting_review")
        app.clear_notifications()
        await pilot.press("v")
        await app.settled()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
