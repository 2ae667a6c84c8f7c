"""The session's review verbs and sign-off, driven through the real SDK against the loopback server.

Apply → undo must leave no trace in what later tasks are staged from, and a sign-off scope must
send the validated change to the escalation model for approval before it is offered.
"""

from __future__ import annotations

import json
from pathlib import Path

from gearshift import events as ev
from gearshift.config import load_config
from gearshift.ledger import Ledger
from gearshift.models.client import ModelGateway
from gearshift.pipeline.record import TaskRecord
from gearshift.pipeline.session import Session
from gearshift.report import build_report
from gearshift.tasks import Task

from tests.engine.pipeline_project import CALC, GOOD, insert_after_total, make_project
from tests.support.messages_server import MessagesServer, Reply

SONNET, OPUS = "claude-sonnet-4-6", "claude-opus-4-7"
EDITOR = "str_replace_based_edit_tool"
TASK = Task(
    id="discount", prompt="Add discounted_total(prices, percent) to calc.py", context_files=("calc.py",)
)


def session_for(
    project: Path, server: MessagesServer, sink: list[ev.Event], ledger: Ledger | None = None
) -> Session:
    gateway = ModelGateway(api_key="test-key", base_url=server.url, max_retries=0)
    return Session(load_config(project), gateway, emit=sink.append, ledger=ledger)


async def run_one(
    project: Path, server: MessagesServer, task: Task, sink: list[ev.Event] | None = None
) -> TaskRecord:
    """One task through a fresh session (no ledger) against `server`."""
    session = session_for(project, server, sink if sink is not None else [])
    try:
        session.add(task)
        return await session.run(task.id)
    finally:
        await session.gateway.aclose()


async def test_an_undone_change_is_not_laid_under_later_tasks(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    server = MessagesServer(
        [Reply.tool_use(EDITOR, insert_after_total(GOOD)), Reply.text("Added discounted_total.")]
    )
    sink: list[ev.Event] = []
    ledger = Ledger.for_project(project)
    with server:
        session = session_for(project, server, sink, ledger)
        try:
            session.add(TASK)
            record = await session.run(TASK.id)
            assert record.status == "awaiting_review"
            session.apply(TASK.id)
            assert "discounted_total" in (project / "calc.py").read_text()
            assert build_report(ledger)["task_statuses"] == {"approved": 1}
            assert session.undo(TASK.id) == ["calc.py"]
            # Booked: a new row supersedes "approved", and the report stops counting it approved.
            rows = list(ledger.tasks())
            assert [(r["status"], r["undone"]) for r in rows] == [("approved", 0), ("undone", 1)]
            assert build_report(ledger)["task_statuses"] == {"undone": 1}
            assert (project / "calc.py").read_text() == CALC
            # The user took the change back: the next task starts from the project as it is now.
            assert session.overlay() == []
            stage = session.new_stage("next")
            try:
                assert stage.read_text("calc.py") == CALC
            finally:
                stage.discard()
            assert session.select_context(TASK).files[0].text == CALC
        finally:
            await session.gateway.aclose()


SIGNOFF_CONFIG = '[routing]\nalways_escalate_scopes = []\nsignoff_scopes = ["security"]\n'
AUDIT = Task(id="audit", prompt="Add discounted_total safely", scope="security", context_files=("calc.py",))


async def run_signoff(
    tmp_path: Path, verdict: dict
) -> tuple[Path, MessagesServer, TaskRecord, list[ev.Event]]:
    """Sonnet adds the function (its tests pass), then Opus answers the sign-off with `verdict`."""
    project = make_project(tmp_path / "p", SIGNOFF_CONFIG)
    server = MessagesServer(
        [
            Reply.tool_use(EDITOR, insert_after_total(GOOD)),
            Reply.text("Added."),
            Reply.tool_use("signoff", verdict),
        ]
    )
    sink: list[ev.Event] = []
    with server:
        record = await run_one(project, server, AUDIT, sink)
    return project, server, record, sink


async def test_signoff_scope_sends_the_validated_change_to_opus_for_approval(tmp_path: Path) -> None:
    _, server, record, sink = await run_signoff(tmp_path, {"approved": True, "reason": "correct and safe"})
    assert [r.json["model"] for r in server.message_requests] == [SONNET, SONNET, OPUS]
    review = server.message_requests[2].json
    assert review["tool_choice"] == {"type": "tool", "name": "signoff"}
    content = review["messages"][0]["content"]  # a string, or text blocks (one may carry a breakpoint)
    text = content if isinstance(content, str) else "".join(b.get("text", "") for b in content)
    assert "discounted_total" in text
    assert record.status == "awaiting_review"
    assert record.signoff == {"model": OPUS, "approved": True, "reason": "correct and safe"}
    # The sign-off is an attempt of its own; the route lists only the attempts that wrote code.
    started = [(e.model, e.kind, e.starts_from) for e in sink if isinstance(e, ev.AttemptStarted)]
    assert started == [(SONNET, "initial", "project"), (OPUS, "signoff", "staged")] and record.attempts == 2
    assert record.route == [SONNET]
    assert [(a["kind"], a["outcome"]) for a in record.attempt_log] == [
        ("initial", "pass"),
        ("signoff", "approved"),
    ]
    finished = [e for e in sink if isinstance(e, ev.SignoffFinished)]
    assert len(finished) == 1 and finished[0].approved
    assert AUDIT.prompt in text  # the reviewer is told what was asked, beside the diff
    # one forced call that nothing reads after: no cache breakpoint anywhere in it
    assert "cache_control" not in json.dumps(review)


async def test_a_signoff_verdict_without_a_reason_is_recorded_with_an_empty_one(tmp_path: Path) -> None:
    _, _, record, _ = await run_signoff(tmp_path, {"approved": True})
    assert record.signoff == {"model": OPUS, "approved": True, "reason": ""}


async def test_a_signoff_the_reviewer_never_gives_fails_the_task_and_says_so(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", SIGNOFF_CONFIG)
    replies = [
        Reply.tool_use(EDITOR, insert_after_total(GOOD)),
        Reply.text("Added."),
        Reply.text("Looks fine."),
    ]
    with MessagesServer(replies) as server:
        record = await run_one(project, server, AUDIT)
    assert record.status == "failed"
    assert record.error == "sign-off by Opus 4.7 did not complete: no decision"
    assert record.attempt_log[-1]["kind"] == "signoff" and record.attempt_log[-1]["outcome"] == "failed"
    assert (project / "calc.py").read_text() == CALC


async def test_a_declined_signoff_rejects_the_change(tmp_path: Path) -> None:
    project, _, record, sink = await run_signoff(
        tmp_path, {"approved": False, "reason": "rounds the wrong way"}
    )
    assert record.status == "rejected" and "rounds the wrong way" in record.error
    assert record.attempt_log[-1]["kind"] == "signoff" and record.attempt_log[-1]["outcome"] == "rejected"
    assert not any(isinstance(e, ev.ChangeReady) for e in sink)
    assert (project / "calc.py").read_text() == CALC


def test_the_routing_forecast_prices_the_prefix_at_the_configured_cache_ttl(tmp_path: Path) -> None:
    from decimal import Decimal

    from gearshift.pipeline.journey import Journey

    forecasts = {}
    for ttl in ("5m", "1h"):
        project = make_project(tmp_path / ttl, f'[session]\ncache_ttl = "{ttl}"\n')
        config = load_config(project)
        session = Session(config, ModelGateway(api_key="test-key"), emit=lambda e: None)
        journey = Journey(session, TaskRecord(TASK))
        forecasts[ttl] = journey._estimate(config.default_model, 1000, 3, 1200)
    # Sonnet: 1200 input × $3 + 3600 output × $15 + 2000 cache reads × $0.30 = $0.0582, plus
    # the 1000-token prefix written once: × $3.75 (5 minutes) or × $6 (1 hour).
    assert forecasts == {"5m": Decimal("0.06195"), "1h": Decimal("0.0642")}


async def test_a_retry_summarizes_its_own_run(tmp_path: Path) -> None:
    """Route, calls and attempts start over on a retry; so do its cost, tokens and latency."""
    project = make_project(tmp_path / "p")
    server = MessagesServer([Reply.text("Nothing to change.") for _ in range(12)])
    sink: list[ev.Event] = []
    with server:
        session = session_for(project, server, sink)
        try:
            session.add(TASK)
            await session.run(TASK.id)
            first = [e.summary for e in sink if isinstance(e, ev.TaskFinished)][-1]
            await session.run(TASK.id)  # a retry of a finished task
            second = [e.summary for e in sink if isinstance(e, ev.TaskFinished)][-1]
        finally:
            await session.gateway.aclose()
    assert first["calls"] == second["calls"] >= 1 and second["route"] == first["route"]
    assert first["cost_usd"] > 0 and second["cost_usd"] == first["cost_usd"]
    assert second["tokens"] == first["tokens"]
    # the meter keeps both runs: both were paid
    assert session.meter.tasks[TASK.id].calls == 2 * first["calls"]
    assert abs(float(session.meter.tasks[TASK.id].cost) - (first["cost_usd"] + second["cost_usd"])) < 1e-9


async def test_a_check_that_cannot_run_names_the_project_not_the_staged_copy(tmp_path: Path) -> None:
    """The staged copy is a folder the user never sees: `npm ci` must be run in the project."""
    project = make_project(tmp_path / "p")
    (project / "gearshift.toml").write_text(
        (project / "gearshift.toml").read_text().replace('["python_compile", "pytest"]', '["eslint_strict"]')
    )
    (project / "package.json").write_text('{"name": "p", "version": "1.0.0"}\n')
    (project / "package-lock.json").write_text('{"name": "p", "lockfileVersion": 3, "packages": {}}\n')
    server = MessagesServer([])
    sink: list[ev.Event] = []
    with server:
        session = session_for(project, server, sink)
        try:
            session.add(TASK)
            record = await session.run(TASK.id)
        finally:
            await session.gateway.aclose()
    assert record.status == "failed"
    assert f"node_modules is missing in {project}: run `npm ci`" in record.error
    assert ".gearshift" not in record.error
    assert record.calls == 0  # refused before any paid call


async def test_a_session_without_a_ledger_still_escalates_uncalibrated(tmp_path: Path) -> None:
    """An engine embedded without a ledger (no history to calibrate from) forecasts from the
    simulation alone instead of failing the escalation."""
    from tests.engine.test_pipeline_integration import TASK, escalating_replies

    project = make_project(tmp_path / "p")
    with MessagesServer(escalating_replies()) as server:
        record = await run_one(project, server, TASK)  # no ledger
    assert record.status == "awaiting_review" and record.route == [SONNET, OPUS]
    assert record.escalation is not None and record.escalation["calibrated_from"] == 0
    assert record.escalation["calibration"] == 1.0
