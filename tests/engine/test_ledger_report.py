"""The ledger keeps every call; the report turns it into spend, escalation rate and latency."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from gearshift.ledger import CallRow, Ledger
from gearshift.report import build_report, format_report


def call(
    task: str,
    model: str,
    cost: float,
    equiv: float,
    latency: float,
    tags: dict[str, str],
    fault: str | None = None,
) -> CallRow:
    return CallRow(
        task_id=task,
        attempt=1,
        turn=1,
        kind="initial",
        model=model,
        input_tokens=100,
        output_tokens=50,
        cache_write_5m_tokens=10,
        cache_write_1h_tokens=0,
        cache_read_tokens=5,
        cost_usd=cost,
        escalation_equiv_usd=equiv,
        ttft_ms=100.0,
        latency_ms=latency,
        stop_reason="end_turn",
        fault=fault,
        tags=tags,
    )


def fill(ledger: Ledger) -> None:
    a = {"task_type": "feature", "team": "x"}
    b = {"task_type": "security", "team": "y"}
    for lat in (1000.0, 2000.0, 3000.0):
        ledger.record_call(call("t1", "claude-sonnet-4-6", 0.01, 0.0167, lat, a))
    ledger.record_call(call("t2", "claude-sonnet-4-6", 0.02, 0.0333, 1500.0, b))
    ledger.record_call(call("t2", "claude-opus-4-7", 0.10, 0.10, 8000.0, b))
    ledger.record_call(call("t2", "claude-opus-4-7", 0.05, 0.05, 0.0, b, fault="connection_cut"))
    ledger.record_task(
        {"id": "t1", "status": "approved", "route": ["claude-sonnet-4-6"], "cost_usd": 0.03},
        a,
        "claude-opus-4-7",
    )
    ledger.record_task(
        {
            "id": "t2",
            "status": "approved",
            "route": ["claude-sonnet-4-6", "claude-opus-4-7"],
            "cost_usd": 0.17,
        },
        b,
        "claude-opus-4-7",
    )


def test_rows_survive_reopen_and_wal(tmp_path: Path) -> None:
    path = tmp_path / ".gearshift" / "ledger.db"
    ledger = Ledger(path)
    fill(ledger)
    ledger.close()
    again = Ledger(path)
    assert len(list(again.calls())) == 6
    assert again._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_report_by_model(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.db")
    fill(ledger)
    r = build_report(ledger, by="model")
    groups = {g["key"]: g for g in r["groups"]}
    sonnet, opus = groups["claude-sonnet-4-6"], groups["claude-opus-4-7"]
    assert sonnet["calls"] == 4 and abs(sonnet["cost_usd"] - 0.05) < 1e-9
    assert sonnet["latency_p50_ms"] == 1750.0  # of 1000, 1500, 2000, 3000
    assert opus["calls"] == 2 and opus["latency_p50_ms"] == 8000.0  # the faulted call has no latency
    assert r["total"]["tasks"] == 2 and r["total"]["escalation_rate"] == 0.5
    assert abs(r["total"]["escalation_equiv_usd"] - (3 * 0.0167 + 0.0333 + 0.15)) < 1e-9
    assert abs(r["total"]["savings_usd"] - (r["total"]["escalation_equiv_usd"] - 0.2)) < 1e-9


def test_report_by_tag_and_type_and_formats(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.db")
    fill(ledger)
    by_tag = {g["key"]: g for g in build_report(ledger, by="tag")["groups"]}
    assert by_tag["team=y"]["calls"] == 3 and by_tag["team=x"]["calls"] == 3
    by_type = build_report(ledger, by="task_type")
    assert {g["key"] for g in by_type["groups"]} == {"feature", "security"}
    table = format_report(by_type, "table")
    assert "security" in table and "same calls $" in table and "naive is blank where 6 calls predate" in table
    assert "tasks: approved 2" in table  # outcomes show in the table too, not only in JSON
    # cost_tracking.tags: "by tag" groups on the tags the team reports on, not every tag stored
    only_team = {g["key"] for g in build_report(ledger, by="tag", tags=("team",))["groups"]}
    assert only_team == {"team=x", "team=y"}
    assert {g["key"] for g in build_report(ledger, by="tag", tags=("feature_branch",))["groups"]} == {"(untagged)"}
    rows = list(csv.DictReader(io.StringIO(format_report(by_type, "csv"))))
    assert rows[-1]["key"] == "total" and rows[-1]["calls"] == "6"
    assert json.loads(format_report(by_type, "json"))["by"] == "task_type"


def test_report_command(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / ".gearshift" / "ledger.db")
    fill(ledger)
    ledger.close()
    out = subprocess.run(
        [sys.executable, "-m", "gearshift", "report", str(tmp_path), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["total"]["calls"] == 6
    (tmp_path / "gearshift.toml").write_text('[cost_tracking]\ntags = ["team"]\n')
    by_tag = subprocess.run(
        [sys.executable, "-m", "gearshift", "report", str(tmp_path), "--by", "tag", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert {g["key"] for g in json.loads(by_tag.stdout)["groups"]} == {"team=x", "team=y"}
    empty = subprocess.run(
        [sys.executable, "-m", "gearshift", "report", str(tmp_path / ".gearshift")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert empty.returncode == 2 and "no ledger yet" in empty.stderr


def test_measured_latency_ignores_replayed_calls(tmp_path: Path) -> None:
    from dataclasses import replace

    ledger = Ledger(tmp_path / "l.db")
    for lat in (10.0, 11.0, 12.0, 13.0, 14.0):
        ledger.record_call(replace(call("t", "claude-opus-4-7", 0.1, 0.1, lat, {}), mode="replay"))
    assert ledger.median_latency_ms("claude-opus-4-7") is None
    for lat in (7000.0, 8000.0, 9000.0, 6000.0, 7500.0):
        ledger.record_call(call("t", "claude-opus-4-7", 0.1, 0.1, lat, {}))
    assert ledger.median_latency_ms("claude-opus-4-7") == 7500.0


def test_old_ledger_gains_the_added_columns(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE calls (id INTEGER PRIMARY KEY, session TEXT, ts REAL, task_id TEXT, attempt INTEGER, turn INTEGER,"
        " kind TEXT, model TEXT, input_tokens INTEGER, output_tokens INTEGER, cache_write_5m_tokens INTEGER,"
        " cache_write_1h_tokens INTEGER, cache_read_tokens INTEGER, cost_usd REAL, escalation_equiv_usd REAL,"
        " ttft_ms REAL, latency_ms REAL, stop_reason TEXT, fault TEXT, task_type TEXT, tags TEXT, request_id TEXT)"
    )
    db.execute(
        "CREATE TABLE tasks (id INTEGER PRIMARY KEY, session TEXT NOT NULL, ts REAL NOT NULL, task_id TEXT NOT NULL,"
        " status TEXT NOT NULL, route TEXT NOT NULL, escalated INTEGER NOT NULL, attempts INTEGER NOT NULL,"
        " calls INTEGER NOT NULL, validation TEXT, cost_usd REAL NOT NULL, latency_ms REAL NOT NULL,"
        " task_type TEXT, tags TEXT NOT NULL, detail TEXT NOT NULL)"
    )
    db.execute(
        "INSERT INTO tasks VALUES (1, 's0', 0, 'old', 'approved', '[\"claude-sonnet-4-6\"]', 0, 1, 1, 'pass',"
        " 0.01, 1.0, NULL, '{}', '{}')"
    )
    db.commit()
    db.close()
    ledger = Ledger(path)
    ledger.record_call(call("t", "claude-opus-4-7", 0.1, 0.1, 5.0, {}))
    assert [r["mode"] for r in ledger.calls()] == ["live"]
    # The task rows gained tune's and the experiment's columns; the old row keeps its place, empty.
    ledger.record_task(
        {"id": "new", "status": "approved", "route": [], "scope": "security", "complexity": {"score": 0.6},
         "rule": "always-escalate", "threshold": 0.75, "arm": "a",
         "attempt_log": [{"attempt": 1, "outcome": "pass"}], "baselines": {"same_calls_usd": 0.2, "naive_usd": 0.3}},
        {},
        "claude-opus-4-7",
    )
    old_row, new_row = list(ledger.tasks())
    assert (old_row["score"], old_row["arm"], old_row["undone"], old_row["naive_usd"]) == (None, None, 0, None)
    assert (new_row["scope"], new_row["score"], new_row["rule"], new_row["arm"]) == ("security", 0.6, "always-escalate", "a")
    assert (new_row["first_outcome"], new_row["same_calls_usd"], new_row["naive_usd"]) == ("pass", 0.2, 0.3)
    report = build_report(ledger)
    assert report["total"]["naive_usd"] is None and report["total"]["naive_missing_calls"] == 1


def test_report_latency_leaves_out_replayed_calls_and_says_so(tmp_path: Path) -> None:
    from dataclasses import replace

    ledger = Ledger(tmp_path / "l.db")
    for lat in (2000.0, 2100.0):  # a recording's pacing, not the model's
        ledger.record_call(replace(call("t", "claude-sonnet-4-6", 0.01, 0.02, lat, {}), mode="replay"))
    report = build_report(ledger, by="model")
    sonnet = report["groups"][0]
    assert (sonnet["calls"], sonnet["replayed_calls"], sonnet["latency_p50_ms"]) == (2, 2, None)
    assert "latency leaves out 2 calls replayed from recordings" in format_report(report, "table")
    ledger.record_call(call("t", "claude-sonnet-4-6", 0.01, 0.02, 900.0, {}))
    sonnet = build_report(ledger, by="model")["groups"][0]
    assert (sonnet["calls"], sonnet["replayed_calls"], sonnet["latency_p50_ms"]) == (3, 2, 900.0)


def test_a_task_routed_to_the_escalation_model_from_the_start_was_not_escalated(tmp_path: Path) -> None:
    from gearshift.ledger import escalated

    opus, sonnet = "claude-opus-4-7", "claude-sonnet-4-6"
    assert escalated([sonnet, opus], opus) and escalated([sonnet, sonnet, opus], opus)
    assert not escalated([opus], opus) and not escalated([opus, opus], opus)
    assert not escalated([sonnet, sonnet], opus) and not escalated([], opus)
    ledger = Ledger(tmp_path / "l.db")
    ledger.record_task({"id": "audit", "status": "approved", "route": [opus]}, {}, opus)
    ledger.record_task({"id": "fix", "status": "approved", "route": [sonnet, opus]}, {}, opus)
    assert build_report(ledger, by="task_type")["total"]["escalation_rate"] == 0.5


def test_a_file_that_is_not_a_ledger_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from gearshift.cli import main
    from gearshift.ledger import LedgerError

    db = tmp_path / ".gearshift" / "ledger.db"
    db.parent.mkdir()
    db.write_text("not a database\n")
    with pytest.raises(LedgerError, match="cannot be used as the ledger"):
        Ledger(db)
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "ledger.db: cannot be used as the ledger" in err and "Traceback" not in err
    assert db.read_text() == "not a database\n"  # left for the user to look at


def test_the_ledger_file_is_created_by_the_first_write_not_by_opening(tmp_path: Path) -> None:
    from gearshift.ledger import Ledger

    ledger = Ledger.for_project(tmp_path)
    assert list(ledger.calls()) == [] and ledger.median_latency_ms("m") is None
    assert not (tmp_path / ".gearshift").exists()  # opening the app leaves nothing behind
    ledger.record_task({"id": "t", "status": "approved", "route": ["m"]}, {}, "m")
    assert (tmp_path / ".gearshift" / "ledger.db").is_file()
    assert [r["task_id"] for r in ledger.tasks()] == ["t"]
    ledger.close()
    again = Ledger.for_project(tmp_path)
    assert [r["task_id"] for r in again.tasks()] == ["t"]
    again.close()
