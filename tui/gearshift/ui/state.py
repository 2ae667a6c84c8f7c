"""The app's picture of the session, built only from the engine's events.

The panes never ask the engine what is going on: they read this model, and this model learns
everything from the same typed events the headless runner prints. That keeps the two consumers
telling one story, and keeps this file free of Textual so it can be unit-tested on plain event
lists. Everything here is bounded (output per task, lines per validation run, number of runs,
spend samples) because the app may stay open for hours and the full history lives in the ledger.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from gearshift import events as ev
from gearshift.ui.format import money
from gearshift.ui.stream import Output, Segment, coalesce
from gearshift.vocab import FINAL_STATUSES, STATUS_LOOKS, ForcedModel, StatusLook

__all__ = ["Output", "Segment", "coalesce", "UIState", "TaskView", "RunView", "CheckView", "Changes", "finding_text"]

MAX_RUN_LINES = 400
MAX_RUNS = 60
MAX_SPEND_SAMPLES = 120
MAX_EVENT_LOG = 20_000

ACTIVE = {"running", "validating", "awaiting_escalation"}


@dataclass
class CheckView:
    name: str
    kind: str
    passed: bool
    findings: list[dict[str, Any]]
    duration_ms: float
    timed_out: bool = False
    error: str = ""
    after_syntax: bool = False  # a test run that failed only because the code does not compile

    @property
    def badge(self) -> str:
        """pass | fail-syntax | fail-logic | fail (syntax: collection error) | timeout | error."""
        if self.error:
            return "error"
        if self.timed_out:
            return "timeout"
        if self.passed:
            return "pass"
        if self.after_syntax:
            return SYNTAX_CONSEQUENCE
        return f"fail-{self.kind}"

    @property
    def did_not_run(self) -> bool:
        """A failed test runner whose every finding says the tests could not even be collected
        (pytest's ERROR entries, a suite that failed to load, a bare exit status)."""
        return (
            self.kind == "logic"
            and not self.passed
            and bool(self.findings)
            and all(_not_collected(f) for f in self.findings)
        )


SYNTAX_CONSEQUENCE = "fail (syntax: collection error)"


def _not_collected(f: dict[str, Any]) -> bool:
    """A finding about a test module, not a test: pytest names a collection error by its module
    (a test by `module::test`), vitest a suite that failed to load by its file, with no line."""
    code = str(f.get("code") or "")
    module_level = code.endswith(".py") and "::" not in code
    suite_level = bool(code) and code == f.get("file") and f.get("line") is None
    return code.startswith("exit-") or module_level or suite_level


@dataclass
class RunView:
    """One validation run (a task's attempt, a baseline, or a watcher run) as the log shows it."""

    run_id: str
    task_id: str | None
    reason: str
    checks: list[str]
    lines: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_RUN_LINES))
    results: dict[str, CheckView] = field(default_factory=dict)
    outcome: str | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def cancelled(self) -> bool:
        return self.outcome == "cancelled"

    @property
    def running(self) -> bool:
        return self.outcome is None


@dataclass
class TaskView:
    id: str
    prompt: str
    scope: str
    output: Output
    tags: dict[str, str] = field(default_factory=dict)
    status: str = "queued"
    detail: str = ""
    model: str | None = None
    route: list[str] = field(default_factory=list)
    cost: float = 0.0
    calls: int = 0
    routed: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    proposal: dict[str, Any] | None = None  # EscalationProposed fields + "decision", "by"
    change_files: list[str] = field(default_factory=list)
    applied_files: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    validation: str | None = None
    alerted: bool = False
    blocked: dict[str, Any] | None = None
    error: str = ""
    forced: ForcedModel | None = None  # the model the user forced for its next run (model_forced)
    signoff: str | None = None  # the model that reviewed the change (the queue marks it ✓)
    kind: str = "edit"  # "review": the model only views files and records findings
    review_findings: list[dict[str, Any]] = field(default_factory=list)
    undone: bool = False  # its applied change was taken back (the engine's status stays approved)

    @property
    def shown_status(self) -> str:
        """The engine's status, except that an approved change the user undid reads "undone"."""
        return "undone" if self.undone and self.status == "approved" else self.status

    @property
    def look(self) -> StatusLook:
        """How the shown status reads (vocab.STATUS_LOOKS); an unknown one reads as itself."""
        shown = self.shown_status
        return STATUS_LOOKS.get(shown) or StatusLook(shown, shown, "foreground")

    @property
    def label(self) -> str:
        return self.look.label

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def awaiting_approval(self) -> bool:
        return self.proposal is not None and self.proposal.get("decision") is None


@dataclass
class Changes:
    """What one batch of events touched, so the app repaints only those panes."""

    queue: bool = False
    cost: bool = False
    header: bool = False
    tasks: set[str] = field(default_factory=set)
    text: set[str] = field(default_factory=set)  # tasks whose only news is streamed text
    runs: set[str] = field(default_factory=set)
    log_lines: list[tuple[str, str]] = field(default_factory=list)  # (run_id, line) in order

    def any(self) -> bool:
        return bool(self.queue or self.cost or self.header or self.tasks or self.text or self.runs or self.log_lines)


class UIState:
    """Everything the panes show, updated one event at a time by `apply`."""

    # Events `apply` leaves alone (tests/engine/test_event_consumers.py holds every event to a
    # decision): a call's worst-case forecast (the meters move on what was spent), and the
    # session's totals (the last CostUpdated already carried them).
    IGNORES: ClassVar[frozenset[type[ev.Event]]] = frozenset({ev.CallStarted, ev.SessionFinished})

    def __init__(self, *, show_timings: bool = True, label: Callable[[str], str] | None = None) -> None:
        self.show_timings = show_timings
        self.label: Callable[[str], str] = label or (lambda model_id: model_id)
        self.project = ""
        self.mode = ""
        self.scripted = False
        self.sandbox = ""  # session_started: "bubblewrap" | "off" | "unavailable"
        self.sandbox_note = ""
        self.tasks: dict[str, TaskView] = {}
        self.runs: OrderedDict[str, RunView] = OrderedDict()
        self.session_cost = 0.0
        self.escalation_equiv = 0.0  # baseline: the same calls at the escalation model's prices
        self.naive = 0.0  # baseline: naive escalation model (no pruning, no cache; pipeline/metering.py)
        self.by_model: dict[str, float] = {}
        self.cache_read_tokens = 0
        self.cache_write_tokens = 0
        self.spend: deque[float] = deque(maxlen=MAX_SPEND_SAMPLES)
        self.budget_blocked = False
        self.applied: list[str] = []  # undo stack of task ids, most recent last
        self.notes: list[tuple[str, str]] = []  # (severity, message) for toasts, drained by the app
        self.events: deque[ev.Event] = deque(maxlen=MAX_EVENT_LOG)
        self._seqs = itertools.count(1)
        self._changes = Changes()

    # -- reading ------------------------------------------------------------------------------

    @property
    def savings(self) -> float:
        """Against the same calls at the escalation model's prices."""
        return self.escalation_equiv - self.session_cost

    @property
    def savings_vs_naive(self) -> float:
        """Against the naive escalation-model pipeline."""
        return self.naive - self.session_cost

    def pending_approvals(self) -> list[str]:
        return [t.id for t in self.tasks.values() if t.awaiting_approval]

    def runs_for(self, task_id: str | None) -> list[RunView]:
        """The runs the validation pane shows with `task_id` selected: its own and the watcher's."""
        return [r for r in self.runs.values() if r.task_id is None or r.task_id == task_id]

    def newest_run(self, task_id: str | None) -> RunView | None:
        """What the validation pane's summary shows: the newest of the task's runs and the
        watcher's — after a save in the user's editor, the watcher's run is the news."""
        shown = [r for r in self.runs_for(task_id) if r.task_id is None or r.reason != "baseline"]
        return shown[-1] if shown else None

    def latest_run(self, task_id: str | None) -> RunView | None:
        """The task's own latest run (what its staged change was validated by), else the
        watcher's: the review screen shows this one."""
        own = [r for r in self.runs.values() if r.task_id == task_id and r.reason != "baseline"]
        if task_id is not None and own:
            return own[-1]
        watch = [r for r in self.runs.values() if r.task_id is None]
        return watch[-1] if watch else (own[-1] if own else None)

    def take_changes(self) -> Changes:
        changes, self._changes = self._changes, Changes()
        return changes

    def note(self, severity: str, message: str) -> None:
        self.notes.append((severity, message))

    def take_notes(self) -> list[tuple[str, str]]:
        notes, self.notes = self.notes, []
        return notes

    # -- writing ------------------------------------------------------------------------------

    def task(self, task_id: str) -> TaskView:
        view = self.tasks.get(task_id)
        if view is None:  # an event for a task we never saw queued: show it anyway
            view = self.tasks[task_id] = TaskView(task_id, "", "", Output(self._seqs))
            self._changes.queue = True
        return view

    def _touch(self, task_id: str, queue: bool = False) -> TaskView:
        self._changes.tasks.add(task_id)
        if queue:
            self._changes.queue = True
        return self.task(task_id)

    def apply_all(self, events: Iterable[ev.Event]) -> None:
        for event in events:
            self.apply(event)

    def apply(self, e: ev.Event) -> None:  # noqa: C901 — one flat dispatch reads best here
        if not isinstance(e, ev.TextDelta):  # text is kept once, bounded, in the task's Output
            self.events.append(e)
        match e:
            case ev.SessionStarted():
                self.project, self.mode, self.scripted = e.project, e.mode, e.scripted
                self.sandbox, self.sandbox_note = e.sandbox, e.sandbox_note
                self._changes.header = True
            case ev.TaskQueued():
                old = self.tasks.get(e.task_id)
                view = TaskView(e.task_id, e.prompt, e.scope, Output(self._seqs), tags=dict(e.tags), kind=e.kind)
                if old is not None:
                    view.forced = old.forced
                self.tasks[e.task_id] = view
                self._touch(e.task_id, queue=True)
            case ev.TaskStatus():
                t = self._touch(e.task_id, queue=True)
                if t.status in FINAL_STATUSES and e.status == "running":
                    self._restart(t)
                t.status, t.detail = e.status, e.detail
            case ev.ModelForced():
                self._touch(e.task_id, queue=True).forced = e.which
            case ev.ContextSelected():
                self._touch(e.task_id).context = dataclasses.asdict(e)
            case ev.TaskRouted():
                t = self._touch(e.task_id, queue=True)
                t.routed = dataclasses.asdict(e)
            case ev.AttemptStarted():
                t = self._touch(e.task_id, queue=True)
                if e.kind == "signoff":  # the reviewer did not write the change: shown apart
                    t.signoff = e.model
                else:
                    t.model = e.model
                t.route.append(e.model)
                t.output.add("attempt", f"attempt {e.attempt} · {e.kind} · {e.model} · from {e.starts_from}", title=e.model)
            case ev.TextDelta():  # only the output pane repaints for text, not the queue or meters
                self._changes.text.add(e.task_id)
                self.task(e.task_id).output.add_text(e.text)
            case ev.ToolCall():
                mark = "✓" if e.ok else "✗"
                tail = "" if e.ok or not e.summary else f" — {e.summary}"
                self._touch(e.task_id).output.add("tool", f"{mark} {e.command} {e.path}{tail}", ok=e.ok)
            case ev.EditStaged():
                self._touch(e.task_id).output.add("diff", e.diff, title=f"{e.command} {e.path}")
            case ev.CallFinished():
                self._touch(e.task_id).calls += 1
            case ev.CallFailed():
                t = self._touch(e.task_id)
                t.calls += 1
                t.output.add("error", f"call {e.attempt}.{e.turn} on {self.label(e.model)} failed ({e.fault}): {e.message}", ok=False)
            case ev.CostUpdated():
                t = self._touch(e.task_id, queue=True)
                t.cost = e.task_cost_usd
                self.spend.append(max(0.0, e.session_cost_usd - self.session_cost))
                self.session_cost = e.session_cost_usd
                self.by_model = dict(e.by_model)
                self.cache_read_tokens, self.cache_write_tokens = e.cache_read_tokens, e.cache_write_tokens
                self.escalation_equiv = e.escalation_equivalent_usd
                self.naive = e.naive_usd
                self._changes.cost = True
            case ev.BudgetAlert():
                self._touch(e.task_id).alerted = True
                self._changes.cost = True
                self.note("warning", f"{e.task_id}: cost {money(e.task_cost_usd)} passed the per-task alert of {money(e.threshold_usd)}")
            case ev.BudgetBlocked():
                t = self._touch(e.task_id, queue=True)
                t.blocked = dataclasses.asdict(e)
                self.budget_blocked = True
                self._changes.cost = True
                which = "today's budget" if e.budget == "daily" else "session budget"
                message = (
                    f"{which} {money(e.cap_usd)} blocks the next call of {e.task_id}: spent {money(e.spent_usd)}"
                    f" + worst case {money(e.worst_case_usd)}"
                )
                t.output.add("error", message, ok=False)
                self.note("error", message)
            case ev.ChangeReady():
                t = self._touch(e.task_id, queue=True)
                t.change_files = list(e.files)
                files = ", ".join(e.files) or "no files"
                t.output.add("notice", f"change ready for review ({files}) — press v to review it")
                self.note("information", f"{e.task_id}: change ready for review")
            case ev.ChangeApplied():
                t = self._touch(e.task_id, queue=True)
                t.applied_files = list(e.files)
                t.undone = False
                if e.task_id in self.applied:
                    self.applied.remove(e.task_id)
                self.applied.append(e.task_id)
                how = "partly applied" if e.partial else "applied"
                t.output.add("notice", f"change {how}: {', '.join(e.files) or 'no files'}")
            case ev.ChangeUndone():
                t = self._touch(e.task_id, queue=True)
                if e.task_id in self.applied:
                    self.applied.remove(e.task_id)
                t.applied_files = []
                t.undone = True
                t.output.add("notice", f"change undone: {', '.join(e.files) or 'no files'}")
            case ev.EscalationProposed():
                t = self._touch(e.task_id, queue=True)
                t.proposal = {**dataclasses.asdict(e), "decision": None, "by": None}
                t.output.add(
                    "notice",
                    f"escalation proposed {self.label(e.from_model)} → {self.label(e.to_model)} "
                    f"(~{money(e.estimated_cost_usd)}): {e.failure_signature} — press y to approve, n to decline",
                )
                self.note("warning", f"{e.task_id}: escalation to {self.label(e.to_model)} awaits your approval (y / n)")
            case ev.EscalationDecided():
                t = self._touch(e.task_id, queue=True)
                if t.proposal is not None:
                    t.proposal["decision"] = "approved" if e.approved else "declined"
                    t.proposal["by"] = e.by
            case ev.ReviewFinished():
                t = self._touch(e.task_id, queue=True)
                t.review_findings = list(e.findings)
                counts = ", ".join(
                    f"{n} {sev}{'s' if n != 1 else ''}"
                    for sev in ("error", "warning", "note")
                    if (n := sum(f["severity"] == sev for f in e.findings))
                )
                head = f"review by {self.label(e.model)}: {counts or 'no findings'}"
                if e.dropped:
                    head += f" · {len(e.dropped)} dropped (lines that do not exist)"
                if e.rejected:
                    head += f" · {e.rejected} malformed"
                if not e.ok:
                    head += f" — {e.reason}"
                t.output.add("findings", head, ok=e.ok, data=list(e.findings))
            case ev.EscalationSettled():
                t = self._touch(e.task_id)
                if t.proposal is not None:
                    t.proposal["actual_cost_usd"] = e.actual_cost_usd
            case ev.SignoffFinished():
                verdict = "approved" if e.approved else "declined"
                self._touch(e.task_id).output.add("notice", f"sign-off by {self.label(e.model)}: {verdict} — {e.reason}", ok=e.approved)
            case ev.TaskFinished():
                t = self._touch(e.task_id, queue=True)
                t.status = e.status
                if not t.cost:  # else the meter's running total, retries included (they were paid)
                    t.cost = float(e.summary.get("cost_usd", 0.0))
                t.error = str(e.summary.get("error") or "")
                if t.proposal is not None and t.proposal.get("decision") is None:
                    # ended (cancelled, failed) while the proposal waited: nothing awaits approval
                    t.proposal["decision"] = "withdrawn"
                if t.error and e.status != "approved":  # "rejected in review", not "rejected: rejected …"
                    said = t.error if t.error.startswith(e.status.replace("_", " ")) else f"{e.status.replace('_', ' ')}: {t.error}"
                    t.output.add("error", said, ok=False)
            case ev.Notice():
                if e.task_id:
                    self._touch(e.task_id).output.add("error" if e.level == "error" else "notice", e.message, ok=e.level != "error")
                self.note({"info": "information"}.get(e.level, e.level), e.message)
            case ev.ValidationStarted():
                self._validation_started(e)
            case ev.ValidationLine():
                self._run_line(e.run_id, f"  {e.run_id} {e.check}│ {e.line}")  # runs can interleave
            case ev.CheckFinished():
                self._check_finished(e)
            case ev.ValidationFinished():
                self._validation_finished(e)
            case ev.FindingsCompared():
                run = self.runs.get(e.run_id)
                if run is not None:
                    run.findings = list(e.findings)
                    if e.preexisting:
                        self._run_line(
                            e.run_id,
                            f"  ↺ {e.preexisting} of {len(e.findings)} findings were already there before the task (pre-existing)",
                        )

    def _restart(self, t: TaskView) -> None:
        """A retry starts the task's story over (its cost stays: it was paid)."""
        t.proposal = None
        t.change_files, t.error, t.validation, t.blocked, t.routed, t.route = [], "", None, None, None, []
        t.signoff = None
        t.review_findings = []
        t.undone = False
        t.output.add("notice", "— retry —")

    # -- validation runs ------------------------------------------------------------------------

    def _validation_started(self, e: ev.ValidationStarted) -> None:
        run = RunView(e.run_id, e.task_id, e.reason, list(e.checks))
        self.runs[e.run_id] = run
        while len(self.runs) > MAX_RUNS:
            self.runs.popitem(last=False)
        if e.task_id is not None:
            t = self._touch(e.task_id)
            t.runs.append(e.run_id)
        owner = f" · {e.task_id}" if e.task_id else ""
        self._run_line(e.run_id, f"▶ {e.run_id} {e.reason}{owner}: {', '.join(e.checks)}")

    def _run_line(self, run_id: str, line: str) -> None:
        run = self.runs.get(run_id)
        if run is None:
            return
        run.lines.append(line)
        self._changes.log_lines.append((run_id, line))
        self._changes.runs.add(run_id)

    def _check_finished(self, e: ev.CheckFinished) -> None:
        run = self.runs.get(e.run_id)
        if run is None:
            return
        check = CheckView(e.check, e.kind, e.passed, list(e.findings), e.duration_ms, e.timed_out, e.error)
        check.after_syntax = check.did_not_run and _syntax_failed(run)
        run.results[e.check] = check
        timing = f" ({e.duration_ms:.0f} ms)" if self.show_timings else ""
        mark = "✓" if check.badge == "pass" else "✗"
        extra = f" — {e.error}" if e.error else ""
        # Tests that could not be collected are not called a logic failure before the syntax
        # checks have spoken (they may say it is their consequence).
        said = "fail (tests not collected)" if check.did_not_run and not check.after_syntax else check.badge
        self._run_line(e.run_id, f"  {mark} {e.check}: {said}{timing}{extra}")
        for f in e.findings[:20]:
            self._run_line(e.run_id, "    " + finding_text(f))
        if len(e.findings) > 20:
            self._run_line(e.run_id, f"    … {len(e.findings) - 20} more")

    def _validation_finished(self, e: ev.ValidationFinished) -> None:
        run = self.runs.get(e.run_id)
        if run is None:
            return
        run.outcome, run.findings = e.outcome, list(e.findings)
        for check in run.results.values():  # the syntax check may have finished after the tests
            if check.did_not_run and not check.after_syntax and _syntax_failed(run):
                check.after_syntax = True
                self._run_line(e.run_id, f"  ✗ {check.name}: {check.badge} — the code it tests does not compile")
        if e.task_id is not None and e.reason == "attempt":
            t = self._touch(e.task_id, queue=True)
            t.validation = e.outcome
        if e.outcome == "cancelled":
            self._run_line(e.run_id, f"⊘ {e.run_id} CANCELLED — stale, a newer change superseded it")
        elif e.reason == "baseline":  # not the task's result: the project as the task found it
            self._run_line(e.run_id, f"■ {e.run_id} baseline {e.outcome} (the project before the task)")
        else:
            self._run_line(e.run_id, f"■ {e.run_id} {e.outcome}")


def _syntax_failed(run: RunView) -> bool:
    return any(c.kind == "syntax" and not c.passed and not c.error and not c.timed_out for c in run.results.values())


def finding_text(f: dict[str, Any]) -> str:
    """file:line code message, as the log and the review screen print a finding."""
    where = f.get("file") or ""
    if where and f.get("line"):
        where += f":{f['line']}"
    parts = [where, f.get("code") or "", f.get("message") or ""]
    old = " (pre-existing)" if f.get("preexisting") else ""
    return " ".join(p for p in parts if p) + old
