"""What a consumer may ask the Session, and the commands that tell every consumer by an event.

The app reads the engine only through these (`info`, `queue`, `change`, `undoable`) and the
events; forcing a model is a command whose `model_forced` event reaches the app's state and the
headless printer alike — before it was a private write into the app, headless never heard of it.
"""

from __future__ import annotations

import io
from dataclasses import FrozenInstanceError, replace
from pathlib import Path

import pytest
from gearshift import events as ev
from gearshift.config import load_config
from gearshift.headless import HumanPrinter
from gearshift.models.client import ModelGateway
from gearshift.pipeline.session import Session
from gearshift.tasks import Task
from gearshift.ui.state import UIState

from tests.engine.pipeline_project import make_project

SONNET, OPUS = "claude-sonnet-4-6", "claude-opus-4-7"
A = Task(id="a", prompt="one", context_files=("calc.py",))
B = Task(id="b", prompt="two", context_files=("calc.py",))


@pytest.fixture
def session(tmp_path: Path):  # type: ignore[no-untyped-def]
    sink: list[ev.Event] = []
    s = Session(load_config(make_project(tmp_path / "p")), ModelGateway(api_key="k"), emit=sink.append)
    s.sink = sink  # type: ignore[attr-defined]
    yield s
    s.close()


async def test_forcing_a_model_emits_model_forced_and_preapproves_the_escalation(session) -> None:  # type: ignore[no-untyped-def]
    session.add(A)
    proposal = ev.EscalationProposed(
        task_id="a",
        from_model=SONNET,
        to_model=OPUS,
        reason="r",
        failure_signature="f",
        payload_tokens=1,
        naive_tokens=2,
        estimated_cost_usd=0.1,
        starts_from="staged",
    )
    assert await session.approve_escalation(proposal) == (True, "auto")  # the approver, not the user
    session.force("a", "escalation")
    session.force("a", "default")
    session.force("a", None)
    forced = [e for e in session.sink if isinstance(e, ev.ModelForced)]
    assert forced == [
        ev.ModelForced(task_id="a", which="escalation", model=OPUS),
        ev.ModelForced(task_id="a", which="default", model=SONNET),
        ev.ModelForced(task_id="a", which=None, model=""),
    ]
    assert session.info("a").task.force is None  # type: ignore[union-attr]
    session.force("a", "escalation")
    session.approver = None  # type: ignore[assignment]  # a forced escalation asks nobody
    assert await session.approve_escalation(proposal) == (True, "user")


def test_model_forced_reaches_the_app_state_and_the_headless_printer() -> None:
    state = UIState()
    state.apply_all([ev.TaskQueued(task_id="a", prompt="p", scope="single-file")])
    state.take_changes()
    state.apply(ev.ModelForced(task_id="a", which="escalation", model=OPUS))
    changes = state.take_changes()
    assert state.tasks["a"].forced == "escalation"
    assert changes.queue and changes.tasks == {"a"}  # the queue's mark and the routing pane repaint
    state.apply(ev.ModelForced(task_id="a", which=None))
    assert state.tasks["a"].forced is None
    out = io.StringIO()
    printer = HumanPrinter(out)
    printer(ev.ModelForced(task_id="a", which="escalation", model=OPUS))
    printer(ev.ModelForced(task_id="a", which=None))
    assert out.getvalue().splitlines() == [
        f"[a] next run forced to the escalation model ({OPUS})",
        "[a] next run no longer forced",
    ]


def test_info_and_queue_are_copies_in_queue_order(session) -> None:  # type: ignore[no-untyped-def]
    session.add(B)
    session.add(A)
    assert session.info("nope") is None
    assert [(i.task.id, i.status, i.applied, i.undone, i.final) for i in session.queue()] == [
        ("b", "queued", False, False, False),
        ("a", "queued", False, False, False),
    ]
    info = session.info("a")
    with pytest.raises(FrozenInstanceError):
        info.status = "approved"  # type: ignore[misc,union-attr]
    session.records["a"].status = "failed"  # the engine moves on; the copy taken before does not
    assert info.status == "queued"  # type: ignore[union-attr]
    assert session.info("a").final  # type: ignore[union-attr]


def test_the_change_is_offered_only_while_it_awaits_review(session) -> None:  # type: ignore[no-untyped-def]
    from gearshift.edits.workspace import FileChange

    session.add(A)
    with pytest.raises(ValueError, match="no change awaiting review"):
        session.change("a")
    record = session.records["a"]
    record.status, record.changes = "awaiting_review", [FileChange("calc.py", "x\n", "y\n")]
    change = session.change("a")
    assert change == record.changes and change is not record.changes
    assert session.undoable() == []


def test_use_config_drops_the_baselines_judged_under_the_old_one(session) -> None:  # type: ignore[no-untyped-def]
    session.baseline_cache[("0",)] = object()  # type: ignore[assignment]
    trusted = replace(session.config, trusted=True)
    session.use_config(trusted)
    assert session.config is trusted and session.baseline_cache == {}
