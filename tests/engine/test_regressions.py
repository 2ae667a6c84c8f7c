"""Tests that fail when a guard breaks (issue 11, point 8): each names the mutation it catches.

A 429 retried through the real SDK, the correction limit, the threshold's boundary, the alert's
`enabled` switch, `escalation_on = "never"` read from the config, the escalation model failing
too (one correction of its own, then failed), and the ledger read from a second connection while a session writes.
"""

from __future__ import annotations

import io
import json
import math
import sqlite3
from pathlib import Path

import pytest
from gearshift.config import load_config
from gearshift.headless import run_headless
from gearshift.ledger import IN_FLIGHT, Ledger
from gearshift.models.client import ModelGateway
from gearshift.routing.policy import decide
from gearshift.routing.score import score_task
from gearshift.tasks import Task

from tests.engine.pipeline_project import BROKEN, CONFIG, WRONG, insert_after_total, make_project
from tests.engine.test_pipeline_integration import EDITOR, OPUS, SONNET, TASK, of, run, usage
from tests.support.messages_server import MessagesServer, Reply

ANSWER = Task(id="ask", prompt="What does calc.total do?", requires_validation=False)


async def test_a_429_with_retry_after_is_retried_by_the_sdk_and_booked_once(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    server = MessagesServer(
        [
            Reply.http_error(429, "rate_limit_error", "slow down", retry_after_ms=20),
            Reply.text("It sums the prices.", usage=usage(120, 30)),
        ]
    )
    out = io.StringIO()
    with server:
        gateway = ModelGateway(api_key="test-key", base_url=server.url, max_retries=2)
        code = await run_headless(
            load_config(project), [ANSWER], gateway, as_json=True, auto_approve=True, escalate="auto", out=out
        )
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert code == 0 and events[-1]["tasks"][0]["status"] == "approved"
    first, second = server.message_requests
    assert first.headers.get("x-stainless-retry-count", "0") == "0"
    assert second.headers["x-stainless-retry-count"] == "1"
    assert not of(events, "call_failed")
    (row,) = Ledger.for_project(project).calls()  # one billed call: the 429 cost nothing
    assert row["status"] == "completed" and row["cost_usd"] == (120 * 3 + 30 * 15) / 1_000_000


async def test_corrections_stop_at_max_correction_attempts(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")  # max_correction_attempts = 2
    calls = []

    def model(body: dict, headers: dict) -> Reply:
        calls.append(body)
        if len(calls) == 1:
            return Reply.tool_use(EDITOR, insert_after_total(BROKEN), usage=usage(100, 50))
        if len(calls) > 8:  # a loop that does not stop fails the task differently, and fast
            return Reply.http_error(400, "invalid_request_error", "runaway corrections", should_retry=False)
        return Reply.text("I think it is fine now.", usage=usage(100, 10))  # it never fixes it

    with MessagesServer(model) as server:
        code, events = await run(project, server, [TASK])
    (task,) = events[-1]["tasks"]
    assert code == 1 and task["status"] == "failed"
    assert task["error"].startswith("validation fail-syntax after 3 attempt(s): python_compile: calc.py:")
    assert task["attempts"] == 3 and task["route"] == [SONNET] * 3
    kinds = [e["kind"] for e in of(events, "attempt_started")]
    assert kinds == ["initial", "correction", "correction"]
    assert len(server.message_requests) == 4  # 2 turns, then one per correction
    # The second correction has no new finding: it is shown the ones still failing.
    assert all("SyntaxError" in json.dumps(r.json["messages"][-1]) for r in server.message_requests[2:])
    assert not of(events, "escalation_proposed")
    # three failed validations, one baseline: the project as the task found it is validated once
    reasons = [e["reason"] for e in of(events, "validation_started")]
    assert reasons.count("attempt") == 3 and reasons.count("baseline") == 1


def write_threshold(root: Path, threshold: float) -> None:
    (root / "gearshift.toml").write_text(f"[routing]\ncomplexity_threshold = {threshold!r}\n")


def test_a_score_equal_to_the_threshold_escalates_and_just_below_does_not(tmp_path: Path) -> None:
    task = Task(id="t", prompt="Move the cache", scope="multi-module")
    complexity = score_task(task, paths=[])
    assert 0 < complexity.score < 1
    write_threshold(tmp_path, complexity.score)
    at = decide(task, complexity, load_config(tmp_path))
    assert at.rule == "threshold" and at.model.id == OPUS
    write_threshold(tmp_path, math.nextafter(complexity.score, 1.0))
    above = decide(task, complexity, load_config(tmp_path))
    assert above.rule == "below-threshold" and above.model.id == SONNET


async def test_cost_tracking_disabled_turns_the_alert_off_but_still_books(tmp_path: Path) -> None:
    config = "[cost_tracking]\nenabled = false\nalert_threshold_per_task = 0.000001\n"
    for enabled, extra in ((False, config), (True, config.replace("false", "true"))):
        project = make_project(tmp_path / str(enabled), extra)
        with MessagesServer([Reply.text("It sums the prices.", usage=usage(100, 20))]) as server:
            code, events = await run(project, server, [ANSWER])
        assert code == 0
        assert bool(of(events, "budget_alert")) is enabled
        assert events[-1]["tasks"][0]["cost_alert"] is enabled
        (row,) = Ledger.for_project(project).calls()
        assert row["cost_usd"] == (100 * 3 + 20 * 15) / 1_000_000


async def test_escalation_on_never_in_the_config_keeps_a_logic_failure_on_the_default_model(
    tmp_path: Path,
) -> None:
    project = make_project(tmp_path / "p")
    never = CONFIG.replace("[validation]\n", '[validation]\nescalation_on = "never"\n')
    (project / "gearshift.toml").write_text(never)
    assert load_config(project).validation.escalation_on == "never"
    before = (project / "calc.py").read_text()
    server = MessagesServer(
        [
            Reply.tool_use(EDITOR, insert_after_total(WRONG), usage=usage(200, 120)),
            Reply.text("Added.", usage=usage(300, 40)),
        ]
    )
    with server:
        code, events = await run(project, server, [TASK], escalate="auto")  # the run would approve
    (task,) = events[-1]["tasks"]
    assert code == 1 and task["status"] == "failed" and task["route"] == [SONNET]
    assert "fail-logic" in task["error"]
    assert not of(events, "escalation_proposed")
    assert {r.json["model"] for r in server.message_requests} == {SONNET}
    assert (project / "calc.py").read_text() == before


async def _escalation_model_keeps_failing(project: Path) -> tuple[int, list[dict], list[str], MessagesServer]:
    calls: list[str] = []

    def model(body: dict, headers: dict) -> Reply:
        calls.append(body["model"])
        if len(calls) > 10:
            return Reply.http_error(400, "invalid_request_error", "runaway escalation", should_retry=False)
        if len(calls) == 1:
            return Reply.tool_use(EDITOR, insert_after_total(WRONG), usage=usage(200, 120))
        if len(calls) == 3:  # Opus "fixes" it by leaving the logic error in place
            return Reply.tool_use(
                EDITOR,
                {"command": "str_replace", "path": "calc.py", "old_str": "// 100", "new_str": "// 100 "},
                usage=usage(300, 50),
            )
        return Reply.text("Done.", usage=usage(100, 10))  # and its correction changes nothing

    with MessagesServer(model) as server:
        code, events = await run(project, server, [TASK])
    return code, events, calls, server


async def test_the_escalation_model_failing_logic_corrects_once_then_fails_the_task(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")  # validation.escalation_model_corrections: default 1
    before = (project / "calc.py").read_text()
    code, events, calls, server = await _escalation_model_keeps_failing(project)
    (task,) = events[-1]["tasks"]
    assert code == 1 and task["status"] == "failed"
    assert task["route"] == [SONNET, OPUS, OPUS] and "fail-logic after 3 attempt(s)" in task["error"]
    assert calls == [SONNET, SONNET, OPUS, OPUS, OPUS]  # the correction: one turn, no edit
    assert [e["kind"] for e in of(events, "attempt_started")] == ["initial", "escalation", "correction"]
    assert "fails its tests" in json.dumps(server.message_requests[-1].json["messages"][-1])
    assert len(of(events, "escalation_proposed")) == 1
    assert (project / "calc.py").read_text() == before


async def test_without_escalation_model_corrections_its_logic_failure_fails_the_task_at_once(
    tmp_path: Path,
) -> None:
    project = make_project(tmp_path / "p")
    config = project / "gearshift.toml"
    config.write_text(
        config.read_text().replace("[validation]\n", "[validation]\nescalation_model_corrections = 0\n")
    )
    assert "escalation_model_corrections = 0" in config.read_text()
    code, events, calls, _ = await _escalation_model_keeps_failing(project)
    (task,) = events[-1]["tasks"]
    assert code == 1 and task["route"] == [SONNET, OPUS] and "fail-logic after 2 attempt(s)" in task["error"]
    assert calls == [SONNET, SONNET, OPUS, OPUS]


async def test_a_second_connection_reads_the_ledger_while_a_session_writes(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    db_path = project / ".gearshift" / "ledger.db"
    seen: list[tuple[str, list[tuple[str, str]], list[str]]] = []

    def model(body: dict, headers: dict) -> Reply:
        # A reader of its own (another thread, its own connection) while the session is mid-call.
        reader = sqlite3.connect(db_path, timeout=0.5)
        try:
            mode = reader.execute("PRAGMA journal_mode").fetchone()[0]
            calls = reader.execute("SELECT task_id, status FROM calls ORDER BY id").fetchall()
            tasks = [r[0] for r in reader.execute("SELECT task_id FROM tasks ORDER BY id")]
        finally:
            reader.close()
        seen.append((mode, calls, tasks))
        return Reply.text("An answer.", usage=usage(100, 10))

    second = Task(id="ask2", prompt="And calc.total's type?", requires_validation=False)
    with MessagesServer(model) as server:
        code, _ = await run(project, server, [ANSWER, second])
    assert code == 0
    assert [s[0] for s in seen] == ["wal", "wal"]
    assert seen[0][1:] == ([("ask", IN_FLIGHT)], [])
    # The first task's settled call and its outcome row are visible while the second call is out.
    assert seen[1][1:] == ([("ask", "completed"), ("ask2", IN_FLIGHT)], ["ask"])


async def test_an_internal_error_fails_only_its_task_and_leaves_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gearshift.pipeline.session import Session

    async def broken(self: Session, task: Task) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(Session, "choose_context", broken)
    project = make_project(tmp_path / "p")
    with MessagesServer([]) as server:
        code, events = await run(project, server, [TASK])
    (task,) = events[-1]["tasks"]
    log = project / ".gearshift" / "logs" / f"{TASK.id}.log"
    assert code == 1 and task["status"] == "failed"
    assert task["error"].startswith("internal error: RuntimeError(") and str(log) in task["error"]
    assert "RuntimeError: boom" in log.read_text() and "choose_context" in log.read_text()
    last = of(events, "task_status")[-1]
    assert (last["status"], last["detail"]) == ("failed", task["error"])  # the app shows why
    assert server.message_requests == []


async def test_a_failed_task_says_why_in_its_last_status(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    missing = Task(id="gone", prompt="Fix it", context_files=("nowhere.py",))
    with MessagesServer([]) as server:
        _, events = await run(project, server, [missing])
    (task,) = events[-1]["tasks"]
    last = of(events, "task_status")[-1]
    assert task["status"] == "failed" and task["error"].startswith("context: ")
    assert (last["status"], last["detail"]) == ("failed", task["error"])
