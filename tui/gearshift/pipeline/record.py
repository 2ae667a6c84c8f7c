"""What the session knows about one task, and the summary every consumer reports from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gearshift.edits.workspace import FileChange
from gearshift.models.pricing import Usage
from gearshift.pipeline.metering import CostMeter, TaskCost
from gearshift.review.findings import ReviewFinding
from gearshift.routing.policy import RouteDecision
from gearshift.routing.score import Complexity
from gearshift.tasks import Task
from gearshift.vocab import FINAL_STATUSES, TASK_STATUSES, FinalStatus, TaskStatus

# Where a task can be (vocab.TaskStatus); the last five are final.
STATUSES = TASK_STATUSES
FINAL = FINAL_STATUSES


class TaskFailed(Exception):
    """A task's run ends here with `status` (journey and review raise it; the session records it)."""

    def __init__(self, status: FinalStatus, message: str) -> None:
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class TaskInfo:
    """What a consumer may read of one task, as it is at the moment it asks: a copy, so the
    session's records stay its own (Session.info / Session.queue)."""

    task: Task
    status: TaskStatus
    applied: bool = False  # its change is written into the project
    undone: bool = False  # its applied change was taken back

    @property
    def final(self) -> bool:
        return self.status in FINAL


@dataclass
class TaskRecord:
    task: Task
    status: TaskStatus = "queued"
    route: list[str] = field(default_factory=list)
    attempts: int = 0
    calls: int = 0
    validation: str | None = None
    complexity: Complexity | None = None
    decision: RouteDecision | None = None
    changes: list[FileChange] = field(default_factory=list)
    applied: bool = False
    # Applied and then taken back by the user: its change is in neither the project nor the overlay.
    undone: bool = False
    applied_files: list[str] = field(default_factory=list)
    error: str = ""
    context: dict[str, Any] = field(default_factory=dict)
    escalation: dict[str, Any] | None = None
    signoff: dict[str, Any] | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)
    # Under [routing.experiment]: the A/B arm ("a" or "b") that chose the threshold, else None.
    arm: str | None = None
    # One entry per attempt: model, kind, outcome (a validation outcome, "answered", "failed",
    # "approved"/"rejected" for a sign-off), its calls' cost and tokens — what `tune` prices.
    attempt_log: list[dict[str, Any]] = field(default_factory=list)
    # A review task's final attempt: its accepted findings, the model that made them, and what
    # the gate dropped or rejected (None for edit tasks).
    review_findings: list[ReviewFinding] = field(default_factory=list)
    review: dict[str, Any] | None = None
    # The meter's totals for this task when this run began: a retry's summary counts its own run
    # (its route, calls and attempts start over, so its cost and tokens must too).
    meter_base: TaskCost = field(default_factory=TaskCost)

    @property
    def final(self) -> bool:
        return self.status in FINAL

    def info(self) -> TaskInfo:
        return TaskInfo(self.task, self.status, self.applied, self.undone)

    def start_attempt(self, model: str, kind: str) -> None:
        self.attempt_log.append(
            {"attempt": self.attempts, "model": model, "kind": kind, "outcome": None, "cost_usd": 0.0,
             "input": 0, "output": 0, "cache_write": 0, "cache_read": 0}
        )

    def book_call(self, attempt: int, usage: Usage, spent: float) -> None:
        """Add one call's cost and tokens to its attempt's entry."""
        for entry in reversed(self.attempt_log):
            if entry["attempt"] == attempt:
                entry["cost_usd"] = round(entry["cost_usd"] + spent, 8)
                entry["input"] += usage.input
                entry["output"] += usage.output
                entry["cache_write"] += usage.cache_write
                entry["cache_read"] += usage.cache_read
                return

    def attempt_outcome(self, outcome: str) -> None:
        if self.attempt_log and self.attempt_log[-1]["outcome"] is None:
            self.attempt_log[-1]["outcome"] = outcome

    def summary(self, meter: CostMeter) -> dict[str, Any]:
        cost = meter.tasks[self.task.id].since(self.meter_base)
        usage = cost.usage
        return {
            "id": self.task.id,
            "status": self.status,
            "scope": self.task.scope,
            "kind": self.task.kind,
            "complexity": self.complexity.to_dict() if self.complexity else None,
            "rule": self.decision.rule if self.decision else None,
            "threshold": self.decision.threshold if self.decision else None,
            "arm": self.arm,
            "route": list(self.route),
            "calls": self.calls,
            "attempts": self.attempts,
            "validation": self.validation,
            "findings": list(self.findings),
            "cost_usd": float(round(cost.cost, 8)),
            "tokens": {
                "input": usage.input,
                "output": usage.output,
                "cache_write": usage.cache_write,
                "cache_read": usage.cache_read,
            },
            "baselines": {
                "same_calls_usd": float(round(cost.escalation_equiv, 8)),
                "naive_usd": float(round(cost.naive, 8)),
            },
            "attempt_log": [dict(a) for a in self.attempt_log],
            "latency_ms": round(cost.latency_ms, 1),
            "cost_alert": cost.alerted,
            "files": sorted(c.path for c in self.changes),
            "applied": self.applied,
            "undone": self.undone,
            "escalation": self.escalation,
            "signoff": self.signoff,
            "review": self.review,
            "context": self.context,
            "tags": dict(self.task.tags),
            "error": self.error,
        }
