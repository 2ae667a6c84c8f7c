"""The headless runner: the engine's event stream on stdout, for CI and scripts.

`--json` prints every event as one JSON object per line and ends with a `summary` line; that
shape is a public contract (see the README). Without `--json` the same events are told as short
human lines. Exit status: 0 when every task was approved, 1 when any was not.

A headless run is a batch run: routing ignores the latency budget (nobody is waiting) and sends
review tasks to `routing.batch_review_model`. `sarif` writes every review finding of the run as
one SARIF 2.1.0 log, for CI code scanning.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import ClassVar, Protocol, TextIO

from gearshift import events as ev
from gearshift.config import Config
from gearshift.edits.apply import ApplyConflict
from gearshift.edits.workspace import PathRefused
from gearshift.ledger import Ledger
from gearshift.models.client import ModelGateway
from gearshift.pipeline.session import Session, approve_always, approve_never
from gearshift.tasks import Task


class HumanPrinter:
    """Short, plain lines for a person watching a CI log."""

    # Events that get no line of their own (tests/engine/test_event_consumers.py holds every
    # event to a decision): progress a later line tells (queued, status, the call CallFinished
    # reports, staged edits, the change a TaskFinished names, a run's raw output), numbers the
    # closing summary line gives (costs, totals), or what only the app offers (undo).
    IGNORES: ClassVar[frozenset[type[ev.Event]]] = frozenset(
        {
            ev.TaskQueued,
            ev.TaskStatus,
            ev.ContextSelected,
            ev.CallStarted,
            ev.CostUpdated,
            ev.EditStaged,
            ev.ChangeReady,
            ev.ChangeUndone,
            ev.ValidationStarted,
            ev.ValidationLine,
            ev.SessionFinished,
        }
    )

    def __init__(self, out: Writable) -> None:
        self.out = out
        self._in_text = False

    def __call__(self, event: ev.Event) -> None:
        line = self._line(event)
        if isinstance(event, ev.TextDelta):
            self.out.write(event.text)
            self._in_text = True
            self.out.flush()
            return
        if line is None:
            return
        if self._in_text:
            self.out.write("\n")
            self._in_text = False
        self.out.write(line + "\n")
        self.out.flush()

    def _line(self, e: ev.Event) -> str | None:
        match e:
            case ev.SessionStarted():
                note = " (scripted demo recordings)" if e.scripted else ""
                unsafe = f"\nwarning: {e.sandbox_note}" if e.sandbox not in ("bubblewrap", "") else ""
                return f"gearshift: {e.project} — {e.mode}{note}{unsafe}"
            case ev.ModelForced():
                forced = f"forced to the {e.which} model ({e.model})" if e.which else "no longer forced"
                return f"[{e.task_id}] next run {forced}"
            case ev.TaskRouted():
                return f"[{e.task_id}] → {e.model} ({e.rule}: {e.explanation})"
            case ev.AttemptStarted():
                return f"[{e.task_id}] attempt {e.attempt}: {e.kind} on {e.model}"
            case ev.ToolCall():
                mark = "✓" if e.ok else "✗"
                return f"  {mark} {e.command} {e.path}" + ("" if e.ok else f" — {e.summary}")
            case ev.CallFinished():
                return f"  call {e.attempt}.{e.turn}: {e.stop_reason}, {e.input_tokens}+{e.cache_read_tokens}r+{e.cache_write_5m_tokens + e.cache_write_1h_tokens}w in / {e.output_tokens} out, ${e.cost_usd:.4f}"
            case ev.CallFailed():
                return f"  call {e.attempt}.{e.turn} FAILED ({e.fault}): {e.message}"
            case ev.CheckFinished():
                state = "pass" if e.passed else ("TIMEOUT" if e.timed_out else "FAIL")
                return f"  check {e.check}: {state} ({len(e.findings)} findings, {e.duration_ms:.0f} ms)" + (
                    f" — {e.error}" if e.error else ""
                )
            case ev.ValidationFinished():
                return f"  validation ({e.reason}): {e.outcome}"
            case ev.FindingsCompared() if e.preexisting:
                return f"  {e.preexisting} of {len(e.findings)} findings were already there before the task (pre-existing)"
            case ev.ReviewFinished():
                lines = [
                    f"[{e.task_id}] review: {len(e.findings)} finding(s)"
                    + (f", {len(e.dropped)} dropped (lines that do not exist)" if e.dropped else "")
                    + (f", {e.rejected} malformed" if e.rejected else "")
                    + ("" if e.ok else f" — {e.reason}")
                ]
                for f in e.findings:
                    lines.append(f"  {f['severity']:7} {f['file']}:{f['start_line']} [{f['rule']}] {f['message']}")
                return "\n".join(lines)
            case ev.EscalationProposed():
                return f"[{e.task_id}] escalation proposed {e.from_model} → {e.to_model}: {e.failure_signature} (payload ~{e.payload_tokens} tokens vs ~{e.naive_tokens} for a naive re-prompt of the whole attempt; est. ${e.estimated_cost_usd:.4f})"
            case ev.EscalationDecided():
                return f"[{e.task_id}] escalation {'approved' if e.approved else 'declined'} ({e.by})"
            case ev.EscalationSettled():
                return f"[{e.task_id}] escalation to {e.to_model} cost ${e.actual_cost_usd:.4f} in {e.turns} calls (forecast ${e.estimated_cost_usd:.4f})"
            case ev.SignoffFinished():
                return f"[{e.task_id}] sign-off by {e.model}: {'approved' if e.approved else 'REJECTED'} — {e.reason}"
            case ev.BudgetAlert():
                return f"[{e.task_id}] cost alert: ${e.task_cost_usd:.4f} > ${e.threshold_usd:.2f} per task"
            case ev.BudgetBlocked():
                which = "today's budget" if e.budget == "daily" else "the session budget"
                return f"[{e.task_id}] BLOCKED by {which}: spent ${e.spent_usd:.4f} + worst case ${e.worst_case_usd:.4f} > cap ${e.cap_usd:.2f}"
            case ev.ChangeApplied():
                return f"[{e.task_id}] applied: {', '.join(e.files) or '(no files)'}"
            case ev.TaskFinished():
                s = e.summary
                extra = f" — {s['error']}" if s.get("error") else ""
                return f"[{e.task_id}] {e.status.upper()} route={s['route']} ${s['cost_usd']:.4f}{extra}"
            case ev.Notice():
                return f"{e.level}: {e.message}"
        return None


def baseline_line(summary: dict, label: str) -> str:
    """The run's spend against both named baselines (see pipeline/metering.py)."""
    spent, base = summary["total_cost_usd"], summary["baselines"]
    return (
        f"total ${spent:.4f} — same calls at {label} prices ${base['same_calls_usd']:.4f}; "
        f"naive {label} (no pruning, no cache, same turns) ${base['naive_usd']:.4f}"
    )


class Writable(Protocol):
    def write(self, text: str, /) -> object: ...
    def flush(self) -> object: ...


class ReaderGone:
    """The run's output, which may lose its reader: a closed terminal (EIO, with the SIGHUP that
    usually follows) or a closed pipe (EPIPE). The first failed write marks it gone and every
    later one is dropped, so the run still cancels, books its calls and removes its stage
    instead of failing in the middle of its cleanup on a line nobody can read."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self.gone = False

    def write(self, text: str) -> None:
        if self.gone:
            return
        try:
            self._out.write(text)
        except OSError:
            self.gone = True

    def flush(self) -> None:
        if self.gone:
            return
        try:
            self._out.flush()
        except OSError:
            self.gone = True


def json_printer(out: Writable) -> ev.EventSink:
    def emit(event: ev.Event) -> None:
        out.write(json.dumps(event.to_dict(), default=str) + "\n")
        out.flush()

    return emit


async def run_headless(
    config: Config,
    tasks: list[Task],
    gateway: ModelGateway,
    *,
    as_json: bool,
    auto_approve: bool,
    escalate: str,
    out: TextIO | None = None,
    sarif: Path | None = None,
    batch: bool = True,
) -> int:
    # sys.stdout is looked up per call: it may be replaced
    sink = ReaderGone(out if out is not None else sys.stdout)
    emit = json_printer(sink) if as_json else HumanPrinter(sink)
    ledger = Ledger.for_project(config.root)
    session = Session(
        config,
        gateway,
        emit=emit,
        approver=approve_always if escalate == "auto" else approve_never,
        ledger=ledger,
        batch=batch,  # `gearshift run --headless` always is; make_recordings also records the app's routes
    )
    emit(
        ev.SessionStarted(
            project=str(config.root),
            mode=gateway.mode,
            scripted=gateway.scripted,
            config_source=config.source,
            sandbox=session.sandbox.label,
            sandbox_note=session.sandbox.describe(),
        )
    )
    try:
        session.recover()  # an apply a crash interrupted is finished or rolled back first
        if session.sandbox.refused:  # before any model call: one line, exit 2
            print(f"gearshift: {session.sandbox.describe()}", file=sys.stderr)
            return 2
        for task in tasks:
            session.add(task)
        for task in tasks:
            record = await session.run(task.id)
            if record.status == "awaiting_review":
                if auto_approve:
                    try:
                        session.apply(task.id)
                    except (ApplyConflict, PathRefused, OSError) as exc:  # nothing was written
                        session.fail(task.id, f"could not apply: {exc}")
                else:
                    session.accept(task.id)
        summary = session.summary()
        if sarif is not None:
            _write_sarif(config, session, sarif)
        emit(
            ev.SessionFinished(
                total_cost_usd=summary["total_cost_usd"],
                all_escalation_cost_usd=summary["all_escalation_cost_usd"],
                naive_cost_usd=summary["baselines"]["naive_usd"],
            )
        )  # type: ignore[arg-type]
        if as_json:
            sink.write(json.dumps(summary, default=str) + "\n")
        else:
            sink.write(baseline_line(summary, config.escalation_model.label) + "\n")
        sink.flush()
        return 0 if all(r.status == "approved" for r in session.records.values()) else 1
    finally:
        session.close()
        ledger.close()
        await gateway.aclose()


def _write_sarif(config: Config, session: Session, path: Path) -> None:
    """Every review finding of the run, one log (written even when there are none: CI uploads it)."""
    from gearshift.review.sarif import sarif_log, write_sarif

    reviews = [
        (r.task.id, r.review["model"] if r.review else "", r.review_findings)
        for r in session.records.values()
        if r.task.is_review and r.review_findings
    ]
    write_sarif(path, sarif_log(config.root, reviews))
