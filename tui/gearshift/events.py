"""The typed event stream: everything the engine does, told once, read by every consumer.

The headless runner prints these as JSON lines; the TUI turns them into pane updates. Neither
reaches into the engine's state, so both always tell the same story. Events are plain frozen
dataclasses holding JSON-friendly values (str, int, float, bool, lists and dicts of those) so
`to_dict` is lossless and a recorded stream can be replayed into the UI.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from gearshift import vocab as v


@dataclass(frozen=True, kw_only=True)
class Event:
    type: ClassVar[str] = "event"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **dataclasses.asdict(self)}


EventSink = Callable[[Event], None]

_REGISTRY: dict[str, type[Event]] = {}


def _event(name: str) -> Callable[[type[Event]], type[Event]]:
    def register(cls: type[Event]) -> type[Event]:
        cls.type = name
        _REGISTRY[name] = cls
        return cls

    return register


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from `to_dict` output (used to replay an event log into the UI)."""
    data = dict(data)
    cls = _REGISTRY[data.pop("type")]
    return cls(**data)


# --- session -----------------------------------------------------------------------------------


@_event("session_started")
@dataclass(frozen=True, kw_only=True)
class SessionStarted(Event):
    project: str
    mode: v.SessionMode
    scripted: bool = False  # replaying hand-written demo recordings, not real model output
    config_source: str = ""
    # How checks run: "bubblewrap" (sandboxed), "off" (validation.sandbox = off) or
    # "unavailable" (no sandbox could start: auto fell back, required refuses); note says why.
    sandbox: v.SandboxLabel = ""
    sandbox_note: str = ""


@_event("session_finished")
@dataclass(frozen=True, kw_only=True)
class SessionFinished(Event):
    total_cost_usd: float
    all_escalation_cost_usd: float  # baseline "same calls at the escalation model's prices"
    naive_cost_usd: float = 0.0  # baseline "naive escalation model" (see pipeline/metering.py)


# --- task lifecycle ----------------------------------------------------------------------------


@_event("task_queued")
@dataclass(frozen=True, kw_only=True)
class TaskQueued(Event):
    task_id: str
    prompt: str
    scope: str
    interactive: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    kind: str = "edit"  # "edit" | "review"


@_event("context_selected")
@dataclass(frozen=True, kw_only=True)
class ContextSelected(Event):
    task_id: str
    files: list[dict[str, Any]]  # {"path", "reason", "tokens", "mode"}
    pruned: list[dict[str, Any]]  # {"path", "reason"}
    tokens_sent: int
    tokens_naive: int
    fanout: int = 0


@_event("task_routed")
@dataclass(frozen=True, kw_only=True)
class TaskRouted(Event):
    task_id: str
    model: str
    score: float
    threshold: float
    rule: v.RouteRule
    explanation: str
    signals: list[dict[str, Any]]  # {"name", "weight", "detail"}
    estimated_cost_usd: float = 0.0
    arm: str | None = None  # the A/B arm under [routing.experiment] ("a" or "b"), else None


@_event("model_forced")
@dataclass(frozen=True, kw_only=True)
class ModelForced(Event):
    """The user forced the default or escalation model for the task's next run ("escalation"
    also pre-approves its escalation); `which` None lifts it. `model` is the model id it names."""

    task_id: str
    which: v.ForcedModel | None
    model: str = ""


@_event("attempt_started")
@dataclass(frozen=True, kw_only=True)
class AttemptStarted(Event):
    task_id: str
    attempt: int
    model: str
    kind: v.AttemptKind
    starts_from: v.StartsFrom = "project"


@_event("task_status")
@dataclass(frozen=True, kw_only=True)
class TaskStatus(Event):
    """A task moved to another status (vocab.TaskStatus); the queue shows it."""

    task_id: str
    status: v.TaskStatus
    detail: str = ""


@_event("task_finished")
@dataclass(frozen=True, kw_only=True)
class TaskFinished(Event):
    task_id: str
    status: v.FinalStatus
    summary: dict[str, Any]


# --- model calls -------------------------------------------------------------------------------


@_event("call_started")
@dataclass(frozen=True, kw_only=True)
class CallStarted(Event):
    task_id: str
    attempt: int
    turn: int
    model: str
    estimated_input_tokens: int
    worst_case_usd: float


@_event("text_delta")
@dataclass(frozen=True, kw_only=True)
class TextDelta(Event):
    task_id: str
    attempt: int
    text: str


@_event("tool_call")
@dataclass(frozen=True, kw_only=True)
class ToolCall(Event):
    task_id: str
    attempt: int
    command: str
    path: str
    ok: bool
    summary: str


@_event("call_finished")
@dataclass(frozen=True, kw_only=True)
class CallFinished(Event):
    task_id: str
    attempt: int
    turn: int
    model: str
    stop_reason: str | None
    input_tokens: int
    output_tokens: int
    cache_write_5m_tokens: int
    cache_write_1h_tokens: int
    cache_read_tokens: int
    cost_usd: float
    ttft_ms: float | None
    latency_ms: float
    request_id: str | None = None


@_event("call_failed")
@dataclass(frozen=True, kw_only=True)
class CallFailed(Event):
    task_id: str
    attempt: int
    turn: int
    model: str
    fault: v.FaultKind
    message: str
    cost_usd: float = 0.0


@_event("cost_updated")
@dataclass(frozen=True, kw_only=True)
class CostUpdated(Event):
    task_id: str
    task_cost_usd: float
    session_cost_usd: float
    by_model: dict[str, float]
    cache_read_tokens: int
    cache_write_tokens: int
    escalation_equivalent_usd: float  # the same calls priced at the escalation model
    naive_usd: float = 0.0  # the naive baseline: escalation model, naive context, no cache (metering.py)


@_event("budget_alert")
@dataclass(frozen=True, kw_only=True)
class BudgetAlert(Event):
    task_id: str
    task_cost_usd: float
    threshold_usd: float


@_event("budget_blocked")
@dataclass(frozen=True, kw_only=True)
class BudgetBlocked(Event):
    task_id: str
    spent_usd: float
    worst_case_usd: float
    cap_usd: float
    budget: str = "session"  # or "daily": cost_tracking.daily_budget_usd, summed from the ledger


# --- edits ---------------------------------------------------------------------------------------


@_event("edit_staged")
@dataclass(frozen=True, kw_only=True)
class EditStaged(Event):
    task_id: str
    attempt: int
    path: str
    command: str
    diff: str


@_event("change_ready")
@dataclass(frozen=True, kw_only=True)
class ChangeReady(Event):
    """A validated change waits for the user's review (or is applied by --auto-approve)."""

    task_id: str
    files: list[str]
    diff: str


@_event("change_applied")
@dataclass(frozen=True, kw_only=True)
class ChangeApplied(Event):
    task_id: str
    files: list[str]
    partial: bool = False


@_event("change_undone")
@dataclass(frozen=True, kw_only=True)
class ChangeUndone(Event):
    task_id: str
    files: list[str]


# --- validation --------------------------------------------------------------------------------


@_event("validation_started")
@dataclass(frozen=True, kw_only=True)
class ValidationStarted(Event):
    run_id: str
    task_id: str | None  # None for watcher-triggered runs on the project itself
    checks: list[str]
    reason: v.ValidationReason = "attempt"


@_event("validation_line")
@dataclass(frozen=True, kw_only=True)
class ValidationLine(Event):
    run_id: str
    check: str
    line: str


@_event("check_finished")
@dataclass(frozen=True, kw_only=True)
class CheckFinished(Event):
    run_id: str
    check: str
    kind: v.CheckKind
    passed: bool
    findings: list[dict[str, Any]]
    duration_ms: float
    exit_code: int | None
    timed_out: bool = False
    error: str = ""


@_event("validation_finished")
@dataclass(frozen=True, kw_only=True)
class ValidationFinished(Event):
    run_id: str
    task_id: str | None
    outcome: v.ValidationOutcome
    findings: list[dict[str, Any]]
    reason: v.ValidationReason = "attempt"


@_event("findings_compared")
@dataclass(frozen=True, kw_only=True)
class FindingsCompared(Event):
    """A failed attempt's findings set against the project as the task found it: those flagged
    `preexisting` were already there (the gate still counts them: it judges the code as it is)."""

    run_id: str
    task_id: str
    findings: list[dict[str, Any]]
    preexisting: int


@_event("review_finished")
@dataclass(frozen=True, kw_only=True)
class ReviewFinished(Event):
    """A review attempt's findings after the gate: kept ones point at lines that exist; the
    dropped did not (with why), the rejected were malformed calls. `ok` false means the attempt
    failed (e.g. empty on a task that expects findings) and `reason` says why."""

    task_id: str
    attempt: int
    model: str
    findings: list[dict[str, Any]]
    dropped: list[dict[str, Any]]
    rejected: int
    ok: bool
    reason: str = ""


# --- escalation and sign-off ---------------------------------------------------------------------


@_event("escalation_proposed")
@dataclass(frozen=True, kw_only=True)
class EscalationProposed(Event):
    task_id: str
    from_model: str
    to_model: str
    reason: str
    failure_signature: str
    payload_tokens: int
    naive_tokens: int
    estimated_cost_usd: float
    starts_from: v.StartsFrom


@_event("escalation_decided")
@dataclass(frozen=True, kw_only=True)
class EscalationDecided(Event):
    task_id: str
    approved: bool
    by: v.EscalationDecider


@_event("escalation_settled")
@dataclass(frozen=True, kw_only=True)
class EscalationSettled(Event):
    """An approved escalation has run to its end: what it was forecast to cost and what it cost."""

    task_id: str
    to_model: str
    estimated_cost_usd: float
    actual_cost_usd: float
    turns: int


@_event("signoff_finished")
@dataclass(frozen=True, kw_only=True)
class SignoffFinished(Event):
    task_id: str
    model: str
    approved: bool
    reason: str


@_event("notice")
@dataclass(frozen=True, kw_only=True)
class Notice(Event):
    """Something a person should read (a missing recording, a missing node_modules …)."""

    level: v.NoticeLevel
    message: str
    task_id: str | None = None
