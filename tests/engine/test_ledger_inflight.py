"""Every call that may be billed is in the ledger before it is sent, and settled however it ends.

A kill -9 mid-stream leaves the in-flight row (priced at its worst case, reported as unsettled);
an SDK exception of a kind nobody foresaw (a lone surrogate in tool input) is a booked fault,
never an internal error with nothing booked.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from gearshift.cli import main
from gearshift.ledger import IN_FLIGHT, Ledger
from gearshift.report import build_report, format_report
from gearshift.tasks import Task

from tests.engine.pipeline_project import make_project
from tests.engine.test_pipeline_integration import EDITOR, of, run, usage
from tests.support.messages_server import MessagesServer, Reply

ANSWER = Task(id="ask", prompt="What does calc.total do?", requires_validation=False)


def wait_for(predicate, what: str, limit_s: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def test_a_kill_9_mid_stream_leaves_the_calls_row(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    project = make_project(tmp_path / "p")
    (project / "tasks.toml").write_text(
        '[[task]]\nid = "ask"\nprompt = "What does calc.total do?"\nrequires_validation = false\n'
    )
    # The model starts its answer and then stalls: the process is killed while it streams.
    stall = Reply.text("Sums the prices.", usage=usage(200, 40), first_frame_delay_s=120)
    env = {
        **os.environ,
        "ANTHROPIC_API_KEY": "test-key",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "tui"),
    }
    with MessagesServer([stall]) as server:
        env["ANTHROPIC_BASE_URL"] = server.url
        proc = subprocess.Popen(
            [sys.executable, "-m", "gearshift", "run", str(project), "--headless", "--json"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            wait_for(lambda: server.message_requests or proc.poll() is not None, "the request")
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
            if proc.stderr:
                proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    db = sqlite3.connect(project / ".gearshift" / "ledger.db")
    db.row_factory = sqlite3.Row
    (row,) = db.execute("SELECT * FROM calls").fetchall()
    db.close()
    sent = server.message_requests[0].json
    assert row["status"] == IN_FLIGHT and row["task_id"] == "ask" and row["model"] == sent["model"]
    # Priced at its worst case: at least every output token it could have produced.
    assert row["cost_usd"] >= sent["max_tokens"] * 15 / 1_000_000
    ledger = Ledger.for_project(project)
    try:
        report = build_report(ledger)
    finally:
        ledger.close()
    assert report["total"]["unsettled_calls"] == 1
    assert report["total"]["unsettled_usd"] == round(row["cost_usd"], 6)
    assert main(["report", str(project)]) == 0
    assert "1 unsettled call at its worst case" in capsys.readouterr().out
    assert "unsettled" in format_report(report)


async def test_a_lone_surrogate_in_tool_input_is_a_booked_fault_not_an_internal_error(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    hostile = Reply.tool_use(
        EDITOR, {"command": "create", "path": "x.py", "file_text": "a\ud800b"}, usage=usage(300, 80)
    )
    task = Task(id="t", prompt="Add x.py", context_files=("calc.py",))
    with MessagesServer([hostile]) as server:
        code, events = await run(project, server, [task])
    (summary,) = events[-1]["tasks"]
    assert code == 1 and summary["status"] == "failed"
    assert "internal error" not in summary["error"] and "stream_error" in summary["error"]
    assert "Unable to parse tool parameter JSON" in of(events, "call_failed")[0]["message"]
    (row,) = Ledger.for_project(project).calls()
    assert row["status"] == "failed" and row["fault"] == "stream_error"
    # The SDK gave up before the message_delta: what message_start reported is what is booked.
    assert row["input_tokens"] == 300 and row["output_tokens"] == 1
    assert row["cost_usd"] == (300 * 3 + 1 * 15) / 1_000_000
    assert not (project / "x.py").exists()


async def test_each_settled_row_replaces_its_in_flight_row(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    seen: list[list[str]] = []

    def answer(body: dict, headers: dict) -> Reply:
        # While the server answers, the ledger already holds this call, in flight.
        ledger = Ledger.for_project(project)
        try:
            seen.append([r["status"] for r in ledger.calls()])
        finally:
            ledger.close()
        return Reply.text("Sums the prices.", usage=usage(100, 20))

    with MessagesServer(answer) as server:
        code, _ = await run(project, server, [ANSWER])
    assert code == 0
    assert seen == [[IN_FLIGHT]]
    (row,) = Ledger.for_project(project).calls()
    assert row["status"] == "completed" and row["cost_usd"] == (100 * 3 + 20 * 15) / 1_000_000


def test_a_ledger_from_before_the_status_column_is_migrated(tmp_path: Path) -> None:
    db_path = tmp_path / "ledger.db"
    ledger = Ledger(db_path)
    ledger.record_task({"id": "t", "status": "approved"}, {}, "m")  # the file exists from here
    ledger.close()
    db = sqlite3.connect(db_path)
    db.execute("ALTER TABLE calls DROP COLUMN status")
    db.execute(
        "INSERT INTO calls (session, ts, task_id, attempt, turn, kind, model, input_tokens, output_tokens,"
        " cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens, cost_usd, escalation_equiv_usd,"
        " tags) VALUES ('s', 1, 't', 1, 1, 'initial', 'm', 1, 1, 0, 0, 0, 0.5, 0.5, '{}')"
    )
    db.commit()
    db.close()
    ledger = Ledger(db_path)
    try:
        (row,) = ledger.calls()
        assert row["status"] == "settled"
        assert build_report(ledger)["total"]["unsettled_calls"] == 0
    finally:
        ledger.close()


def test_a_gearshift_file_or_a_ledger_folder_is_one_line_exit_2(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    for name, block in (
        ("file", lambda p: (p / ".gearshift").write_text("x")),
        ("folder", lambda p: (p / ".gearshift" / "ledger.db").mkdir(parents=True)),
    ):
        project = make_project(tmp_path / name)
        (project / "tasks.toml").write_text('[[task]]\nid = "a"\nprompt = "p"\nrequires_validation = false\n')
        block(project)
        assert main(["run", str(project), "--headless"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("gearshift: ") and err.count("\n") == 1 and ".gearshift" in err, err
        assert "Traceback" not in err
