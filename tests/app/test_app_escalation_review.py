"""The product's main story through the keyboard: a task is routed, fails its tests, proposes an
escalation that survives looking elsewhere, is approved, Opus fixes it, and the change is
reviewed hunk by hunk, applied in part, and undone — checked on the engine's events, the app's
state and the files on disk."""

from __future__ import annotations

from gearshift import events as ev
from gearshift.ui.panes.queue import TaskQueue
from gearshift.ui.panes.routing import routing_content
from gearshift.ui.screens.review import ReviewScreen

from tests.app.conftest import SIZE
from tests.app.project import CALC, OPUS, SONNET, TEST_MUL, wait_for


def of(app, kind):  # type: ignore[no-untyped-def]
    return [e for e in app.state.events if isinstance(e, kind)]


async def test_escalation_approval_review_partial_apply_and_undo(build) -> None:  # type: ignore[no-untyped-def]
    app = build("mul", "story")
    root = app.config.root
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.selected == "mul"
        await pilot.press("r")
        await wait_for(lambda: "mul" in app.approvals and app.state.tasks["mul"].awaiting_approval, pilot)
        mul = app.state.tasks["mul"]
        assert mul.validation == "fail-logic"
        assert mul.proposal is not None and mul.proposal["to_model"] == OPUS
        assert [e.model for e in of(app, ev.TaskRouted)] == [SONNET]
        assert "awaiting approval" in app.sub_title

        # Looking at another task and pressing y there decides nothing for "mul".
        await pilot.press("down")
        await pilot.pause()
        assert app.selected == "story"
        await pilot.press("y")
        await pilot.pause()
        assert not app.approvals["mul"].done()
        assert of(app, ev.EscalationDecided) == []

        await pilot.press("up")
        await pilot.pause()
        assert app.selected == "mul"
        await pilot.press("y")
        await wait_for(lambda: app.state.tasks["mul"].status == "awaiting_review", pilot)
        assert of(app, ev.EscalationDecided) == [ev.EscalationDecided(task_id="mul", approved=True, by="user")]
        assert [(e.attempt, e.model, e.kind) for e in of(app, ev.AttemptStarted)] == [
            (1, SONNET, "initial"),
            (2, OPUS, "escalation"),
        ]
        assert mul.route == [SONNET, OPUS]
        assert mul.validation == "pass"
        assert set(app.state.by_model) == {SONNET, OPUS}
        assert app.state.session_cost == app.session.summary()["total_cost_usd"]  # the meter's own figure
        assert "mul` now multiplies" in mul.output.plain()

        await pilot.press("v")
        await pilot.pause()
        review = app.screen
        assert isinstance(review, ReviewScreen)
        views = review.hunk_views()
        assert [(v.hunk.path, v.hunk.index) for v in views] == [("calc.py", 0), ("calc.py", 1), ("tests/test_mul.py", 0)]
        assert app.focused is views[0]
        await pilot.press("space")  # reject the docstring rewording
        assert [v.accepted for v in views] == [False, True, True]
        # Leaving and coming back keeps the choices.
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ReviewScreen)
        await pilot.press("v")
        await pilot.pause()
        assert [v.accepted for v in app.screen.hunk_views()] == [False, True, True]  # type: ignore[attr-defined]
        await pilot.press("enter")
        # A part of the change is checked as it would land before it is written.
        await wait_for(lambda: bool(of(app, ev.ChangeApplied)), pilot)
        (selection,) = [e for e in of(app, ev.ValidationFinished) if e.reason == "selection"]
        assert selection.task_id == "mul" and selection.outcome == "pass"
        await pilot.pause()
        assert not isinstance(app.screen, ReviewScreen)
        assert of(app, ev.ChangeApplied) == [ev.ChangeApplied(task_id="mul", files=["calc.py", "tests/test_mul.py"], partial=True)]
        assert (root / "calc.py").read_text() == CALC + "\n\ndef mul(a, b):\n    return a * b\n"
        assert (root / "tests" / "test_mul.py").read_text() == TEST_MUL
        assert app.state.tasks["mul"].status == "approved"
        assert app.state.applied == ["mul"]

        await pilot.press("u")
        await wait_for(lambda: bool(of(app, ev.ChangeUndone)), pilot)
        assert (root / "calc.py").read_text() == CALC
        assert not (root / "tests" / "test_mul.py").exists()
        assert app.state.applied == []
        assert app.ledger is not None
        assert len(list(app.ledger.calls(app.ledger.session))) == 4  # every paid call is booked
        # The queue says so (the engine keeps "approved"), and the row can be run again.
        assert (mul.status, mul.label) == ("approved", "undone")
        assert str(app.query_one(TaskQueue).get_cell("mul", "status")) == "undone"
        await pilot.press("ctrl+r")
        await wait_for(lambda: len(of(app, ev.TaskRouted)) == 2, pilot)
        assert app.state.tasks["mul"].label != "undone"


async def test_a_selection_of_hunks_that_fails_its_checks_is_applied_only_when_asked_again(build) -> None:  # type: ignore[no-untyped-def]
    app = build("mul")
    root = app.config.root
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await wait_for(lambda: "mul" in app.approvals, pilot)
        await pilot.press("y")
        await wait_for(lambda: app.state.tasks["mul"].status == "awaiting_review", pilot)
        await pilot.press("v")
        await pilot.pause()
        review = app.screen
        assert isinstance(review, ReviewScreen)
        await pilot.press("down", "space")  # drop calc.py's `mul`: the new test cannot pass
        assert [v.accepted for v in review.hunk_views()] == [True, False, True]
        await pilot.press("enter")
        await wait_for(lambda: any(e.reason == "selection" for e in of(app, ev.ValidationFinished)), pilot)
        await pilot.pause()
        assert app.screen is review and of(app, ev.ChangeApplied) == []
        error = str(review.query_one("#review-error").render())
        assert "Your selection fails its checks (fail-logic" in error
        assert "def mul" not in (root / "calc.py").read_text()
        await pilot.press("enter")  # the same selection again: the user's call
        await wait_for(lambda: bool(of(app, ev.ChangeApplied)), pilot)
        assert len([e for e in of(app, ev.ValidationFinished) if e.reason == "selection"]) == 1
        assert (root / "tests" / "test_mul.py").read_text() == TEST_MUL


async def test_cancelling_a_task_that_awaits_approval_withdraws_the_proposal(build) -> None:  # type: ignore[no-untyped-def]
    app = build("mul")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await wait_for(lambda: "mul" in app.approvals and "awaiting approval" in app.sub_title, pilot)
        await pilot.press("c")
        await wait_for(lambda: app.state.tasks["mul"].status == "cancelled", pilot)
        await pilot.pause()
        assert app.state.pending_approvals() == []
        assert app.state.tasks["mul"].proposal["decision"] == "withdrawn"  # type: ignore[index]
        assert "awaiting approval" not in app.sub_title
        shown = routing_content(app.config, app.state.tasks["mul"], 60).plain
        assert "withdrawn (the task ended first)" in shown and "awaiting approval" not in shown


async def test_declining_the_escalation_rejects_the_task(build) -> None:  # type: ignore[no-untyped-def]
    app = build("mul")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await wait_for(lambda: "mul" in app.approvals, pilot)
        await pilot.press("n")
        await wait_for(lambda: app.state.tasks["mul"].status == "rejected", pilot)
        assert of(app, ev.EscalationDecided) == [ev.EscalationDecided(task_id="mul", approved=False, by="user")]
        assert [e.model for e in of(app, ev.AttemptStarted)] == [SONNET]
        assert "declined" in app.state.tasks["mul"].error
        assert (app.config.root / "calc.py").read_text() == CALC


async def test_rejecting_in_review_leaves_the_project_untouched(build) -> None:  # type: ignore[no-untyped-def]
    app = build("mul", force={"mul": "escalation"})
    app.config.root.joinpath("unused").mkdir(exist_ok=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        # forced before its first run: straight to Opus, and the escalation is pre-approved.
        await wait_for(lambda: app.state.tasks["mul"].status in ("awaiting_review", "failed"), pilot)
        assert app.state.tasks["mul"].status == "failed"  # the mul recordings start on Sonnet
        assert [e.rule for e in of(app, ev.TaskRouted)] == ["forced-escalation"]
