"""A session: the task queue and the few entry points both consumers call.

The TUI and the headless runner drive the engine only through this class — add a task, run it,
approve or decline an escalation, force a model, apply (whole or hunk by hunk), reject, undo,
cancel — and learn everything else from the events it emits.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from gearshift import events as ev
from gearshift import redact
from gearshift.config import Config, ModelSpec
from gearshift.context.graph import ImportGraph
from gearshift.context.select import Selection
from gearshift.edits.apply import AppliedChange, applied_tasks, apply_changes, undo
from gearshift.edits.cowstage import AnyStage, CowStage
from gearshift.edits.hunks import apply_hunks, unified_diff
from gearshift.edits.recovery import recover, sweep_project
from gearshift.edits.workspace import FileChange, atomic_write_text
from gearshift.ledger import Ledger
from gearshift.models.client import ModelGateway
from gearshift.models.pricing import usd
from gearshift.pipeline.journey import Journey
from gearshift.pipeline.metering import CostMeter
from gearshift.pipeline.offloop import off_loop
from gearshift.pipeline.record import TaskInfo, TaskRecord
from gearshift.pipeline.selecting import ProjectGraph, select_over_pending
from gearshift.pipeline.stages import StageMaker
from gearshift.tasks import Task
from gearshift.validation.checks import CheckSpec, resolve_checks
from gearshift.validation.findings import ValidationResult
from gearshift.validation.runner import run_validation
from gearshift.validation.sandbox import Confinement, SandboxStatus, choose
from gearshift.vocab import EscalationDecider, FinalStatus, ForcedModel, ValidationReason

# Decides a proposed escalation: returns (approved, who decided: "user" | "auto" | "policy").
EscalationApprover = Callable[[ev.EscalationProposed], Awaitable[tuple[bool, EscalationDecider]]]


async def approve_always(_: ev.EscalationProposed) -> tuple[bool, EscalationDecider]:
    return True, "auto"


async def approve_never(_: ev.EscalationProposed) -> tuple[bool, EscalationDecider]:
    return False, "policy"


class Session:
    def __init__(
        self,
        config: Config,
        gateway: ModelGateway,
        *,
        emit: ev.EventSink,
        approver: EscalationApprover = approve_always,
        ledger: Ledger | None = None,
        batch: bool = False,
    ) -> None:
        self.config = config
        # A batch run (headless): nobody waits on an answer, so routing ignores latency and sends
        # reviews to routing.batch_review_model. The app is interactive.
        self.batch = batch
        self.root = config.root
        self.gateway = gateway
        self.emit = redact.sink(emit)  # every event of the engine passes here on its way out
        self.approver = approver
        self.ledger = ledger
        self.meter = CostMeter(config, spent_today=ledger.spent_today if ledger is not None else None)
        self.records: dict[str, TaskRecord] = {}
        self.baseline_cache: dict[tuple[str, ...], ValidationResult] = {}
        # Checks sandboxed (copy-on-write stages, outside the tree) or not (hard-linked stages,
        # which must share the project's filesystem). Probed once per process.
        self.sandbox: SandboxStatus = choose(config.validation.sandbox)
        self.stages = StageMaker(self.root, self.sandbox)
        self.journal_dir = self.root / ".gearshift" / "undo"
        self.context = ProjectGraph(self.root)
        self.run_ids = itertools.count(1)  # validation runs of this session: v1, v2, …
        self._running: dict[str, asyncio.Task[None]] = {}
        self._preapproved: set[str] = set()
        self._applied_generation = 0
        self._finished: dict[str, asyncio.Event] = {}
        self.closing = False  # the consumer is shutting down: no task starts any more

    def recover(self, *, sweep: bool = True) -> list[str]:
        """Finish or roll back an apply or undo a crash interrupted, and sweep temp files; every
        consumer calls this at start, before any task runs, and each line is told as a Notice.
        `sweep=False`: the consumer calls `sweep()` later (the app, after its first frame)."""
        return self._tell(recover(self.root, self.journal_dir, sweep=sweep))

    async def sweep(self) -> list[str]:
        """Remove stray `.gearshift-tmp` files from the project (a tree walk, in a thread)."""
        return self._tell(await asyncio.to_thread(sweep_project, self.root, self.journal_dir))

    def _tell(self, said: list[str]) -> list[str]:
        for line in said:
            self.emit(ev.Notice(level="warning", message=line))
        return said

    # -- queue ---------------------------------------------------------------------------------

    def add(self, task: Task) -> TaskRecord:
        if task.id in self.records and not self.records[task.id].final:
            raise ValueError(f"task {task.id!r} is already in the queue")
        record = TaskRecord(task)
        self.records[task.id] = record
        self.emit(
            ev.TaskQueued(
                task_id=task.id,
                prompt=task.prompt,
                scope=task.scope,
                interactive=task.interactive,
                tags=dict(task.tags),
                kind=task.kind,
            )
        )
        return record

    def force(self, task_id: str, which: ForcedModel | None) -> None:
        """Force the default or escalation model for the task's next run ("escalation" also
        pre-approves its escalation; None lifts it), and tell every consumer."""
        record = self.records[task_id]
        record.task = record.task.forced(which)
        if which == "escalation":
            self._preapproved.add(task_id)
        else:
            self._preapproved.discard(task_id)
        model = {"escalation": self.config.escalation_model, "default": self.config.default_model}.get(which or "")
        self.emit(ev.ModelForced(task_id=task_id, which=which, model=model.id if model else ""))

    # -- what a consumer may ask (it learns the rest from events) --------------------------------

    def info(self, task_id: str) -> TaskInfo | None:
        """The task as it is now (None for an id never queued): the consumer's own view may lag
        the events by a tick, and a key pressed in that tick must act on the truth."""
        record = self.records.get(task_id)
        return record.info() if record is not None else None

    def queue(self) -> list[TaskInfo]:
        """Every task, in the order it was first queued."""
        return [r.info() for r in self.records.values()]

    def undoable(self) -> list[str]:
        """The tasks whose applied change can be undone, oldest first (their journals on disk:
        a change applied in an earlier session too)."""
        return applied_tasks(self.journal_dir)

    def change(self, task_id: str) -> list[FileChange]:
        """The task's staged change, file by file, as it waits for review (a copy)."""
        return list(self._awaiting(task_id).changes)

    def _awaiting(self, task_id: str) -> TaskRecord:
        record = self.records[task_id]
        if record.status != "awaiting_review":
            raise ValueError(f"task {task_id!r} has no change awaiting review (status {record.status})")
        return record

    def use_config(self, config: Config) -> None:
        """Run with this config from now on (the project's own commands trusted, say): the
        baselines judged under the old one are dropped."""
        self.config = config
        self.baseline_cache.clear()

    async def run(self, task_id: str) -> TaskRecord:
        """Run one task up to a change ready for review (or a final failure); once the session
        is closing, a task not yet started is left queued (no call is made)."""
        record = self.records[task_id]
        if self.closing:
            return record
        if record.final or record.status != "queued":
            # A retry: start over with the same task (and any forced model).
            base = replace(self.meter.tasks[task_id])
            record = self.records[task_id] = TaskRecord(record.task, meter_base=base)
        journey = Journey(self, record)
        task = asyncio.current_task()
        if task is not None:
            self._running[task_id] = task
        try:
            await journey.run()
        finally:
            self._running.pop(task_id, None)
            if record.final:
                self._finish(record)
        return record

    def cancel(self, task_id: str) -> bool:
        task = self._running.get(task_id)
        if task is None:
            return False
        task.cancel()
        return True

    # -- approvals -----------------------------------------------------------------------------

    async def approve_escalation(self, proposal: ev.EscalationProposed) -> tuple[bool, EscalationDecider]:
        if proposal.task_id in self._preapproved:
            return True, "user"
        return await self.approver(proposal)

    def _selection(self, task_id: str, accepted: dict[str, set[int]] | None) -> tuple[list[FileChange], bool]:
        """The task's change cut down to the accepted hunks per file, and whether it was cut."""
        record = self._awaiting(task_id)
        if accepted is None:
            return list(record.changes), False
        chosen: list[FileChange] = []
        partial = False
        for change in record.changes:
            after = apply_hunks(change.before, change.after, accepted.get(change.path, set()))
            if after != change.before:
                chosen.append(replace(change, after=after))
            if after != change.after:
                partial = True
        return chosen, partial

    async def validate_selection(self, task_id: str, accepted: dict[str, set[int]]) -> ValidationResult:
        """Run the project's checks on a part of a change, as it would land: the whole change
        was validated, a selection of its hunks was not (dropping one can break the rest)."""
        changes, _ = self._selection(task_id, accepted)
        stage = await self.open_stage(f"{task_id}-selection", changes)
        try:
            specs = resolve_checks(self.config, stage.workdir) if self.config.validation.enabled else []
            return await self.watched_validation(
                stage, specs, run_id=f"v{next(self.run_ids)}", task_id=task_id, reason="selection"
            )
        finally:
            stage.discard()

    async def watched_validation(
        self, stage: AnyStage, specs: list[CheckSpec], *, run_id: str, task_id: str, reason: ValidationReason
    ) -> ValidationResult:
        """Validate a stage. A copy-on-write stage's checks run sandboxed over its layers, so
        nothing they write reaches the project. A hard-linked stage's unchanged files are the
        user's: say loudly if a check wrote into one in place."""
        if isinstance(stage, CowStage):
            assert self.sandbox.bwrap is not None
            return await run_validation(
                specs,
                stage.workdir,
                self.emit,
                run_id=run_id,
                task_id=task_id,
                reason=reason,
                project=self.root,
                confinement=Confinement(self.sandbox.bwrap, stage.layers()),
            )
        shared = await asyncio.to_thread(stage.shared_files)  # a walk of the stage: off the loop
        try:
            return await run_validation(
                specs, stage.root, self.emit, run_id=run_id, task_id=task_id, reason=reason, project=self.root
            )
        finally:
            touched = await asyncio.to_thread(stage.written_in_place, shared)
            if touched:
                self.emit(
                    ev.Notice(
                        level="error",
                        task_id=task_id,
                        message=(
                            f"validation run {run_id} wrote into {len(touched)} of your project files in place "
                            f"through the staged copy ({', '.join(touched[:5])}"
                            f"{', …' if len(touched) > 5 else ''}) — a check or a test rewrote them (or you "
                            "saved them meanwhile): look at them (git diff) before going on"
                        ),
                    )
                )

    def apply(self, task_id: str, accepted: dict[str, set[int]] | None = None) -> AppliedChange:
        """Write the task's change into the project (all of it, or only the accepted hunks per file)."""
        record = self.records[task_id]
        changes, partial = self._selection(task_id, accepted)
        applied = apply_changes(self.root, changes, self.journal_dir, task_id)
        record.applied, record.applied_files = True, list(applied.files)
        record.status = "approved"
        self._applied_generation += 1
        self.emit(ev.ChangeApplied(task_id=task_id, files=list(applied.files), partial=partial))
        self._finish(record)
        return applied

    def accept(self, task_id: str) -> None:
        """Approve without writing the files (headless without --auto-approve): later tasks build on it."""
        record = self._awaiting(task_id)
        record.status = "approved"
        self.save_patch(task_id)
        self._finish(record)

    def save_patch(self, task_id: str) -> Path:
        """Keep a task's staged change as `.gearshift/patches/ID.diff` (for `git apply`)."""
        patches = self.root / ".gearshift" / "patches"
        patches.mkdir(parents=True, exist_ok=True)
        path = patches / f"{task_id}.diff"
        # never half a patch, never a secret
        atomic_write_text(path, redact.redact(_diff_of(self.records[task_id].changes)), durable=True)
        return path

    def awaiting_review(self) -> list[str]:
        return [r.task.id for r in self.records.values() if r.status == "awaiting_review"]

    def reject(self, task_id: str) -> None:
        record = self._awaiting(task_id)
        record.status = "rejected"
        record.error = "rejected in review"
        self._finish(record)

    def fail(self, task_id: str, message: str) -> None:
        """End a task awaiting review as failed (e.g. its change no longer applies)."""
        record = self.records[task_id]
        record.status, record.error = "failed", message
        self._finish(record)

    def undo(self, task_id: str) -> list[str]:
        files = undo(self.root, self.journal_dir, task_id)
        record = self.records.get(task_id)
        if record is not None and record.applied:  # not a retry's fresh record of the same id
            record.applied, record.undone = False, True
            if self.ledger is not None:  # a later row supersedes "approved": reports stop counting it
                booked = {**record.summary(self.meter), "status": "undone"}
                self.ledger.record_task(booked, record.task.tags, self.config.escalation_model.id)
        self._applied_generation += 1
        self.emit(ev.ChangeUndone(task_id=task_id, files=files))
        return files

    async def wait_finished(self, task_id: str) -> TaskRecord:
        """Wait until the task reaches a final status (e.g. its change was reviewed)."""
        while not self.records[task_id].final:
            event = self._finished.setdefault(task_id, asyncio.Event())
            await event.wait()
        return self.records[task_id]

    def _finish(self, record: TaskRecord) -> None:
        event = self._finished.pop(record.task.id, None)
        if event is not None:
            event.set()
        summary = record.summary(self.meter)
        if self.ledger is not None:
            self.ledger.record_task(summary, record.task.tags, self.config.escalation_model.id)
        final = cast(FinalStatus, record.status)  # the journey has ended: a final status
        self.emit(ev.TaskFinished(task_id=record.task.id, status=final, summary=summary))

    # -- what journeys need --------------------------------------------------------------------

    def overlay(self) -> list[FileChange]:
        """Approved changes not yet written to the project, in the order they were approved."""
        out: list[FileChange] = []
        for record in self._pending():
            out.extend(record.changes)
        return out

    def _pending(self) -> list[TaskRecord]:
        """Approved, not written (headless without --auto-approve), and not undone by the user."""
        return [r for r in self.records.values() if r.status == "approved" and not r.applied and not r.undone]

    def base_key(self) -> tuple[str, ...]:
        return (str(self._applied_generation), *(r.task.id for r in self._pending()))

    async def open_stage(self, name: str, changes: list[FileChange] | None = None) -> AnyStage:
        """A new stage over the project and the pending changes (plus `changes`), made on a
        thread: a hard-linked stage links every file of the project (pipeline/offloop.py)."""
        make = self.stages.maker(name, self._pending(), changes or [])
        return await off_loop(make, undo=lambda stage: stage.discard())

    def new_stage(self, name: str) -> AnyStage:
        """`open_stage` for a caller outside the event loop (a test, a tool)."""
        return self.stages.maker(name, self._pending(), [])()

    def close(self) -> None:
        """Remove what the session keeps on disk between tasks (the pending layer)."""
        self.stages.close()

    @property
    def graph(self) -> ImportGraph:
        return self.context.graph

    def files_changed(self, paths: list[str]) -> None:
        """The watcher saw these project files change: keep the import graph current."""
        self.context.files_changed(paths)
        self.baseline_cache.clear()

    def select_context(self, task: Task) -> Selection:
        """The context as the project will be once the pending (approved, unwritten) changes land."""
        return select_over_pending(self.root, self.config.context, task, self._pending_texts(), self.graph)

    async def choose_context(self, task: Task) -> Selection:
        """`select_context` for a task's run: the first graph is built off the loop."""
        graph = await self.context.import_graph()
        return select_over_pending(self.root, self.config.context, task, self._pending_texts(), graph)

    def _pending_texts(self) -> dict[str, str | None]:
        return {c.path: c.after for c in self.overlay()}

    def expected_latency_ms(self, model: ModelSpec) -> float:
        measured = self.ledger.median_latency_ms(model.id) if self.ledger else None
        return measured if measured is not None else float(model.typical_latency_ms)

    # -- reporting -----------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """The run's summary (redacted: a task's error may quote what a check printed)."""
        return redact.redact_value({
            "type": "summary",
            "tasks": [r.summary(self.meter) for r in self.records.values()],
            "total_cost_usd": usd(self.meter.session),
            "all_escalation_cost_usd": usd(self.meter.session_equiv),
            "baselines": {
                "same_calls_usd": usd(self.meter.session_equiv),
                "naive_usd": usd(self.meter.session_naive),
                "model": self.config.escalation_model.id,
            },
            "mode": self.gateway.mode,
            "scripted": self.gateway.scripted,
            "sandbox": self.sandbox.label,
            "sandbox_note": self.sandbox.describe(),
        })


def _diff_of(changes: list[FileChange]) -> str:
    return "".join(unified_diff(c.path, c.before, c.after) for c in changes)
