"""The whole engine against a loopback Messages API server, through the real SDK.

Each scenario runs the headless runner on a tiny real project whose pytest really passes or
fails, and checks the route, the events, the ledger and the files on disk — and that money is
booked exactly as the hand arithmetic says.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from gearshift import prompts
from gearshift.config import load_config
from gearshift.headless import run_headless
from gearshift.ledger import Ledger
from gearshift.models.client import ModelGateway
from gearshift.models.pricing import usd
from gearshift.tasks import Task

from tests.engine.pipeline_project import (
    BROKEN,
    FIX_WRONG,
    GOOD,
    TEST,
    WRONG,
    insert_after_total,
    make_project,
)
from tests.support.messages_server import MessagesServer, Reply

SONNET, OPUS = "claude-sonnet-4-6", "claude-opus-4-7"
EDITOR = "str_replace_based_edit_tool"
TASK = Task(
    id="discount", prompt="Add discounted_total(prices, percent) to calc.py", context_files=("calc.py",)
)


def usage(inp: int, out: int, write: int = 0, read: int = 0) -> dict:
    return {
        "input_tokens": inp,
        "output_tokens": out,
        "cache_creation_input_tokens": write,
        "cache_read_input_tokens": read,
        "cache_creation": {"ephemeral_5m_input_tokens": write, "ephemeral_1h_input_tokens": 0},
    }


async def run(project: Path, server: MessagesServer, tasks: list[Task], **kw) -> tuple[int, list[dict]]:
    out = io.StringIO()
    gateway = ModelGateway(api_key="test-key", base_url=server.url, max_retries=0)
    code = await run_headless(
        load_config(project),
        tasks,
        gateway,
        as_json=True,
        auto_approve=kw.get("auto_approve", True),
        escalate=kw.get("escalate", "auto"),
        out=out,
    )
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def of(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["type"] == kind]


def escalating_replies() -> list[Reply]:
    """Sonnet adds the function with a logic error; Opus fixes it (two turns each)."""
    return [
        Reply.tool_use(
            EDITOR, insert_after_total(WRONG), text="Adding it.", usage=usage(200, 120, write=1000)
        ),
        Reply.text("Added discounted_total.", usage=usage(300, 40, read=1000)),
        Reply.tool_use(EDITOR, FIX_WRONG, text="The discount is applied twice.", usage=usage(900, 150)),
        Reply.text("Fixed: the percentage was doubled.", usage=usage(1100, 60)),
    ]


async def test_logic_failure_escalates_to_opus_and_is_applied(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    server = MessagesServer(escalating_replies())
    with server:
        code, events = await run(project, server, [TASK])
    summary = events[-1]
    assert summary["type"] == "summary" and code == 0
    (task,) = summary["tasks"]
    assert task["status"] == "approved"
    assert task["route"] == [SONNET, OPUS]
    assert task["attempts"] == 2 and task["calls"] == 4
    assert task["validation"] == "pass"
    assert [(a["attempt"], a["model"], a["kind"], a["outcome"]) for a in task["attempt_log"]] == [
        (1, SONNET, "initial", "fail-logic"),
        (2, OPUS, "escalation", "pass"),
    ]
    # Hand arithmetic: Sonnet 200*3 + 120*15 + 1000*3.75 + 300*3 + 40*15 + 1000*0.3 = 7950 µ$;
    # Opus 900*5 + 150*25 + 1100*5 + 60*25 = 15250 µ$.
    assert Decimal(str(task["cost_usd"])) == Decimal("0.0232")
    assert task["tokens"] == {"input": 2500, "output": 370, "cache_write": 1000, "cache_read": 1000}
    # Every call at Opus prices: 2500*5 + 370*25 + 1000*6.25 + 1000*0.5 = 28500 µ$.
    assert Decimal(str(summary["all_escalation_cost_usd"])) == Decimal("0.0285")
    proposal = of(events, "escalation_proposed")[0]
    assert proposal["from_model"] == SONNET and proposal["to_model"] == OPUS
    assert "test_discounted_total" in proposal["failure_signature"]
    assert 0 < proposal["payload_tokens"] < proposal["naive_tokens"]
    assert of(events, "escalation_decided")[0]["approved"] is True
    # The journey's own events, field by field: what the app and the JSON stream show.
    est = proposal["estimated_cost_usd"]
    assert [(e["status"], e["detail"]) for e in of(events, "task_status")][:7] == [
        ("running", ""),
        ("running", "attempt 1 on Sonnet 4.6"),
        ("validating", ""),
        ("awaiting_escalation", f"Sonnet 4.6 → Opus 4.7: ~${est:.4f}"),
        ("running", "attempt 2 on Opus 4.7"),
        ("validating", ""),
        ("awaiting_review", ""),
    ]
    assert all(e["task_id"] == "discount" for e in events if "task_id" in e)
    assert [{k: v for k, v in e.items() if k != "type"} for e in of(events, "attempt_started")] == [
        {"task_id": "discount", "attempt": 1, "model": SONNET, "kind": "initial", "starts_from": "project"},
        {"task_id": "discount", "attempt": 2, "model": OPUS, "kind": "escalation", "starts_from": "staged"},
    ]
    (compared,) = of(events, "findings_compared")
    assert compared["run_id"] == "v1" and compared["preexisting"] == 0
    assert [f["code"] for f in compared["findings"]] == ["tests/test_calc.py::test_discounted_total"]
    (ready,) = of(events, "change_ready")
    assert (
        ready["files"] == ["calc.py"]
        and "+    return total(prices) * (100 - percent) // 100" in ready["diff"]
    )
    # What the escalation really cost beside its forecast: Opus's two calls, 15250 µ$.
    (settled,) = of(events, "escalation_settled")
    assert (settled["to_model"], settled["estimated_cost_usd"], settled["turns"]) == (OPUS, est, 2)
    assert Decimal(str(settled["actual_cost_usd"])) == Decimal("0.01525")
    assert (task["escalation"]["actual_cost_usd"], task["escalation"]["actual_calls"]) == (0.01525, 2)
    assert proposal["reason"] == "validation fail-logic" and proposal["starts_from"] == "staged"
    # The record calibration reads later, field by field: no escalation in the ledger yet, so the
    # forecast is the simulation's alone (factor 1 from 0 earlier escalations), in live mode.
    assert task["escalation"] == {
        "from": SONNET,
        "to": OPUS,
        "payload_tokens": proposal["payload_tokens"],
        "naive_tokens": proposal["naive_tokens"],
        "estimated_cost_usd": est,
        "model_forecast_usd": est,
        "calibration": 1.0,
        "calibrated_from": 0,
        "mode": "live",
        "starts_from": "staged",
        "signature": proposal["failure_signature"],
        # calc.py is small: the code around the failure is the whole file, so one payload is offered
        "code_sent": "excerpts",
        "forecasts_usd": {"excerpts": est},
        "approved": True,
        "actual_cost_usd": 0.01525,
        "actual_calls": 2,
    }
    # The escalation call is a fresh, focused conversation with the diff and the failure.
    opus_first = server.message_requests[2].json
    assert opus_first["model"] == OPUS and len(opus_first["messages"]) == 1
    (asked,) = opus_first["messages"]
    asked_text = asked["content"] if isinstance(asked["content"], str) else json.dumps(asked["content"])
    assert asked["role"] == "user" and prompts.ESCALATION_GO[:40] in asked_text  # the payload's go-ahead
    # The payload is the last system block, so it belongs to the cacheable prefix.
    payload = opus_first["system"][-1]["text"]
    assert "2 * percent" in payload and "test_discounted_total" in payload
    assert "(100 - percent)" in (project / "calc.py").read_text()
    assert "2 * percent" not in (project / "calc.py").read_text()
    ledger = Ledger.for_project(project)
    rows = list(ledger.calls())
    assert [r["model"] for r in rows] == [SONNET, SONNET, OPUS, OPUS]
    assert sum(Decimal(str(r["cost_usd"])) for r in rows) == Decimal("0.0232")
    (outcome,) = list(ledger.tasks())
    assert outcome["status"] == "approved" and outcome["escalated"] == 1


async def test_a_second_escalation_is_calibrated_from_the_first_one_in_the_ledger(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    before = (project / "calc.py").read_text()
    with MessagesServer(escalating_replies()) as server:
        _, first = await run(project, server, [TASK])
    (project / "calc.py").write_text(before)  # the same task again, on the same project and ledger
    with MessagesServer(escalating_replies()) as server:
        _, second = await run(project, server, [TASK])
    a = first[-1]["tasks"][0]["escalation"]
    b = second[-1]["tasks"][0]["escalation"]
    assert (a["calibrated_from"], a["calibration"]) == (0, 1.0)
    # the first one's actual ÷ its simulated forecast, from the ledger, for the same (live) mode
    ratio = Decimal(str(a["actual_cost_usd"])) / Decimal(str(a["model_forecast_usd"]))
    assert ratio < 1 and b["calibrated_from"] == 1 and b["mode"] == a["mode"] == "live"
    assert b["calibration"] == float(ratio)
    assert b["model_forecast_usd"] == a["model_forecast_usd"]  # the same payload simulated alike
    assert b["estimated_cost_usd"] == float(usd(Decimal(str(b["model_forecast_usd"])) * ratio))


async def test_the_configured_edit_size_limit_reaches_the_models_editor(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", "[session]\nmax_edit_bytes = 64\n")
    server = MessagesServer(
        [Reply.tool_use(EDITOR, insert_after_total(GOOD), usage=usage(200, 100)), Reply.text("Too big.")]
    )
    task = Task(
        id="big", prompt="Add discounted_total", context_files=("calc.py",), requires_validation=False
    )
    with server:
        code, events = await run(project, server, [task])
    (result,) = [
        b for b in server.message_requests[1].json["messages"][-1]["content"] if b["type"] == "tool_result"
    ]
    assert result["is_error"] is True
    assert f"{len(GOOD.encode())} bytes, over the limit of 64 (session.max_edit_bytes)" in str(
        result["content"]
    )
    assert "discounted_total" not in (project / "calc.py").read_text()
    (summary,) = events[-1]["tasks"]
    assert summary["status"] == "approved" and code == 0
    # Nothing to validate and nothing changed: an answer, approved without a review.
    assert summary["validation"] == "skipped"
    assert [(a["kind"], a["outcome"]) for a in summary["attempt_log"]] == [("initial", "answered")]
    assert ("approved", "no files changed") in [(e["status"], e["detail"]) for e in of(events, "task_status")]


async def test_syntax_error_is_corrected_on_sonnet(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    server = MessagesServer(
        [
            Reply.tool_use(EDITOR, insert_after_total(BROKEN), usage=usage(200, 100, write=800)),
            Reply.text("Done.", usage=usage(250, 10, read=800)),
            Reply.tool_use(
                EDITOR,
                {
                    "command": "str_replace",
                    "path": "calc.py",
                    "old_str": "percent: int) -> int\n",
                    "new_str": "percent: int) -> int:\n",
                },
                usage=usage(300, 60, read=800),
            ),
            Reply.text("Added the missing colon.", usage=usage(350, 15, read=800)),
        ]
    )
    with server:
        code, events = await run(project, server, [TASK])
    (task,) = events[-1]["tasks"]
    assert code == 0 and task["status"] == "approved"
    assert task["route"] == [SONNET, SONNET]
    assert not of(events, "escalation_proposed")
    outcomes = [e["outcome"] for e in of(events, "validation_finished") if e["reason"] == "attempt"]
    assert outcomes == ["fail-syntax", "pass"]
    # The correction continues the same conversation (prompt cache) and shows the compiler's words.
    correction = server.message_requests[2].json["messages"]
    assert len(correction) == 5 and "SyntaxError" in json.dumps(correction[-1])
    asked = json.dumps(correction[-1])
    assert "Your change does not compile, type-check or lint." in asked and "(attempt 2)." in asked
    assert server.message_requests[2].json["system"] == server.message_requests[0].json["system"]
    # The correction request carries the moving breakpoint on its last block (the findings).
    assert correction[-1]["content"][-1]["cache_control"]["type"] == "ephemeral"
    assert "percent: int) -> int:" in (project / "calc.py").read_text()


async def test_security_task_goes_straight_to_opus(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    task = Task(
        id="audit",
        prompt="Audit calc.py and add discounted_total safely",
        scope="security",
        context_files=("calc.py",),
    )
    server = MessagesServer(
        [
            Reply.tool_use(EDITOR, insert_after_total(GOOD), usage=usage(400, 200, write=900)),
            Reply.text("Done.", usage=usage(500, 20, read=900)),
        ]
    )
    with server:
        code, events = await run(project, server, [task])
    (summary,) = events[-1]["tasks"]
    assert code == 0 and summary["route"] == [OPUS]
    routed = of(events, "task_routed")[0]
    assert routed["rule"] == "always-escalate" and routed["score"] == 0.6
    assert {r.json["model"] for r in server.message_requests} == {OPUS}


async def test_escalate_never_leaves_the_project_untouched(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    before = (project / "calc.py").read_text()
    server = MessagesServer(
        [
            Reply.tool_use(EDITOR, insert_after_total(WRONG), usage=usage(200, 120)),
            Reply.text("Added.", usage=usage(300, 40)),
        ]
    )
    with server:
        code, events = await run(project, server, [TASK], escalate="never")
    (task,) = events[-1]["tasks"]
    assert code == 1 and task["status"] == "rejected" and task["route"] == [SONNET]
    assert (project / "calc.py").read_text() == before


FAULTS = {
    "stream_error": Reply.stream_error(),
    "connection_cut": Reply.cut(),
    "truncated": Reply.truncated(),
    "api_error": Reply.http_error(400, "invalid_request_error", "bad request", should_retry=False),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_faults_are_failed_attempts_and_nothing_is_applied(tmp_path: Path, fault: str) -> None:
    project = make_project(tmp_path / "p")
    before = sorted(p.name for p in project.rglob("*") if ".gearshift" not in p.parts)
    calc = (project / "calc.py").read_text()
    server = MessagesServer(
        [Reply.tool_use(EDITOR, insert_after_total(GOOD), usage=usage(100, 50)), FAULTS[fault]]
    )
    with server:
        code, events = await run(project, server, [TASK])
    (task,) = events[-1]["tasks"]
    assert code == 1 and task["status"] == "failed"
    assert fault in task["error"]
    assert [a["outcome"] for a in task["attempt_log"]] == ["failed"]
    failed = of(events, "call_failed")
    assert [f["fault"] for f in failed] == [fault]
    assert not of(events, "change_ready") and not of(events, "change_applied")
    assert (project / "calc.py").read_text() == calc
    assert sorted(p.name for p in project.rglob("*") if ".gearshift" not in p.parts) == before
    rows = list(Ledger.for_project(project).calls())
    assert [r["fault"] for r in rows] == [None, fault]


async def test_session_budget_blocks_the_next_call(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", "[cost_tracking]\nsession_budget_usd = 0.01\n")
    server = MessagesServer([Reply.tool_use(EDITOR, insert_after_total(GOOD), usage=usage(100, 50))])
    with server:
        code, events = await run(project, server, [TASK])
    (task,) = events[-1]["tasks"]
    # Sonnet's worst case for 8192 output tokens alone is $0.12 > $0.01: the first call is refused.
    assert code == 1 and task["status"] == "over_budget" and task["calls"] == 0
    assert of(events, "budget_blocked")[0]["cap_usd"] == 0.01
    assert server.message_requests == []


async def test_cost_alert_warns_and_does_not_block(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", "[cost_tracking]\nalert_threshold_per_task = 0.001\n")
    server = MessagesServer(
        [
            Reply.tool_use(EDITOR, insert_after_total(GOOD), usage=usage(200, 100)),
            Reply.text("Done.", usage=usage(300, 10)),
        ]
    )
    with server:
        code, events = await run(project, server, [TASK])
    assert code == 0
    alerts = of(events, "budget_alert")
    assert len(alerts) == 1 and alerts[0]["threshold_usd"] == 0.001
    assert events[-1]["tasks"][0]["cost_alert"] is True


async def test_without_auto_approve_the_next_task_builds_on_the_staged_change(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    calc = (project / "calc.py").read_text()
    second = Task(id="doc", prompt="Document discounted_total", context_files=("calc.py",))
    server = MessagesServer(
        [
            Reply.tool_use(EDITOR, insert_after_total(GOOD), usage=usage(100, 50)),
            Reply.text("Done.", usage=usage(100, 5)),
            Reply.tool_use(
                EDITOR,
                {
                    "command": "str_replace",
                    "path": "calc.py",
                    "old_str": '"""Total after a percentage discount."""',
                    "new_str": '"""Total after a percentage discount, rounded down."""',
                },
                usage=usage(100, 50),
            ),
            Reply.text("Done.", usage=usage(100, 5)),
        ]
    )
    with server:
        code, events = await run(project, server, [TASK, second], auto_approve=False)
    assert code == 0 and [t["status"] for t in events[-1]["tasks"]] == ["approved", "approved"]
    assert (project / "calc.py").read_text() == calc  # nothing written without --auto-approve
    patch = (project / ".gearshift" / "patches" / "doc.diff").read_text()
    assert "rounded down" in patch and "+def discounted_total" not in patch


async def test_a_missing_context_file_fails_the_task_clearly(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    task = Task(id="ghost", prompt="Change it", context_files=("nowhere.py",))
    with MessagesServer([]) as server:
        code, events = await run(project, server, [task, TASK.forced(None)])
        (ghost, _) = events[-1]["tasks"]
    assert code == 1 and ghost["status"] == "failed"
    assert "nowhere.py" in ghost["error"] and ghost["calls"] == 0
    assert server.message_requests[0].json["model"] == SONNET  # the next task still ran


async def test_without_auto_approve_a_file_an_earlier_task_created_can_be_named(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    (project / "tests" / "test_calc.py").write_text(TEST.split("\n\n\ndef test_discounted_total")[0] + "\n")
    first = Task(id="events", prompt="Add an events module")
    second = Task(id="use", prompt="Add a second event", context_files=("events.py",))
    server = MessagesServer(
        [
            Reply.tool_use(
                EDITOR,
                {"command": "create", "path": "events.py", "file_text": 'PLACED = "order placed"\n'},
                usage=usage(100, 50),
            ),
            Reply.text("Done.", usage=usage(100, 5)),
            Reply.tool_use(
                EDITOR,
                {
                    "command": "insert",
                    "path": "events.py",
                    "insert_line": 1,
                    "insert_text": 'PAID = "order paid"\n',
                },
                usage=usage(100, 50),
            ),
            Reply.text("Done.", usage=usage(100, 5)),
        ]
    )
    with server:
        code, events = await run(project, server, [first, second], auto_approve=False)
    assert code == 0, [(t["status"], t["error"], t["validation"]) for t in events[-1]["tasks"]]
    assert [t["status"] for t in events[-1]["tasks"]] == ["approved", "approved"]
    assert not (project / "events.py").exists()  # nothing written without --auto-approve
    system = json.dumps(server.message_requests[2].json["system"])
    assert "order placed" in system  # the created file was sent as the named context
    routed = [e for e in of(events, "context_selected") if e["task_id"] == "use"]
    assert [f["path"] for f in routed[0]["files"]][:1] == ["events.py"]
    assert "order paid" in (project / ".gearshift" / "patches" / "use.diff").read_text()


async def test_a_failure_that_was_there_before_the_task_is_shown_as_pre_existing(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    (project / "tests" / "test_old.py").write_text("def test_old() -> None:\n    assert 1 == 2\n")
    server = MessagesServer(
        [
            Reply.tool_use(EDITOR, insert_after_total(GOOD), usage=usage(100, 50)),
            Reply.text("Done.", usage=usage(100, 5)),
        ]
    )
    with server:
        code, events = await run(project, server, [TASK], escalate="never")
    (task,) = events[-1]["tasks"]
    # The gate judges the code as it is: the old failure still fails the task ...
    assert code == 1 and task["validation"] == "fail-logic"
    # ... but the user is told it was already there, in the events and in the summary.
    (compared,) = of(events, "findings_compared")
    assert compared["task_id"] == "discount" and compared["preexisting"] == 1
    flags = {f["code"]: f["preexisting"] for f in task["findings"]}
    assert flags == {"tests/test_old.py::test_old": True}
    assert compared["findings"] == task["findings"]
    # the project as the task found it was validated once, labelled as the baseline
    reasons = [e["reason"] for e in of(events, "validation_started")]
    assert reasons.count("baseline") == 1 and reasons.count("attempt") == 1


async def test_a_passing_task_reports_no_findings(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    server = MessagesServer(
        [
            Reply.tool_use(EDITOR, insert_after_total(WRONG), usage=usage(100, 50)),
            Reply.text("Done.", usage=usage(100, 5)),
            Reply.tool_use(
                EDITOR,
                {
                    "command": "str_replace",
                    "path": "calc.py",
                    "old_str": "(100 - 2 * percent)",
                    "new_str": "(100 - percent)",
                },
                usage=usage(100, 50),
            ),
            Reply.text("Fixed.", usage=usage(100, 5)),
        ]
    )
    with server:
        code, events = await run(project, server, [TASK])
    (task,) = events[-1]["tasks"]
    assert code == 0 and task["route"] == [SONNET, OPUS] and task["validation"] == "pass"
    assert of(events, "findings_compared")[0]["findings"]  # the first attempt's failure was compared
    assert task["findings"] == []  # the summary holds the final attempt's: none


async def test_without_auto_approve_a_neighbour_a_kept_change_edited_is_sent_as_changed(
    tmp_path: Path,
) -> None:
    project = make_project(tmp_path / "p")
    check = Task(id="check", prompt="Is the test complete?", context_files=("tests/test_calc.py",))
    server = MessagesServer(
        [
            Reply.tool_use(EDITOR, insert_after_total(GOOD), usage=usage(100, 50)),
            Reply.text("Done.", usage=usage(100, 5)),
            Reply.text("It is complete.", usage=usage(100, 5)),
        ]
    )
    with server:
        code, events = await run(project, server, [TASK, check], auto_approve=False)
    assert code == 0, [(t["status"], t["error"]) for t in events[-1]["tasks"]]
    assert "def discounted_total" not in (project / "calc.py").read_text()
    selected = [e for e in of(events, "context_selected") if e["task_id"] == "check"][0]
    calc = next(f for f in selected["files"] if f["path"] == "calc.py")
    assert calc["mode"] == "full"
    system = json.dumps(server.message_requests[2].json["system"])
    assert "def discounted_total" in system  # calc.py as the kept change left it


async def test_the_context_selection_is_explained_in_the_summary_and_the_ledger(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    config = project / "gearshift.toml"
    config.write_text(config.read_text().replace("max_files = 5", "max_files = 2"))
    (project / "fmt.py").write_text("def show(x: int) -> str:\n    return str(x)\n")
    test = project / "tests" / "test_calc.py"
    test.write_text("from fmt import show\n" + test.read_text())
    task = Task(id="why", prompt="Is the test complete?", context_files=("tests/test_calc.py",))
    server = MessagesServer([Reply.text("It is.", usage=usage(100, 5))])
    with server:
        _, events = await run(project, server, [task])
    (summary,) = events[-1]["tasks"]
    files = {f["path"]: f for f in summary["context"]["files"]}
    assert files["tests/test_calc.py"]["reason"] == "named"
    (kept,) = set(files) - {"tests/test_calc.py"}  # two imports, room for one beside the named file
    assert files[kept]["reason"].startswith("imported by tests/test_calc.py") and files[kept]["tokens"] > 0
    (left_out,) = [p for p in summary["context"]["pruned"] if p["path"] in {"calc.py", "fmt.py"}]
    assert left_out["path"] != kept and "max_files (2)" in left_out["reason"]
    (row,) = list(Ledger.for_project(project).tasks())
    assert json.loads(row["detail"])["context"] == summary["context"]
    # the model sees each file tagged with why it was sent
    system = json.dumps(server.message_requests[0].json["system"])
    assert '<file path=\\"tests/test_calc.py\\" reason=\\"named\\"' in system
    (routed,) = of(events, "task_routed")
    assert routed["rule"] == "below-threshold" and routed["explanation"].strip()


def _sandbox_off(project: Path) -> None:
    config = project / "gearshift.toml"
    config.write_text(config.read_text().replace("[validation]\n", '[validation]\nsandbox = "off"\n'))


async def test_unsandboxed_a_test_that_writes_into_a_project_file_in_place_is_reported(
    tmp_path: Path,
) -> None:
    project = make_project(tmp_path / "p")
    _sandbox_off(project)  # the hard-linked stage: the fallback where no sandbox can start
    (project / "tests" / "test_calc.py").write_text(TEST.split("\n\n\ndef test_discounted_total")[0] + "\n")
    (project / "prices.json").write_text('{"a": 1}\n')
    writer = (
        "from pathlib import Path\n\n\ndef test_export() -> None:\n    Path('prices.json').write_text('{}')\n"
    )
    task = Task(id="export", prompt="Add an export test")
    server = MessagesServer(
        [
            Reply.tool_use(
                EDITOR,
                {"command": "create", "path": "tests/test_export.py", "file_text": writer},
                usage=usage(100, 50),
            ),
            Reply.text("Done.", usage=usage(100, 5)),
        ]
    )
    with server:
        code, events = await run(project, server, [task], auto_approve=False)
    # The staged copy shares unchanged files with the project: the write went through. It is
    # not prevented (checks run the code as the user's own test run would), but it is said.
    assert (project / "prices.json").read_text() == "{}"
    notices = [e for e in of(events, "notice") if e["level"] == "error"]
    assert len(notices) == 1 and "prices.json" in notices[0]["message"]
    assert notices[0]["task_id"] == "export" and "in place" in notices[0]["message"]
    (started,) = of(events, "session_started")
    assert started["sandbox"] == "off" and "unsandboxed" in started["sandbox_note"]
    assert of(events, "summary")[0]["sandbox"] == "off"


async def test_sandboxed_a_test_that_writes_into_a_project_file_in_place_changes_nothing(
    tmp_path: Path,
) -> None:
    project = make_project(tmp_path / "p")
    (project / "tests" / "test_calc.py").write_text(TEST.split("\n\n\ndef test_discounted_total")[0] + "\n")
    (project / "prices.json").write_text('{"a": 1}\n')
    writer = (
        "from pathlib import Path\n\n\ndef test_export() -> None:\n"
        "    Path('prices.json').write_text('{}')\n    assert Path('prices.json').read_text() == '{}'\n"
    )
    task = Task(id="export", prompt="Add an export test")
    server = MessagesServer(
        [
            Reply.tool_use(
                EDITOR,
                {"command": "create", "path": "tests/test_export.py", "file_text": writer},
                usage=usage(100, 50),
            ),
            Reply.text("Done.", usage=usage(100, 5)),
        ]
    )
    with server:
        code, events = await run(project, server, [task], auto_approve=False)
    # The copy-on-write stage: the test saw its own write (it passed), the user's file did not change.
    assert code == 0 and (project / "prices.json").read_text() == '{"a": 1}\n'
    assert not (project / "tests" / "test_export.py").exists()  # not approved into the tree
    assert not [e for e in of(events, "notice") if e["level"] == "error"]
    (started,) = of(events, "session_started")
    assert started["sandbox"] == "bubblewrap" and of(events, "summary")[0]["sandbox"] == "bubblewrap"


async def test_a_question_cannot_edit_files(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    ask = Task(id="q", prompt="What does total do?", requires_validation=False, interactive=True)
    server = MessagesServer(
        [Reply.tool_use(EDITOR, insert_after_total(GOOD), usage=usage(100, 20)), Reply.text("It sums.")]
    )
    with server:
        code, events = await run(project, server, [ask])
    messages = server.message_requests[1].json["messages"]
    (result,) = [b for b in messages[-1]["content"] if b["type"] == "tool_result"]
    assert result["is_error"] is True and "read-only question" in json.dumps(result)
    # it was told so up front: the answer instructions, not the editing ones
    assert "do not edit anything" in json.dumps(server.message_requests[0].json["system"])
    assert "discounted_total" not in (project / "calc.py").read_text()
    assert code == 0 and events[-1]["tasks"][0]["status"] == "approved"


async def test_a_view_of_a_huge_file_is_cut_to_the_context_budget(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", "token_budget = 1000\n")
    (project / "data.txt").write_text("x" * 50_000 + "\n")
    ask = Task(id="look", prompt="What is in data.txt?", requires_validation=False, interactive=True)
    server = MessagesServer(
        [
            Reply.tool_use(EDITOR, {"command": "view", "path": "data.txt"}, usage=usage(100, 20)),
            Reply.text("Forty thousand x's and more.", usage=usage(100, 5)),
        ]
    )
    with server:
        code, _ = await run(project, server, [ask])
    assert code == 0
    first = server.message_requests[0].json
    assert first["tools"][0]["max_characters"] == 4000  # the model is told the cap ...
    result = server.message_requests[1].json["messages"][-1]["content"][0]
    assert "[truncated: showing 4000 of" in json.dumps(result)  # ... and the view honours it
    assert len(json.dumps(server.message_requests[1].json)) < 20_000


async def test_the_named_files_lines_reach_the_score(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    (project / "big.py").write_text("".join(f"X{i} = {i}\n" for i in range(700)))
    task = Task(id="big", prompt="What is in big.py?", context_files=("big.py",), requires_validation=False)
    with MessagesServer([Reply.text("Constants.", usage=usage(100, 5))]) as server:
        _, events = await run(project, server, [task])
    (routed,) = of(events, "task_routed")
    lines = [s for s in routed["signals"] if s["name"] == "lines_involved"]
    assert len(lines) == 1 and "701 lines" in lines[0]["detail"]
