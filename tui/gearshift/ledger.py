"""The ledger: every paid call and every task outcome, in SQLite at `.gearshift/ledger.db`.

A call's row is written *before* its request is sent, with status "in_flight" and priced at the
call's worst case, and settled (completed / failed / cancelled, at what was billed) the moment it
ends — before its edits are validated or applied. So a kill -9 mid-stream still leaves a row (an
"unsettled" one, counted at its worst case), and a crash, a cancel or Ctrl+C never loses money
that was spent. WAL mode lets the TUI read reports while a run writes.

Columns added after the first release are listed in `ADDED_COLUMNS` and added to an older
ledger when it is opened (additive only: an old gearshift can still read a new ledger). A task
row carries what `gearshift tune` and `report --by arm` need: the score, scope, the rule and
threshold that routed it, its A/B arm, each attempt's model, kind, outcome and cost, and both
baselines. Undoing an applied change books a new row for the task with status `undone`.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from gearshift.redact import redact_value

SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY,
    session TEXT NOT NULL,
    ts REAL NOT NULL,
    task_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    turn INTEGER NOT NULL,
    kind TEXT NOT NULL,
    model TEXT NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cache_write_5m_tokens INTEGER NOT NULL,
    cache_write_1h_tokens INTEGER NOT NULL,
    cache_read_tokens INTEGER NOT NULL,
    cost_usd REAL NOT NULL,
    escalation_equiv_usd REAL NOT NULL,
    ttft_ms REAL,
    latency_ms REAL,
    stop_reason TEXT,
    fault TEXT,
    task_type TEXT,
    tags TEXT NOT NULL,
    request_id TEXT
);
CREATE INDEX IF NOT EXISTS calls_task ON calls(task_id);
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY,
    session TEXT NOT NULL,
    ts REAL NOT NULL,
    task_id TEXT NOT NULL,
    status TEXT NOT NULL,
    route TEXT NOT NULL,
    escalated INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    calls INTEGER NOT NULL,
    validation TEXT,
    cost_usd REAL NOT NULL,
    latency_ms REAL NOT NULL,
    task_type TEXT,
    tags TEXT NOT NULL,
    detail TEXT NOT NULL
);
"""

# (table, column, declaration): added to any ledger that lacks them, in this order.
ADDED_COLUMNS = (
    ("calls", "mode", "TEXT NOT NULL DEFAULT 'live'"),
    ("calls", "naive_usd", "REAL"),  # NULL: booked before the naive baseline existed
    ("calls", "status", "TEXT NOT NULL DEFAULT 'settled'"),  # see IN_FLIGHT
    ("tasks", "scope", "TEXT"),
    ("tasks", "score", "REAL"),
    ("tasks", "rule", "TEXT"),
    ("tasks", "threshold", "REAL"),
    ("tasks", "arm", "TEXT"),
    ("tasks", "first_outcome", "TEXT"),  # the first attempt's validation outcome
    ("tasks", "attempt_log", "TEXT"),  # JSON: [{attempt, model, kind, outcome, cost_usd, usage}]
    ("tasks", "same_calls_usd", "REAL"),
    ("tasks", "naive_usd", "REAL"),
    ("tasks", "undone", "INTEGER NOT NULL DEFAULT 0"),
)

# A call's row is "in_flight" from before its request is sent until it ends; then it is
# "completed", "failed" or "cancelled" (rows written before the column existed say "settled").
IN_FLIGHT = "in_flight"


@dataclass(frozen=True)
class CallRow:
    task_id: str
    attempt: int
    turn: int
    kind: str
    model: str
    input_tokens: int
    output_tokens: int
    cache_write_5m_tokens: int
    cache_write_1h_tokens: int
    cache_read_tokens: int
    cost_usd: float
    escalation_equiv_usd: float
    ttft_ms: float | None
    latency_ms: float | None
    stop_reason: str | None
    fault: str | None
    tags: dict[str, str]
    request_id: str | None = None
    mode: str = "live"  # live | record | replay: replayed latencies say nothing about the model
    naive_usd: float | None = None
    in_flight: bool = False  # written before the request is sent, priced at its worst case

    @property
    def status(self) -> str:
        if self.in_flight:
            return IN_FLIGHT
        if self.fault is None:
            return "completed"
        return "cancelled" if self.fault == "cancelled" else "failed"


class LedgerError(Exception):
    """The ledger file cannot be opened as one (not a database, unreadable): bad input, said once."""


class Ledger:
    """The project's ledger. The file (and `.gearshift/`) is created by the first write, not on
    open: opening the app in a folder must not leave anything behind until a call is booked. An
    existing file is opened at once, so a damaged one is said at start."""

    def __init__(self, path: Path, session: str | None = None) -> None:
        self.path = path
        self.session = session or uuid.uuid4().hex[:12]
        self._conn: sqlite3.Connection | None = None
        if path.exists() or (path.parent.exists() and not path.parent.is_dir()):
            self._open()  # an existing ledger, or something in its way: said at start

    @property
    def _db(self) -> sqlite3.Connection:
        return self._conn if self._conn is not None else self._open()

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:  # .gearshift is a file, ledger.db a folder, ...
            raise LedgerError(f"{self.path}: cannot be used as the ledger ({exc}); move it aside") from None
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(SCHEMA)
            db.row_factory = sqlite3.Row
            _add_columns(db)
        except sqlite3.DatabaseError as exc:  # OperationalError (read-only, locked) included
            db.close()
            raise LedgerError(
                f"{self.path}: cannot be used as the ledger ({exc}); move it aside and gearshift starts a new one"
            ) from None
        self._conn = db
        return db

    @property
    def written(self) -> bool:
        """Whether the ledger file exists (reads of a ledger never written find nothing)."""
        return self._conn is not None or self.path.exists()

    @classmethod
    def for_project(cls, root: Path, session: str | None = None) -> Ledger:
        return cls(root / ".gearshift" / "ledger.db", session)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()

    def record_call(self, row: CallRow) -> int:
        """Insert a call's row (in flight or settled); returns its id for `settle_call`."""
        row = redact_value(row)
        cursor = self._db.execute(
            "INSERT INTO calls (session, ts, task_id, attempt, turn, kind, model, input_tokens,"
            " output_tokens, cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens,"
            " cost_usd, escalation_equiv_usd, ttft_ms, latency_ms, stop_reason, fault, task_type,"
            " tags, request_id, mode, naive_usd, status)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (self.session, time.time(), *self._values(row)),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def settle_call(self, row_id: int, row: CallRow) -> None:
        """Replace an in-flight row's worst case by what the call ended as (its time stays the start)."""
        row = redact_value(row)
        self._db.execute(
            "UPDATE calls SET task_id=?, attempt=?, turn=?, kind=?, model=?, input_tokens=?,"
            " output_tokens=?, cache_write_5m_tokens=?, cache_write_1h_tokens=?, cache_read_tokens=?,"
            " cost_usd=?, escalation_equiv_usd=?, ttft_ms=?, latency_ms=?, stop_reason=?, fault=?,"
            " task_type=?, tags=?, request_id=?, mode=?, naive_usd=?, status=? WHERE id=?",
            (*self._values(row), row_id),
        )

    def spent_since(self, since: float) -> float:
        """Dollars of every call begun at or after `since` (epoch seconds), by any session;
        in-flight rows count at their worst case."""
        if not self.written:  # a read does not create the ledger
            return 0.0
        (total,) = self._db.execute(
            "SELECT COALESCE(SUM(cost_usd), 0) FROM calls WHERE ts >= ?", (since,)
        ).fetchone()
        return float(total)

    def spent_today(self) -> Decimal:
        """Spend since local midnight by every process using this ledger (the daily budget)."""
        midnight = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
        return Decimal(str(self.spent_since(midnight.timestamp())))

    @staticmethod
    def _values(row: CallRow) -> tuple[Any, ...]:
        return (
            row.task_id,
            row.attempt,
            row.turn,
            row.kind,
            row.model,
            row.input_tokens,
            row.output_tokens,
            row.cache_write_5m_tokens,
            row.cache_write_1h_tokens,
            row.cache_read_tokens,
            row.cost_usd,
            row.escalation_equiv_usd,
            row.ttft_ms,
            row.latency_ms,
            row.stop_reason,
            row.fault,
            row.tags.get("task_type"),
            json.dumps(row.tags, sort_keys=True),
            row.request_id,
            row.mode,
            row.naive_usd,
            row.status,
        )

    def record_task(self, summary: dict[str, Any], tags: dict[str, str], escalation_model: str) -> None:
        """Book a task's outcome (a later row for the same session and task supersedes it)."""
        summary, tags = redact_value(summary), redact_value(tags)  # an error may quote a secret
        route = summary.get("route", [])
        complexity = summary.get("complexity") or {}
        attempt_log = summary.get("attempt_log") or []
        baselines = summary.get("baselines") or {}
        self._db.execute(
            "INSERT INTO tasks (session, ts, task_id, status, route, escalated, attempts, calls,"
            " validation, cost_usd, latency_ms, task_type, tags, detail, scope, score, rule, threshold,"
            " arm, first_outcome, attempt_log, same_calls_usd, naive_usd, undone)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                self.session,
                time.time(),
                summary["id"],
                summary["status"],
                json.dumps(route),
                int(escalated(route, escalation_model)),
                summary.get("attempts", 0),
                summary.get("calls", 0),
                summary.get("validation"),
                summary.get("cost_usd", 0.0),
                summary.get("latency_ms", 0.0),
                tags.get("task_type"),
                json.dumps(tags, sort_keys=True),
                json.dumps(summary, sort_keys=True, default=str),
                summary.get("scope"),
                complexity.get("score"),
                summary.get("rule"),
                summary.get("threshold"),
                summary.get("arm"),
                attempt_log[0].get("outcome") if attempt_log else None,
                json.dumps(attempt_log),
                baselines.get("same_calls_usd"),
                baselines.get("naive_usd"),
                int(bool(summary.get("undone"))),
            ),
        )

    def calls(self, session: str | None = None) -> Iterator[sqlite3.Row]:
        if not self.written:
            return
        if session:
            yield from self._db.execute("SELECT * FROM calls WHERE session = ? ORDER BY id", (session,))
        else:
            yield from self._db.execute("SELECT * FROM calls ORDER BY id")

    def tasks(self, session: str | None = None) -> Iterator[sqlite3.Row]:
        if not self.written:
            return
        if session:
            yield from self._db.execute("SELECT * FROM tasks WHERE session = ? ORDER BY id", (session,))
        else:
            yield from self._db.execute("SELECT * FROM tasks ORDER BY id")

    def median_latency_ms(self, model: str, min_calls: int = 5) -> float | None:
        """This machine's measured median latency for `model`, once enough real calls exist."""
        if not self.written:
            return None
        rows = [
            r[0]
            for r in self._db.execute(
                "SELECT latency_ms FROM calls WHERE model = ? AND fault IS NULL"
                " AND latency_ms IS NOT NULL AND mode != 'replay' ORDER BY latency_ms",
                (model,),
            )
        ]
        if len(rows) < min_calls:
            return None
        return float(rows[len(rows) // 2])


def _add_columns(db: sqlite3.Connection) -> None:
    """Bring a ledger written by an older gearshift up to `ADDED_COLUMNS`."""
    present = {table: {r["name"] for r in db.execute(f"PRAGMA table_info({table})")} for table in ("calls", "tasks")}
    for table, column, declaration in ADDED_COLUMNS:
        if column not in present[table]:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")


def escalated(route: list[str], escalation_model: str) -> bool:
    """An escalation is a move to the escalation model after an attempt on another one; a task
    routed there from the start (a security scope, a forced route) was not escalated."""
    return bool(route) and route[0] != escalation_model and escalation_model in route[1:]
