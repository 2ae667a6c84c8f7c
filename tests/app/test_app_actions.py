"""Every footer action, driven through Pilot against the real engine on offline recordings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gearshift import events as ev
from gearshift.ui.bindings import ACTIONS
from gearshift.ui.panes.cost import CostPane
from gearshift.ui.panes.output import OutputPane
from gearshift.ui.screens.confirm import ConfirmScreen
from gearshift.ui.screens.report import ReportScreen
from gearshift.ui.screens.review import ReviewScreen
from textual.widgets import DataTable, Markdown, Static

from tests.app.conftest import SIZE
from tests.app.project import CALC, OPUS, SONNET, ReplayGate, run_to_review, wait_for


def of(app: Any, kind: type) -> list[Any]:
    return [e for e in app.state.events if isinstance(e, kind)]


def capture_notes(app: Any) -> list[tuple[str, str]]:
    notes: list[tuple[str, str]] = []
    original = app.notify

    def notify(message: str, **kwargs: Any) -> None:
        notes.append((str(message), kwargs.get("severity", "information")))
        original(message, **kwargs)

    app.notify = notify
    return notes


async def test_every_action_has_a_binding_with_an_id_and_a_palette_command(build) -> None:  # type: ignore[no-untyped-def]
    app = build("story")
    ids = [b.id for b in app.BINDINGS]  # type: ignore[union-attr]
    assert len(ids) == len(set(ids))
    for spec in ACTIONS:
        assert spec.id in ids
        assert callable(getattr(app, f"action_{spec.action}"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {spec.title for spec in ACTIONS} <= titles
        assert "Quit the application" in titles or "Quit" in titles


async def test_force_escalation_before_the_first_run_then_reject_in_review(build) -> None:  # type: ignore[no-untyped-def]
    app = build("opus-direct")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("e")
        assert app.session.records["opus-direct"].task.force == "escalation"
        assert app.state.tasks["opus-direct"].forced == "escalation"
        await pilot.press("r")
        await wait_for(lambda: app.state.tasks["opus-direct"].status in ("awaiting_review", "failed"), pilot)
        assert app.state.tasks["opus-direct"].status == "awaiting_review", app.state.tasks["opus-direct"].error
        routed = of(app, ev.TaskRouted)
        assert [(e.model, e.rule) for e in routed] == [(OPUS, "forced-escalation")]
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("x")
        await wait_for(lambda: app.state.tasks["opus-direct"].status == "rejected", pilot)
        assert (app.config.root / "calc.py").read_text() == CALC
        assert of(app, ev.ChangeApplied) == []


async def test_forcing_a_model_is_told_by_an_event_the_panes_show(build) -> None:  # type: ignore[no-untyped-def]
    app = build("opus-direct")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("e")
        assert of(app, ev.ModelForced) == [ev.ModelForced(task_id="opus-direct", which="escalation", model=OPUS)]
        queue = app.query_one("#queue", DataTable)
        assert str(queue.get_cell("opus-direct", "model")).endswith("⇧")
        routing = str(app.query_one("#routing-body", Static).render())
        assert "next run forced to the escalation model" in routing
        await pilot.press("d")
        assert of(app, ev.ModelForced)[-1].which == "default"
        assert str(queue.get_cell("opus-direct", "model")).endswith("⇩")
        assert "next run forced to the default model" in str(app.query_one("#routing-body", Static).render())


async def test_force_default_and_run_all(build) -> None:  # type: ignore[no-untyped-def]
    app = build("story", "opus-direct", force={"opus-direct": "escalation"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("d")  # "story" is selected
        assert app.session.records["story"].task.force == "default"
        await pilot.press("R")
        await wait_for(lambda: all(not t.active and t.status != "queued" for t in app.state.tasks.values()), pilot)
        routed = {e.task_id: (e.model, e.rule) for e in of(app, ev.TaskRouted)}
        assert routed == {"story": (SONNET, "forced-default"), "opus-direct": (OPUS, "forced-escalation")}
        assert app.state.tasks["opus-direct"].status == "awaiting_review"
        # the story needed no change: it ends at review with no files, or approved as an answer
        assert app.state.tasks["story"].status in ("awaiting_review", "approved")
        assert "Paragraph 8" in app.state.tasks["story"].output.plain()


async def test_cancel_a_streaming_task_keeps_the_partial_output(build, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    gate = ReplayGate(frames=12)
    gate.install(monkeypatch)
    app = build("story", speed=1000.0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await wait_for(lambda: gate.paused.is_set() and app.state.tasks["story"].output.plain() != "", pilot)
        await pilot.pause(0.1)
        story = app.state.tasks["story"]
        assert story.status == "running"
        partial = story.output.plain()
        assert partial.startswith("## How calc.py") and "Paragraph 8" not in partial
        # the stream reached the Markdown widget (coalesced, not per token)
        markdown = app.query_one(OutputPane).query(Markdown).last()
        assert markdown.source.startswith("## How calc.py")
        await pilot.press("c")
        await wait_for(lambda: app.state.tasks["story"].status == "cancelled", pilot)
        assert [e.status for e in of(app, ev.TaskFinished)] == ["cancelled"]
        assert app.task_worker("story") is None
        # The cut-short call was paid for (its input was billed at message_start): it is booked.
        (failed,) = of(app, ev.CallFailed)
        assert failed.fault == "cancelled" and failed.cost_usd > 0
        assert app.state.session_cost == pytest.approx(failed.cost_usd)
        assert app.ledger is not None
        rows = list(app.ledger.calls(app.ledger.session))
        assert [(r["task_id"], r["fault"]) for r in rows] == [("story", "cancelled")]
        assert rows[0]["input_tokens"] > 0


async def test_a_task_without_a_recording_fails_with_the_engines_message(build) -> None:  # type: ignore[no-untyped-def]
    app = build("missing")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.sub_title == "tinyproj · offline: scripted demo recordings"
        await pilot.press("r")
        await wait_for(lambda: app.state.tasks["missing"].status == "failed", pilot)
        failed = of(app, ev.CallFailed)
        assert [e.fault for e in failed] == ["replay_missing"]
        errors = [s.text for s in app.state.tasks["missing"].output.segments if s.kind == "error"]
        assert any("no recording for task missing" in text for text in errors)
        await pilot.pause()
        shown = " ".join(str(w.render()) for w in app.query_one(OutputPane).query(".seg-error"))
        assert "no recording for task missing" in shown

        await pilot.press("ctrl+r")  # retry: the same clear failure, once more
        await wait_for(lambda: len(of(app, ev.TaskFinished)) == 2, pilot)
        assert [e.status for e in of(app, ev.TaskFinished)] == ["failed", "failed"]


async def test_budget_alert_warns_and_turns_the_gauge(build) -> None:  # type: ignore[no-untyped-def]
    app = build("story", alert=0.001)
    notes = capture_notes(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await wait_for(lambda: bool(of(app, ev.BudgetAlert)), pilot)
        await pilot.pause()
        assert of(app, ev.BudgetAlert)[0].threshold_usd == 0.001
        assert app.state.tasks["story"].alerted
        assert any(sev == "warning" and "per-task alert" in msg for msg, sev in notes)
        assert app.query_one(CostPane).query_one("#alert-gauge").has_class("-crossed")
        # both baselines reach the pane from the engine's meter, each shown with its name
        last = of(app, ev.CostUpdated)[-1]
        assert app.state.naive == last.naive_usd > 0 and app.state.escalation_equiv == last.escalation_equivalent_usd
        figures = str(app.query_one("#cost-figures", Static).render())
        assert "vs same calls at Opus 4.7 prices" in figures and "vs naive Opus 4.7" in figures
        assert app.query_one(CostPane).border_subtitle == "naive: no pruning, no cache"


async def test_session_budget_blocks_the_call_and_says_so(build) -> None:  # type: ignore[no-untyped-def]
    app = build("story", budget=0.0001)
    notes = capture_notes(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await wait_for(lambda: app.state.tasks["story"].status == "over_budget", pilot)
        await pilot.pause()
        assert len(of(app, ev.BudgetBlocked)) == 1
        assert of(app, ev.CallStarted) == []  # blocked before anything was sent
        assert any(sev == "error" and "session budget" in msg for msg, sev in notes)
        assert app.query_one(CostPane).query_one("#budget-gauge").has_class("-crossed")
        assert "over budget" in str(app.query_one("#queue", DataTable).get_row("story")[2])


async def test_report_screen_shows_the_ledger(build) -> None:  # type: ignore[no-untyped-def]
    app = build("story")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await wait_for(lambda: not app.state.tasks["story"].active and app.state.tasks["story"].status != "queued", pilot)
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, ReportScreen)
        table = app.screen.query_one(DataTable)
        keys = [row.value for row in table.rows]
        assert keys == [SONNET, "__total__"]
        assert table.get_row(SONNET)[1] == "1"  # one call
        caption = str(app.screen.query_one("#report-caption", Static).render())
        assert "Latency leaves out 1 call replayed from recordings" in caption  # the tests' calls are replayed
        assert "same calls = same calls at Opus 4.7 prices" in caption and "naive = naive Opus 4.7" in caption
        await pilot.press("t")
        await pilot.pause()
        assert [row.value for row in table.rows] == ["(untagged)", "__total__"]
        await pilot.press("a")  # no experiment configured: both arms empty, and it says so
        await pilot.pause()
        assert [row.value for row in table.rows] == ["a", "b"]
        caption = str(app.screen.query_one("#report-caption", Static).render())
        assert "no [routing.experiment] in the config" in caption and "too few tasks to test" in caption
        await pilot.press("u")  # tuning: one scored task is far too few to recommend anything
        await pilot.pause()
        assert app.screen.has_class("-tuning") and len(table.rows) == 14
        caption = str(app.screen.query_one("#report-caption", Static).render())
        assert "1 scored task," in caption and "too few tasks to recommend a threshold" in caption
        plot = str(app.screen.query_one("#report-plot", Static).render())
        assert "Score against outcome" in plot and "↑ threshold 0.75" in plot and ".75" in plot
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ReportScreen)


async def test_quit_while_running_asks_then_cancels(build, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    gate = ReplayGate(frames=5)
    gate.install(monkeypatch)
    app = build("story", speed=1000.0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await wait_for(gate.paused.is_set, pilot)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert app.task_worker("story") is not None
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_for(lambda: app.return_code is not None, pilot)
    assert app.return_code == 0
    assert [e.status for e in of(app, ev.TaskFinished)] == ["cancelled"]


async def test_quit_with_a_change_awaiting_review_asks_and_keeps_it_as_a_patch(build) -> None:  # type: ignore[no-untyped-def]
    app = build("opus-direct", force={"opus-direct": "escalation"})
    root = app.config.root
    async with app.run_test(size=SIZE) as pilot:
        await run_to_review(app, pilot, "opus-direct")
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "await your review (opus-direct)" in app.screen.question
        await pilot.press("n")  # stay: the change is still there to review
        await pilot.pause()
        assert app.state.tasks["opus-direct"].status == "awaiting_review"
        assert not (root / ".gearshift" / "patches").exists()
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("y")
        await wait_for(lambda: app.return_code is not None, pilot)
    patch = (root / ".gearshift" / "patches" / "opus-direct.diff").read_text()
    assert patch.startswith("--- a/calc.py") and "+def mul" in patch
    assert "def mul" not in (root / "calc.py").read_text()  # nothing written to the project


async def test_quit_from_a_half_typed_task_asks(build) -> None:  # type: ignore[no-untyped-def]
    from gearshift.ui.screens.add_task import AddTaskScreen
    from textual.widgets import TextArea

    app = build("story")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, AddTaskScreen)
        app.screen.query_one("#task-prompt", TextArea).text = "Add a div function"
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "The task you are typing is not added." in app.screen.question
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, AddTaskScreen)
        assert app.screen.query_one("#task-prompt", TextArea).text == "Add a div function"


async def test_running_an_applied_task_again_asks_first(build) -> None:  # type: ignore[no-untyped-def]
    app = build("opus-direct", force={"opus-direct": "escalation"})
    async with app.run_test(size=SIZE) as pilot:
        await run_to_review(app, pilot, "opus-direct")
        await pilot.press("v")
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(lambda: app.session.records["opus-direct"].applied, pilot)
        for key in ("ctrl+r", "r"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen)
            assert "is applied to your files" in app.screen.question
            await pilot.press("n")
            await pilot.pause()
            assert app.task_worker("opus-direct") is None and len(of(app, ev.TaskRouted)) == 1
        await pilot.press("ctrl+r")
        await pilot.pause()
        await pilot.press("y")
        await wait_for(lambda: len(of(app, ev.TaskRouted)) == 2, pilot)


async def test_quit_when_idle_does_not_ask(build) -> None:  # type: ignore[no-untyped-def]
    app = build("story")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_a_flood_of_text_keeps_the_output_pane_small(build) -> None:  # type: ignore[no-untyped-def]
    """An instant replay's worth of deltas: everything reaches the state, the pane mounts only a
    bounded tail (long finished segments frozen into one widget each once the flood is over),
    and keys still work."""
    from gearshift.ui.panes.output import PANE_CHARS, FrozenText

    app = build("story")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        paragraph = "Every tick writes what it gathered once, so the loop stays free. " * 6 + "\n\n"
        text = paragraph * 300  # ~120k characters
        for start in range(0, len(text), 4000):
            for i in range(start, min(start + 4000, len(text)), 4):
                app.emit_event(ev.TextDelta(task_id="story", attempt=1, text=text[i : i + 4]))
            await pilot.pause()
        pane = app.query_one(OutputPane)
        story = app.state.tasks["story"]
        await wait_for(lambda: not app._buffer and pane.caught_up(story), pilot)
        assert story.output.plain() == text
        shown = sum(len(s.text) for s in story.output.segments if s.seq in pane._widgets)
        assert shown <= PANE_CHARS + 4_000
        await wait_for(lambda: pane.settled, pilot)  # the flood's plain text handed to Markdown
        assert any(isinstance(w, FrozenText) for w in pane.children)
        assert pane.query(".seg-hidden")  # says that earlier parts are not shown
        await pilot.press("a")  # the app still answers keys
        await pilot.pause()
        assert type(app.screen).__name__ == "AddTaskScreen"


async def test_run_all_waits_for_each_review_before_the_next_task(build) -> None:  # type: ignore[no-untyped-def]
    """A later task is staged on what the earlier one left, so run-all pauses at each review."""
    app = build("opus-direct", "story", force={"opus-direct": "escalation"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("R")
        await wait_for(lambda: app.state.tasks["opus-direct"].status == "awaiting_review", pilot)
        await pilot.pause(0.5)
        assert app.session.records["story"].status == "queued"  # not started behind the review
        app.session.apply("opus-direct")
        await wait_for(lambda: app.state.tasks["story"].status == "approved", pilot)
        assert "def mul" in (app.config.root / "calc.py").read_text()


async def test_a_narrow_queue_keeps_id_status_and_cost_and_widens_back(build) -> None:  # type: ignore[no-untyped-def]
    from gearshift.ui.panes.queue import TaskQueue

    app = build("mul", "story")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        queue = app.query_one(TaskQueue)
        await pilot.press("down")
        await pilot.pause()
        assert queue.compact and [c.value for c in queue.columns] == ["id", "status", "cost"]
        assert queue.selected == "story"
        # the cost column is inside the pane, not cut off
        assert sum(c.get_render_width(queue) for c in queue.columns.values()) <= queue.scrollable_content_region.width
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert not queue.compact and [c.value for c in queue.columns] == ["id", "scope", "status", "model", "cost"]
        assert queue.selected == "story" and app.selected == "story"
        assert str(queue.get_cell("story", "scope")) == "single-file"


async def test_a_change_whose_file_became_a_symlink_out_of_the_project_is_refused_in_review(build, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = build("opus-direct", force={"opus-direct": "escalation"})
    root = app.config.root
    async with app.run_test(size=SIZE) as pilot:
        await run_to_review(app, pilot, "opus-direct")
        outside = tmp_path / "elsewhere.py"
        outside.write_text((root / "calc.py").read_text())
        (root / "calc.py").unlink()
        (root / "calc.py").symlink_to(outside)
        await pilot.press("v")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        review = app.screen
        assert isinstance(review, ReviewScreen)  # still open, nothing lost, no crash
        assert "a symlink leads outside the project" in str(review.query_one("#review-error").render())
        assert app.state.tasks["opus-direct"].status == "awaiting_review"
    assert "def mul" not in outside.read_text()


async def test_a_key_acts_on_the_row_under_the_cursor_even_before_the_selection_message(build) -> None:  # type: ignore[no-untyped-def]
    from gearshift.ui.panes.queue import TaskQueue

    app = build("story", "mul")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.selected == "story"
        queue = app.query_one(TaskQueue)
        queue.move_cursor(row=1)  # as a burst of keys would: the Selected message is not handled yet
        app.action_run()
        assert app.task_worker("mul") is not None and app.task_worker("story") is None
        await wait_for(lambda: app.selected == "mul" and "mul" in app.approvals, pilot)  # its run went on
