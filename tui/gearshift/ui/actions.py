"""What each key does. Every action calls one Session entry point and lets the events tell the
rest; nothing here decides what the engine would (routing, validation, cost).

A mixin of GearshiftApp, kept apart so the app module stays about wiring and painting. The
screens are imported when first opened: none of them is needed for the first frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from typing import TYPE_CHECKING

from textual.worker import WorkerCancelled, WorkerFailed

from gearshift.config import ConfigError
from gearshift.edits.apply import ApplyConflict
from gearshift.edits.workspace import PathRefused
from gearshift.pipeline.record import FINAL, TaskInfo
from gearshift.tasks import Task, append_task
from gearshift.ui.format import NO_KEY
from gearshift.vocab import ForcedModel

if TYPE_CHECKING:
    from gearshift.ui.app import GearshiftApp
    from gearshift.ui.screens.review import ChangeUnderReview
    from gearshift.validation.findings import ValidationResult

    _Base = GearshiftApp
else:
    _Base = object


class ActionsMixin(_Base):
    def _selected_or_warn(self) -> str | None:
        """The task under the queue's cursor, read from the table itself: keys typed in a burst
        ("down down r") arrive before the cursor's Selected message, so `self.selected` may lag."""
        from gearshift.ui.panes.queue import TaskQueue

        task_id = self.query_one(TaskQueue).selected or self.selected  # the panes follow the message
        if task_id is None or self.session.info(task_id) is None:
            self.notify("No task selected: add one with a", severity="warning")
            return None
        return task_id

    def _can_call(self) -> bool:
        """No key and no recordings: refuse up front, in the header's words, so no task is
        routed and no failed "call" is booked."""
        if self.gateway.has_credentials:
            return True
        self.notify(NO_KEY[0].upper() + NO_KEY[1:], severity="error")  # the header's words
        return False

    def _info(self, task_id: str) -> TaskInfo:
        """The engine's word on a task now (the state may lag a tick behind a burst of keys)."""
        info = self.session.info(task_id)
        if info is None:
            raise KeyError(task_id)
        return info

    def _status(self, task_id: str) -> str:
        return self._info(task_id).status

    # -- queue ---------------------------------------------------------------------------------

    def action_add_task(self) -> None:
        from gearshift.ui.screens.add_task import AddTaskScreen

        def taken(task_id: str) -> bool:  # finished or not: a new task never replaces one
            return self.session.info(task_id) is not None

        ids = {info.task.id for info in self.session.queue()}
        default = next(f"task-{n}" for n in itertools.count(len(ids) + 1) if f"task-{n}" not in ids)
        self.push_screen(AddTaskScreen(self.config.root, default, taken, cursor_blink=self.cursor_blink_enabled), self._task_added)

    def _task_added(self, task: Task | None) -> None:
        if task is None:
            return
        try:
            self.session.add(task)
        except ValueError as exc:  # raced with another add of the same id
            self.notify(str(exc), severity="error")
            return
        if self.tasks_path is None:
            self.notify(f"{task.id} added — press r to run it")
        else:
            try:
                append_task(self.tasks_path, task)
            except (ConfigError, OSError) as exc:  # e.g. the file already has this id, or is read-only
                self.notify(f"{task.id} added for this session only, not saved: {exc}", severity="warning", timeout=10)
            else:
                self.notify(f"{task.id} added and saved to {self.tasks_path.name} — press r to run it")
        self.call_after_refresh(self.query_one("#queue").select, task.id)  # type: ignore[attr-defined]

    def action_run(self) -> None:
        task_id = self._selected_or_warn()
        if task_id is None:
            return
        if self.task_worker(task_id) is not None:
            self.notify(f"{task_id} is already running", severity="warning")
            return
        if self._status(task_id) == "awaiting_review":
            self.notify(f"{task_id} has a change awaiting review: press v to review it", severity="warning")
            return
        if self._can_call():
            self._run_again_or_start(task_id)

    def action_retry(self) -> None:
        task_id = self._selected_or_warn()
        if task_id is None:
            return
        status = self._status(task_id)
        if status not in FINAL or self.task_worker(task_id) is not None:
            self.notify(f"{task_id} is {status.replace('_', ' ')}: only a finished task can be retried", severity="warning")
            return
        if self._can_call():
            self._run_again_or_start(task_id)

    def _run_again_or_start(self, task_id: str) -> None:
        """An approved task runs again only when the user says so: it is paid work, and its
        queue row stops saying that its change is in the project."""
        from gearshift.ui.screens.confirm import ConfirmScreen

        info = self._info(task_id)
        if info.status != "approved" or info.undone:
            self.start_task(task_id)
            return
        where = "is applied to your files (u undoes it)" if info.applied else "was approved"
        question = f"{task_id} is done: its change {where}. Run it again, as a new paid run on the project as it is now?"

        def answered(yes: bool | None) -> None:
            if yes:
                self.start_task(task_id)

        self.push_screen(ConfirmScreen(question, yes="Run again", no="Keep it"), answered)

    def action_run_all(self) -> None:
        if not any(info.status == "queued" for info in self.session.queue()):
            self.notify("No queued task to run", severity="warning")
            return
        if not self._can_call():
            return
        self.run_worker(self._run_all(), name="run-all", group="run-all", exclusive=True, exit_on_error=False)

    async def _run_all(self) -> None:
        """Queued tasks one after another: a later task then builds on the earlier ones' outcome.

        The panes follow the task being run (moving the cursor pins them, f follows again)."""
        self.following = True
        try:
            await self._run_queued()
        finally:
            self.follow_target = None
            self._show_follow_mark()

    async def _run_queued(self) -> None:
        for task_id in [info.task.id for info in self.session.queue()]:
            if self._status(task_id) != "queued":  # read as each turn comes: it may have run meanwhile
                continue
            self._follow(task_id)
            worker = self.task_worker(task_id) or self.start_task(task_id)
            if worker is None:  # quitting
                return
            try:
                await worker.wait()
            except (WorkerCancelled, WorkerFailed):
                # Worker.wait turns a cancellation of *this* worker (quitting) into
                # WorkerCancelled too: moving on to the next task then would spend money.
                if self.quitting or _being_cancelled():
                    raise asyncio.CancelledError from None
                continue
            # Each task is staged on what the earlier ones left in the project, so the queue
            # waits for this change to be applied or rejected before the next task starts.
            if self._status(task_id) == "awaiting_review":
                self.notify(f"{task_id}: run all paused — review the change (v) to continue")
                await self.session.wait_finished(task_id)

    # -- following the running task --------------------------------------------------------------

    def _follow(self, task_id: str) -> None:
        """`task_id` is the one "run all" runs now: show it, unless the user pinned another."""
        self.follow_target = task_id
        if self.following:
            self._move_cursor_for_follow(task_id)
        self._show_follow_mark()

    def _move_cursor_for_follow(self, task_id: str) -> None:
        from gearshift.ui.panes.queue import TaskQueue

        queue = self.query_one(TaskQueue)
        if queue.selected != task_id:
            self.follow_move = task_id  # this cursor move is ours: it does not pin
            queue.select(task_id)

    def pin_on_user_move(self, task_id: str | None) -> None:
        """The queue's cursor moved: by us while following, or by the user, which pins."""
        if self.follow_move is not None and task_id == self.follow_move:
            self.follow_move = None
            return
        if self.following and self.follow_target is not None and task_id != self.follow_target:
            self.following = False
            self._show_follow_mark()

    def _show_follow_mark(self) -> None:
        from gearshift.ui.panes.queue import TaskQueue

        queue = self.query_one(TaskQueue)
        if self.follow_target is None:
            queue.border_subtitle = ""
        elif self.following:
            queue.border_subtitle = f"▶ following {self.follow_target}"
        else:
            queue.border_subtitle = "pinned · f follows the running task"

    def action_follow(self) -> None:
        if self.follow_target is None:
            self.notify("Nothing to follow: f follows the task that run all (R) is running", severity="warning")
            return
        self.following = True
        self._move_cursor_for_follow(self.follow_target)
        self._show_follow_mark()

    def action_cancel_task(self) -> None:
        task_id = self._selected_or_warn()
        if task_id is None:
            return
        worker = self.task_worker(task_id)
        if not self.session.cancel(task_id):
            if worker is None:
                self.notify(f"{task_id} is not running", severity="warning")
                return
            worker.cancel()  # started but not yet inside Session.run
        self.notify(f"{task_id}: cancelling — calls already paid stay in the ledger")

    # -- escalation ------------------------------------------------------------------------------

    def _decide(self, approved: bool) -> None:
        task_id = self._selected_or_warn()
        if task_id is None:
            return
        future = self.approvals.get(task_id)
        if future is None or future.done():
            pending = [k for k, f in self.approvals.items() if not f.done()]
            where = f"; waiting: {', '.join(pending)}" if pending else ""
            self.notify(f"{task_id} has no escalation awaiting approval{where}", severity="warning")
            return
        future.set_result((approved, "user"))
        self.notify(f"{task_id}: escalation {'approved' if approved else 'declined'}")

    def action_approve(self) -> None:
        self._decide(True)

    def action_decline(self) -> None:
        self._decide(False)

    async def _force(self, which: ForcedModel) -> None:
        """A Session command: its ModelForced event marks the queue and the routing pane (drained
        at once, so the mark is there before the next key)."""
        task_id = self._selected_or_warn()
        if task_id is None:
            return
        self.session.force(task_id, which)
        await self.drain()
        model = self.config.escalation_model if which == "escalation" else self.config.default_model
        future = self.approvals.get(task_id)
        if which == "escalation" and future is not None and not future.done():
            future.set_result((True, "user"))
            self.notify(f"{task_id}: escalation to {model.label} approved")
        elif self.task_worker(task_id) is not None:
            self.notify(f"{task_id}: its next run will use {model.label}")
        else:
            self.notify(f"{task_id} will run on {model.label}")

    async def action_force_escalation(self) -> None:
        await self._force("escalation")

    async def action_force_default(self) -> None:
        await self._force("default")

    # -- review, undo, report ------------------------------------------------------------------

    def action_review(self) -> None:
        from gearshift.ui.screens.review import ReviewScreen

        task_id = self._selected_or_warn()
        if task_id is None:
            return
        if self._status(task_id) != "awaiting_review":
            self.notify(f"{task_id} has no change awaiting review", severity="warning")
            return
        choices = self.review_choices.setdefault(task_id, {})

        def done(finished: bool | None) -> None:
            if finished:
                self.review_choices.pop(task_id, None)

        self.push_screen(ReviewScreen(self._under_review(task_id), choices), done)

    def _under_review(self, task_id: str) -> ChangeUnderReview:
        """The review screen's view of a change: the Session's commands on this one task."""
        from gearshift.ui.screens.review import ChangeUnderReview

        async def check(accepted: dict[str, set[int]]) -> ValidationResult:
            result = await self.session.validate_selection(task_id, accepted)
            await self.drain()  # the run's events into the state: the screen shows its summary next
            return result

        return ChangeUnderReview(
            task_id,
            self.session.change(task_id),
            latest_run=lambda: self.state.latest_run(task_id),
            check=check,
            apply=lambda accepted: self.session.apply(task_id, accepted),
            reject=lambda: self.session.reject(task_id),
        )

    def action_undo(self) -> None:
        candidates = self.state.applied or self.session.undoable()
        if not candidates:
            self.notify("No applied change to undo", severity="warning")
            return
        task_id = candidates[-1]
        try:
            files = self.session.undo(task_id)
        except (ApplyConflict, PathRefused, ValueError, OSError) as exc:
            self.notify(f"Could not undo {task_id}: {exc}", severity="error")
            return
        self.notify(f"{task_id}: undone ({', '.join(files) or 'nothing to restore'})")

    def action_report(self) -> None:
        from gearshift.ui.screens.report import ReportScreen

        self.push_screen(ReportScreen(self.ledger, self.config))

    def action_switch_theme(self) -> None:
        self.action_change_theme()

    # -- quitting ------------------------------------------------------------------------------

    def action_request_quit(self) -> None:
        """Quit, asking first when something would be lost: a running task (cancelled, its paid
        calls kept), a change nobody reviewed (kept as a patch) or a task being typed."""
        from gearshift.ui.screens.add_task import AddTaskScreen
        from gearshift.ui.screens.confirm import ConfirmScreen

        running = self.running_tasks()
        unreviewed = self.session.awaiting_review()
        typing = isinstance(self.screen, AddTaskScreen) and self.screen.has_input()
        if not (running or unreviewed or typing):
            self.exit(0)
            return
        said = []
        waiting = [t for t in running if t in self.approvals and not self.approvals[t].done()]
        working = [t for t in running if t not in waiting]
        if working:
            said.append(
                f"{len(working)} task(s) still running ({', '.join(working)}) will be cancelled; "
                "calls already paid stay in the ledger."
            )
        if waiting:
            said.append(
                f"{len(waiting)} task(s) waiting for your approval of an escalation ({', '.join(waiting)}) "
                "will be cancelled; nothing more is paid for them."
            )
        if unreviewed:
            said.append(
                f"{len(unreviewed)} change(s) await your review ({', '.join(unreviewed)}): each is "
                "kept as a patch in .gearshift/patches/, your files stay as they are."
            )
        if typing:
            said.append("The task you are typing is not added.")
        question = "Quit? " + " ".join(said)

        def answered(yes: bool | None) -> None:
            if yes:
                self.quit_now(unreviewed)

        self.push_screen(ConfirmScreen(question, yes="Quit", no="Stay"), answered)

    def quit_now(self, unreviewed: list[str] | None = None, return_code: int = 0) -> None:
        """Quit without asking (the user said yes, or a signal came): from this moment nothing
        new starts — no task, no call — and what runs is cancelled and awaited."""
        if self.quitting:
            return
        self.quitting = True
        self.session.closing = True
        self.run_worker(self._cancel_and_exit(unreviewed, return_code), name="shutdown", group="shutdown")

    async def _cancel_and_exit(self, unreviewed: list[str] | None = None, return_code: int = 0) -> None:
        for task_id in unreviewed or []:
            try:
                self.session.save_patch(task_id)
            except OSError as exc:
                self.notify(f"{task_id}: could not keep the patch: {exc}", severity="error")
                if return_code == 0:  # the user asked: stay, the change is still in the app
                    self.quitting = self.session.closing = False
                    return
        await self.stop_tasks()
        await self.drain()
        self.exit(return_code, return_code=return_code)

    async def stop_tasks(self) -> None:
        """Cancel run-all and every running task, and wait until each has booked what it paid."""
        for worker in [w for w in self.workers if w.group == "run-all"]:
            worker.cancel()
        workers = [w for w in (self.task_worker(t) for t in self.running_tasks()) if w is not None]
        for worker in workers:
            if not self.session.cancel(worker.group.removeprefix("task:")):
                worker.cancel()
        for worker in workers:
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await worker.wait()


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
