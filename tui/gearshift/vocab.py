"""The closed sets of values the engine, the events and both consumers share, each named once.

A status, a validation outcome or a routing rule travels as a plain string (events are JSON),
but only a few strings are meaningful. Each set is a `Literal` alias here, so event fields and
engine signatures say which strings they take, a type checker catches a misspelling, and a
test can compare the set with what the code emits (tests/engine/test_vocab.py). The task
status also carries how the UI shows it — label, short form, colour variable — in one table,
so adding a status is one row, not five edits.

This module imports nothing from gearshift: it is the lowest floor (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

# --- a task's life ---------------------------------------------------------------------------

TaskStatus = Literal[
    "queued",
    "running",
    "validating",
    "awaiting_escalation",
    "awaiting_review",
    "approved",
    "rejected",
    "failed",
    "over_budget",
    "cancelled",
]
FinalStatus = Literal["approved", "rejected", "failed", "over_budget", "cancelled"]
# What a queue shows: the engine's status, except that an approved change the user took back
# reads "undone" (the engine keeps "approved" and an `undone` flag: the task did finish).
ShownStatus = TaskStatus | Literal["undone"]


@dataclass(frozen=True)
class StatusLook:
    """How a status reads on screen: its label, a short form for narrow queues, its colour."""

    label: str
    short: str
    variable: str  # a theme variable; "foreground" when the status has no colour of its own


STATUS_LOOKS: dict[str, StatusLook] = {
    "queued": StatusLook("queued", "queued", "foreground"),
    "running": StatusLook("running", "running", "primary"),
    "validating": StatusLook("validating", "validating", "secondary"),
    "awaiting_escalation": StatusLook("awaiting approval", "⚑ approve?", "warning"),
    "awaiting_review": StatusLook("awaiting review", "⚑ review", "accent"),
    "approved": StatusLook("approved", "approved", "outcome-pass"),
    "rejected": StatusLook("rejected", "rejected", "outcome-fail"),
    "failed": StatusLook("failed", "failed", "outcome-fail"),
    "over_budget": StatusLook("over budget", "over budget", "cost-warning"),
    "cancelled": StatusLook("cancelled", "cancelled", "text-muted"),
    "undone": StatusLook("undone", "undone", "text-muted"),
}

TASK_STATUSES: tuple[TaskStatus, ...] = get_args(TaskStatus)
FINAL_STATUSES: frozenset[FinalStatus] = frozenset(get_args(FinalStatus))

# --- the session, routing, attempts ------------------------------------------------------------

SessionMode = Literal["live", "replay", "record"]
# How checks run (session_started's `sandbox`): sandboxed, `validation.sandbox = "off"`, or no
# sandbox could start; empty in events from before the sandbox existed.
SandboxLabel = Literal["bubblewrap", "off", "unavailable", ""]
RouteRule = Literal[
    "forced-default",
    "forced-escalation",
    "always-escalate",
    "threshold",
    "below-threshold",
    "latency-fallback",
    "batch-review",
]
# A model the user forced for a task's next run (Task.force; the routing rules "forced-…").
ForcedModel = Literal["default", "escalation"]
AttemptKind = Literal["initial", "correction", "escalation", "signoff"]
# What an attempt edits on top of: the project, the previous attempt's staged files, or neither.
StartsFrom = Literal["project", "staged", "clean"]
# How a model call ended when it produced no finished answer (models/call.py's CallFault).
FaultKind = Literal[
    "api_error",
    "stream_error",
    "connection_cut",
    "truncated",
    "connection",
    "auth",
    "replay_missing",
    "replay_mismatch",
    "cancelled",  # stopped by the user mid-stream: only ever booked, never returned as an outcome
]

# --- validation ----------------------------------------------------------------------------------

ValidationOutcome = Literal["pass", "fail-syntax", "fail-logic", "cancelled"]
# Why a validation run happened: a task's attempt, the project as the task found it, the project
# watcher, or the part of a change the user selected in review.
ValidationReason = Literal["attempt", "baseline", "watch", "selection"]
CheckKind = Literal["syntax", "logic"]

# `validation.sandbox`: sandbox checks where possible (saying so where not), always, or never.
SandboxMode = Literal["auto", "required", "off"]

# --- configuration -------------------------------------------------------------------------------

# `context.pruning_strategy`: select context along the import graph, or send the named files only.
PruningStrategy = Literal["dependency_graph", "none"]
# `session.cache_ttl`: the prompt cache's lifetime, one of the API's two.
CacheTtl = Literal["5m", "1h"]
# Where a model sits in the catalogue (`[models.NAME] tier`): each tier has its theme colour.
ModelTier = Literal["default", "escalation", "fast"]
# The declared scope of a task (tasks.toml `scope`, routing's `*_scopes` lists).
Scope = Literal["single-file", "multi-module", "architecture", "security"]
# A model's `effort` (the API's output effort setting).
Effort = Literal["low", "medium", "high", "xhigh", "max"]

# --- escalation ----------------------------------------------------------------------------------

# `validation.escalation_on`: escalate a logic failure to the escalation model, or never.
EscalationOn = Literal["fail-logic", "never"]
# After a validated attempt: keep it, ask the same model to correct it, escalate, or give up
# (routing/policy.py's `after_validation`).
NextStep = Literal["accept", "correct", "escalate", "stop"]
EscalationDecider = Literal["user", "auto", "policy"]

NoticeLevel = Literal["info", "warning", "error"]
