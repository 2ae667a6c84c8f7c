"""The UI state model on plain event lists: no Textual, no engine run."""

from __future__ import annotations

import subprocess
import sys

from gearshift import events as ev
from gearshift.ui import stream as st
from gearshift.ui.format import bar, money
from gearshift.ui.state import UIState, coalesce


def delta(text: str, task: str = "t", attempt: int = 1) -> ev.TextDelta:
    return ev.TextDelta(task_id=task, attempt=attempt, text=text)


def test_coalesce_merges_deltas_per_task_but_never_across_that_tasks_other_events() -> None:
    tool = ev.ToolCall(task_id="t", attempt=1, command="view", path="a.py", ok=True, summary="")
    events = [delta("a"), delta("x", task="u"), delta("b"), tool, delta("c"), delta("d"), delta("y", task="u")]
    out = coalesce(events)
    assert out == [delta("ab"), delta("xy", task="u"), tool, delta("cd")]


def test_coalesce_keeps_attempts_apart() -> None:
    assert coalesce([delta("a", attempt=1), delta("b", attempt=2)]) == [delta("a", attempt=1), delta("b", attempt=2)]


def test_output_is_bounded_and_trims_whole_segments(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(st, "MAX_OUTPUT_CHARS", 100)
    monkeypatch.setattr(st, "MAX_SEGMENT_CHARS", 30)
    s = UIState()
    s.apply(ev.TaskQueued(task_id="t", prompt="p", scope="single-file"))
    for _ in range(40):
        s.apply(delta("0123456789"))
    out = s.tasks["t"].output
    assert out.chars <= 100
    assert all(len(seg.text) <= 30 for seg in out.segments)
    assert out.dropped > 0
    seqs = [seg.seq for seg in out.segments]
    assert seqs == sorted(seqs)


def test_validation_runs_lines_badges_and_cancelled_runs() -> None:
    s = UIState(show_timings=False)
    s.apply(ev.TaskQueued(task_id="t", prompt="p", scope="single-file"))
    s.apply(ev.ValidationStarted(run_id="v1", task_id="t", checks=["python_compile", "pytest"]))
    s.apply(ev.ValidationLine(run_id="v1", check="pytest", line="1 failed"))
    finding = {"check": "pytest", "kind": "logic", "file": "tests/test_x.py", "line": 4, "col": None,
               "code": "test_x", "message": "assert 5 == 6", "preexisting": False}
    s.apply(ev.CheckFinished(run_id="v1", check="python_compile", kind="syntax", passed=True, findings=[], duration_ms=12.0, exit_code=0))
    s.apply(ev.CheckFinished(run_id="v1", check="pytest", kind="logic", passed=False, findings=[finding], duration_ms=300.0, exit_code=1))
    s.apply(ev.ValidationFinished(run_id="v1", task_id="t", outcome="fail-logic", findings=[finding]))
    run = s.runs["v1"]
    assert [c.badge for c in run.results.values()] == ["pass", "fail-logic"]
    assert s.tasks["t"].validation == "fail-logic"
    assert list(run.lines) == [
        "▶ v1 attempt · t: python_compile, pytest",
        "  v1 pytest│ 1 failed",
        "  ✓ python_compile: pass",
        "  ✗ pytest: fail-logic",
        "    tests/test_x.py:4 test_x assert 5 == 6",
        "■ v1 fail-logic",
    ]
    s.apply(ev.ValidationStarted(run_id="w1", task_id=None, checks=["pytest"], reason="watch"))
    s.apply(ev.ValidationFinished(run_id="w1", task_id=None, outcome="cancelled", findings=[], reason="watch"))
    assert s.runs["w1"].cancelled
    assert "CANCELLED" in s.runs["w1"].lines[-1]
    assert [r.run_id for r in s.runs_for("t")] == ["v1", "w1"]
    assert [r.run_id for r in s.runs_for("other")] == ["w1"]
    # The pane's summary shows the newest run (the watcher's after a save); review keeps the task's.
    assert s.newest_run("t").run_id == "w1" and s.latest_run("t").run_id == "v1"  # type: ignore[union-attr]
    changes = s.take_changes()
    assert changes.runs == {"v1", "w1"} and len(changes.log_lines) == 8
    assert not s.take_changes().any()
    s.apply(ev.ValidationStarted(run_id="v2", task_id="t", checks=["pytest"]))
    assert s.newest_run("t").run_id == "v2" and s.newest_run("other").run_id == "w1"  # type: ignore[union-attr]
    s.apply(ev.ValidationStarted(run_id="b1", task_id="t", checks=["pytest"], reason="baseline"))
    assert s.newest_run("t").run_id == "v2"  # type: ignore[union-attr]


def test_cost_escalation_and_undo_stack() -> None:
    s = UIState()
    s.apply(ev.TaskQueued(task_id="t", prompt="p", scope="single-file"))
    s.apply(ev.CostUpdated(task_id="t", task_cost_usd=0.02, session_cost_usd=0.02, by_model={"m": 0.02},
                           cache_read_tokens=10, cache_write_tokens=5, escalation_equivalent_usd=0.05))
    s.apply(ev.CostUpdated(task_id="t", task_cost_usd=0.03, session_cost_usd=0.03, by_model={"m": 0.03},
                           cache_read_tokens=10, cache_write_tokens=5, escalation_equivalent_usd=0.07, naive_usd=0.09))
    assert [round(x, 6) for x in s.spend] == [0.02, 0.01]
    assert round(s.savings, 6) == 0.04
    assert round(s.savings_vs_naive, 6) == 0.06  # the naive baseline is kept apart, not mixed in
    s.apply(ev.EscalationProposed(task_id="t", from_model="a", to_model="b", reason="validation fail-logic",
                                  failure_signature="sig", payload_tokens=10, naive_tokens=40, estimated_cost_usd=0.1, starts_from="staged"))
    assert s.pending_approvals() == ["t"]
    assert s.take_notes()[0][0] == "warning"
    s.apply(ev.EscalationDecided(task_id="t", approved=True, by="user"))
    assert s.pending_approvals() == []
    s.apply(ev.ChangeApplied(task_id="t", files=["a.py"]))
    assert s.applied == ["t"]
    s.apply(ev.ChangeUndone(task_id="t", files=["a.py"]))
    assert s.applied == []


def test_a_retry_starts_the_story_over() -> None:
    s = UIState()
    s.apply(ev.TaskQueued(task_id="t", prompt="p", scope="single-file"))
    s.apply(ev.TaskStatus(task_id="t", status="running"))
    s.apply(ev.TaskFinished(task_id="t", status="failed", summary={"cost_usd": 0.01, "error": "boom"}))
    assert s.tasks["t"].error == "boom"
    s.apply(ev.TaskStatus(task_id="t", status="running"))
    assert s.tasks["t"].error == "" and s.tasks["t"].status == "running"
    assert s.tasks["t"].cost == 0.01  # paid is paid


def test_format_helpers() -> None:
    assert money(0) == "$0" and money(0.0042) == "$0.0042" and money(1.5) == "$1.500"
    assert bar(0.5, 10) == "█████░░░░░"
    assert bar(0.0, 10, marker=0.75)[7] == "┃"


def test_state_module_imports_no_textual() -> None:
    code = "import sys, gearshift.ui.state, gearshift.ui.stream, gearshift.ui.format; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_ui_does_not_import_the_sdk_before_a_call() -> None:
    code = "import sys, gearshift.ui.app, gearshift.ui.launch; print('anthropic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_findings_compared_with_the_baseline_are_marked_pre_existing_in_the_run() -> None:
    from gearshift.ui.state import finding_text

    s = UIState(show_timings=False)
    s.apply(ev.TaskQueued(task_id="t", prompt="p", scope="single-file"))
    s.apply(ev.ValidationStarted(run_id="v1", task_id="t", checks=["pytest"]))
    old = {"check": "pytest", "kind": "logic", "file": "tests/test_old.py", "line": 2, "col": None,
           "code": "test_old", "message": "assert 1 == 2", "preexisting": False}
    s.apply(ev.ValidationFinished(run_id="v1", task_id="t", outcome="fail-logic", findings=[old]))
    assert not s.runs["v1"].findings[0]["preexisting"]
    s.apply(ev.FindingsCompared(run_id="v1", task_id="t", findings=[{**old, "preexisting": True}], preexisting=1))
    run = s.runs["v1"]
    assert finding_text(run.findings[0]).endswith("(pre-existing)")
    assert run.lines[-1] == "  ↺ 1 of 1 findings were already there before the task (pre-existing)"


def test_a_baseline_run_says_it_is_the_project_before_the_task() -> None:
    s = UIState(show_timings=False)
    s.apply(ev.TaskQueued(task_id="t", prompt="p", scope="single-file"))
    s.apply(ev.ValidationStarted(run_id="v2", task_id="t", checks=["pytest"], reason="baseline"))
    s.apply(ev.ValidationFinished(run_id="v2", task_id="t", outcome="pass", findings=[], reason="baseline"))
    assert s.runs["v2"].lines[-1] == "■ v2 baseline pass (the project before the task)"
    assert s.tasks["t"].validation is None  # the task's own result is not the baseline's


def test_the_routing_pane_lists_the_context_files_with_their_reasons(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from gearshift.config import load_config
    from gearshift.ui.panes.routing import routing_content

    s = UIState(show_timings=False)
    s.apply(ev.TaskQueued(task_id="t", prompt="p", scope="single-file"))
    s.apply(ev.TaskRouted(task_id="t", model="claude-sonnet-4-6", rule="below-threshold", score=0.1, threshold=0.75,
                          signals=[], explanation="", estimated_cost_usd=0.01))
    s.apply(ev.ContextSelected(
        task_id="t",
        files=[{"path": "shop/cart.py", "reason": "named", "tokens": 900, "mode": "full"},
               {"path": "shop/pricing.py", "reason": "imports shop/cart.py", "tokens": 120, "mode": "signatures"}],
        pruned=[{"path": f"shop/m{i}.py", "reason": "over the token budget"} for i in range(7)],
        tokens_sent=1020, tokens_naive=4000,
    ))
    shown = routing_content(load_config(tmp_path), s.tasks["t"], 60).plain
    assert " shop/cart.py named · 900 tok" in shown
    assert " shop/pricing.py imports shop/cart.py · signatures · 120 tok" in shown
    assert "pruned 7:" in shown and "shop/m4.py — over the token budget" in shown
    assert "shop/m5.py" not in shown and "… 2 more" in shown
    # "naive" is explained where it is shown; no experiment, no arm line
    assert "(naive paste of named files + their imports: 4000)" in shown and "A/B arm" not in shown
    s.apply(ev.TaskRouted(task_id="t", model="claude-opus-4-7", rule="threshold", score=0.7, threshold=0.6,
                          signals=[], explanation="", arm="b"))
    assert "A/B arm b: threshold 0.60" in routing_content(load_config(tmp_path), s.tasks["t"], 60).plain

    # narrow: a reason too long for the line goes under its path, every wrapped line indented
    narrow = routing_content(load_config(tmp_path), s.tasks["t"], 24).plain.splitlines()
    start = narrow.index(" shop/pricing.py")
    reason = narrow[start + 1 : start + 4]
    assert all(line.startswith("   ") for line in reason) and "signatures" in " ".join(reason)


def _check(run: str, name: str, kind: str, passed: bool, findings: list[dict]) -> ev.CheckFinished:  # type: ignore[type-arg]
    return ev.CheckFinished(run_id=run, check=name, kind=kind, passed=passed, findings=findings, duration_ms=1.0,
                            exit_code=0 if passed else 1)


def test_tests_that_could_not_be_collected_because_of_a_syntax_error_are_labelled_so() -> None:
    """pytest's collection error beside a compile failure is a consequence of it, whichever
    check finishes first; a real test failure beside a compile failure stays fail-logic."""
    compile_error = {"check": "python_compile", "kind": "syntax", "file": "calc.py", "line": 3, "col": None,
                     "code": "SyntaxError", "message": "invalid syntax", "preexisting": False}
    collection = {"check": "pytest", "kind": "logic", "file": "calc.py", "line": 3, "col": None,
                  "code": "tests/test_calc.py", "message": "SyntaxError: invalid syntax", "preexisting": False}
    real = {**collection, "code": "tests/test_calc.py::test_add", "message": "assert 4 == 5"}
    for order in ("syntax first", "tests first"):
        s = UIState(show_timings=False)
        s.apply(ev.ValidationStarted(run_id="v", task_id="t", checks=["python_compile", "pytest"]))
        checks = [_check("v", "python_compile", "syntax", False, [compile_error]), _check("v", "pytest", "logic", False, [collection])]
        s.apply_all(checks if order == "syntax first" else checks[::-1])
        s.apply(ev.ValidationFinished(run_id="v", task_id="t", outcome="fail-syntax", findings=[compile_error, collection]))
        assert s.runs["v"].results["pytest"].badge == "fail (syntax: collection error)", order
        assert any("pytest: fail (syntax: collection error)" in line for line in s.runs["v"].lines)
        assert not any("fail-logic" in line for line in s.runs["v"].lines), order

    s = UIState(show_timings=False)
    s.apply(ev.ValidationStarted(run_id="v", task_id="t", checks=["python_compile", "pytest"]))
    s.apply_all([_check("v", "python_compile", "syntax", False, [compile_error]), _check("v", "pytest", "logic", False, [real])])
    s.apply(ev.ValidationFinished(run_id="v", task_id="t", outcome="fail-syntax", findings=[compile_error, real]))
    assert s.runs["v"].results["pytest"].badge == "fail-logic"
    s = UIState(show_timings=False)  # a collection error with every syntax check passing is the tests' own
    s.apply(ev.ValidationStarted(run_id="v", task_id="t", checks=["python_compile", "pytest"]))
    s.apply_all([_check("v", "python_compile", "syntax", True, []), _check("v", "pytest", "logic", False, [collection])])
    assert s.runs["v"].results["pytest"].badge == "fail-logic"


def test_the_queue_names_the_model_that_wrote_the_change_not_the_reviewer() -> None:
    s = UIState()
    s.apply(ev.TaskQueued(task_id="t", prompt="p", scope="security"))
    s.apply(ev.AttemptStarted(task_id="t", attempt=1, model="claude-sonnet-4-6", kind="initial"))
    s.apply(ev.AttemptStarted(task_id="t", attempt=2, model="claude-opus-4-7", kind="signoff", starts_from="staged"))
    t = s.tasks["t"]
    assert (t.model, t.signoff) == ("claude-sonnet-4-6", "claude-opus-4-7")
    assert t.route == ["claude-sonnet-4-6", "claude-opus-4-7"]


def test_a_finished_tasks_reason_is_not_said_twice() -> None:
    s = UIState()
    s.apply(ev.TaskQueued(task_id="t", prompt="p", scope="single-file"))
    s.apply(ev.TaskFinished(task_id="t", status="rejected", summary={"error": "rejected in review"}))
    s.apply(ev.TaskQueued(task_id="u", prompt="p", scope="single-file"))
    s.apply(ev.TaskFinished(task_id="u", status="failed", summary={"error": "no recording for task u"}))
    said = [seg.text for t in ("t", "u") for seg in s.tasks[t].output.segments if seg.kind == "error"]
    assert said == ["rejected in review", "failed: no recording for task u"]

def test_the_routing_pane_shows_an_escalations_forecast_beside_its_actual_cost(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from gearshift.config import load_config
    from gearshift.ui.panes.routing import routing_content

    s = UIState(show_timings=False)
    s.apply(ev.TaskQueued(task_id="t", prompt="p", scope="multi-module"))
    s.apply(ev.EscalationProposed(task_id="t", from_model="claude-sonnet-4-6", to_model="claude-opus-4-7",
                                  reason="validation fail-logic", failure_signature="sig", payload_tokens=10,
                                  naive_tokens=40, estimated_cost_usd=0.05, starts_from="staged"))
    s.apply(ev.EscalationDecided(task_id="t", approved=True, by="user"))
    before = routing_content(load_config(tmp_path), s.tasks["t"], 80).plain
    assert "est. $0.050" in before and "actual" not in before  # nothing to compare yet
    s.apply(ev.EscalationSettled(task_id="t", to_model="claude-opus-4-7", estimated_cost_usd=0.05,
                                 actual_cost_usd=0.04, turns=2))
    after = routing_content(load_config(tmp_path), s.tasks["t"], 80).plain
    assert "actual $0.040" in after and "(forecast +25%)" in after
