"""The gearshift app: the engine's second consumer, on the engine's own event loop.

The Session runs in async workers of this app (one exclusive worker group per task), so there
are no threads and no cross-thread calls. The Session's `emit` only appends to a list; a timer
at ~30 Hz drains it, merges each task's text deltas into one write (`state.coalesce`), folds the
events into the pure `UIState`, and repaints only the panes the batch touched. Streaming
therefore costs one Markdown append per task per tick, whatever the token rate, and input is
never starved.

Garbage collection sets the floor of the loop's stalls (docs/performance.md): once the first frame is
out, everything alive (Textual, the engine, the CSS) is frozen out of the collector's sight and
the young generation's threshold raised, so a collection walks only what the session made since;
both are undone when the app unmounts, so tests and embedders get their process back.

Escalation approvals are asyncio Futures kept per task in `self.approvals`: the engine's
approver awaits one, the y / n keys resolve it, and looking at another task in the meantime
changes nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
from pathlib import Path
from typing import Any

from textual import events
from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header
from textual.worker import Worker, WorkerState

from gearshift import events as ev
from gearshift.config import Config
from gearshift.ledger import Ledger
from gearshift.models.client import ModelGateway
from gearshift.pipeline.session import Session
from gearshift.signals import STOP_SIGNALS, exit_status
from gearshift.tasks import Task
from gearshift.ui import themes
from gearshift.ui.actions import ActionsMixin
from gearshift.ui.bindings import ACTIONS, bindings, footer_actions
from gearshift.ui.firstrun import FirstRunMixin
from gearshift.ui.format import NO_KEY, model_label
from gearshift.ui.panes.cost import CostPane
from gearshift.ui.panes.output import OutputPane
from gearshift.ui.panes.queue import TaskQueue
from gearshift.ui.panes.routing import RoutingPane
from gearshift.ui.panes.validation import ValidationPane
from gearshift.ui.state import Changes, UIState, coalesce
from gearshift.ui.trusting import TrustMixin
from gearshift.vocab import EscalationDecider

TICK_S = 1 / 30
GC_GEN0 = 20_000  # allocations between young collections while the app runs (Python's default: 700)
MAIN_SCREEN_ACTIONS = {a.action for a in ACTIONS} - {"request_quit", "switch_theme"}
SHOWN_IDS = {a.id for a in ACTIONS if a.show}  # the footer's own keys (not ctrl+q, ctrl+c)
REPLACED_SYSTEM_COMMANDS = {"Theme"}  # Textual's palette entries our actions stand for


class GearshiftApp(TrustMixin, ActionsMixin, FirstRunMixin, App[int]):
    CSS_PATH = "gearshift.tcss"
    TITLE = "gearshift"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    BINDINGS = bindings()

    def __init__(
        self,
        config: Config,
        tasks: list[Task],
        gateway: ModelGateway,
        *,
        watch: bool = True,
        ledger: bool = True,
        run_all: bool = False,
        user_themes_dir: Path | None = None,
        theme: str | None = None,
        show_timings: bool = True,
        cursor_blink: bool = True,
        tune_gc: bool = True,
        tasks_path: Path | None = None,
        notice: str | None = None,
    ) -> None:
        super().__init__()
        self.notice = notice  # shown once on start (the demo says where its scratch copy lives)
        self.tasks_path = tasks_path  # where the add-task form saves new tasks (None: session only)
        self.config = config
        self.gateway = gateway
        self.watch_files = watch
        self.run_all_on_start = run_all
        self.user_themes_dir = user_themes_dir if user_themes_dir is not None else themes.user_themes_dir()
        self.initial_theme = theme
        self.cursor_blink_enabled = cursor_blink
        self.tune_gc = tune_gc
        self._gc_saved: tuple[int, int, int] | None = None
        self.state = UIState(show_timings=show_timings, label=lambda model_id: model_label(self.config, model_id))
        self.approvals: dict[str, asyncio.Future[tuple[bool, EscalationDecider]]] = {}
        self.review_choices: dict[str, dict[tuple[str, int], bool]] = {}
        self.selected: str | None = None
        self.following = False  # the panes follow the task "run all" runs (f), until the cursor moves
        self.follow_target: str | None = None  # the task "run all" runs now
        self.follow_move: str | None = None  # a cursor move made by following, not by the user
        self.watcher: object | None = None
        self.theme_failures: list[tuple[Path, str]] = []
        self._buffer: list[ev.Event] = []
        self._paint_lock = asyncio.Lock()
        self._output_pane: OutputPane | None = None
        self.quitting = False  # set once Quit is confirmed (or a signal came): nothing new starts
        self._signals: list[int] = []
        self.ledger = Ledger.for_project(config.root) if ledger else None
        self.session = self._new_session()
        self.emit_event(
            ev.SessionStarted(
                project=str(config.root),
                mode=gateway.mode,
                scripted=gateway.scripted,
                config_source=config.source,
                sandbox=self.session.sandbox.label,
                sandbox_note=self.session.sandbox.describe(),
            )
        )
        self.session.recover(sweep=False)  # an apply a crash interrupted is finished or rolled back first
        for task in tasks:
            self.session.add(task)
        self._register_themes()

    # -- engine glue ---------------------------------------------------------------------------

    def _new_session(self) -> Session:
        return Session(self.config, self.gateway, emit=self.emit_event, approver=self.approve_escalation, ledger=self.ledger)

    def emit_event(self, event: ev.Event) -> None:
        """The Session's sink: must stay cheap, it runs inside the engine's hot paths."""
        self._buffer.append(event)

    async def approve_escalation(self, proposal: ev.EscalationProposed) -> tuple[bool, EscalationDecider]:
        """The Session's approver: wait, however long, for the user's y or n on this task."""
        future: asyncio.Future[tuple[bool, EscalationDecider]] = asyncio.get_running_loop().create_future()
        self.approvals[proposal.task_id] = future
        try:
            return await future
        finally:
            if self.approvals.get(proposal.task_id) is future:
                del self.approvals[proposal.task_id]

    # -- themes --------------------------------------------------------------------------------

    def _register_themes(self) -> None:
        result = themes.load_themes(themes.shipped_themes_dir())
        result.extend(themes.load_themes(self.user_themes_dir))
        for theme in result.loaded:
            self.register_theme(theme)
        self.theme_failures = result.failed
        wanted = self.initial_theme or themes.saved_theme() or themes.DEFAULT_DARK
        fallback = themes.DEFAULT_DARK if themes.DEFAULT_DARK in self.available_themes else "textual-dark"
        self.theme = wanted if wanted in self.available_themes else fallback

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return themes.variable_defaults(self.current_theme)

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(icon="⚙")
        with Horizontal(id="top"):
            yield TaskQueue(self.config, id="queue", classes="pane")
            yield RoutingPane(self.config, id="routing", classes="pane")
        with Horizontal(id="bottom"):
            yield OutputPane(self.config, id="output", classes="pane")
            with Vertical(id="right"):
                yield CostPane(self.config, id="cost", classes="pane")
                yield ValidationPane(id="validation", classes="pane")
        yield Footer(compact=True, show_command_palette=False)

    async def on_mount(self) -> None:
        if self.theme_failures:
            self.notify(themes.failure_message(self.theme_failures), title="Themes", severity="error", timeout=10)
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self._output_pane = self.query_one(OutputPane)
        self._update_empty_text()
        if self.notice:
            self.notify(self.notice, title="gearshift", timeout=12)
        if not self.session.sandbox.active and self.config.validation.enabled:
            severity = "error" if self.session.sandbox.refused else "warning"
            self.notify(self.session.sandbox.describe(), title="Sandbox", severity=severity, timeout=12)
        await self.drain()
        if self.selected is None:  # no task: the panes say what to do first
            async with self._paint_lock:
                await self._show_selected()
        self.set_interval(TICK_S, self.drain, name="drain")
        self.query_one(TaskQueue).focus()
        self.call_after_refresh(self._after_first_frame)
        self._listen_for_stop_signals()
        if self.config.trusted and self.run_all_on_start:  # else once the trust question is answered
            self.action_run_all()

    def _after_first_frame(self) -> None:
        """What the first frame need not wait for: the file watcher (watchfiles, a tree walk),
        the SDK's client (built on a thread, so the first run starts at once), the sweep of stray
        temp files (a tree walk, in a thread), the collector's tuning, and the trust question if
        the project's own commands need one."""
        self.run_worker(self.gateway.prepare(), name="sdk", group="sdk", exit_on_error=False)
        self.run_worker(self.session.sweep(), name="sweep", group="sweep", exit_on_error=False)
        if self.watch_files:
            self.run_worker(self._watch(), name="watcher", group="watcher", exit_on_error=False)
        if self.tune_gc and self._gc_saved is None:
            self._gc_saved = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(GC_GEN0, *self._gc_saved[1:])
        self.ask_trust()

    def _listen_for_stop_signals(self) -> None:
        """SIGTERM / SIGHUP quit like a confirmed Quit (exit status 143 / 129): running tasks
        are cancelled and book what they paid, unreviewed changes are kept as patches."""
        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:
            try:
                loop.add_signal_handler(signum, self._stop_signal, signum)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
                continue
            self._signals.append(signum)

    def _stop_signal(self, signum: int) -> None:
        self.quit_now(self.session.awaiting_review(), return_code=exit_status(signum))

    async def on_unmount(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in self._signals:
            loop.remove_signal_handler(signum)
        # Whatever way the app is going, no task outlives it: each books its calls before the
        # ledger closes (a booking into a closed ledger was a ProgrammingError).
        self.quitting = self.session.closing = True
        await self.stop_tasks()
        stop = getattr(self.watcher, "stop", None)
        if stop is not None:
            stop()
        for pane in self.query(OutputPane):  # already gone when the screen unmounted first
            await pane.close()
        await self.gateway.aclose()
        self.session.close()  # the pending layer, if headless-style acceptance left one
        if self.ledger is not None:
            self.ledger.close()
        if self._gc_saved is not None:
            gc.set_threshold(*self._gc_saved)
            gc.unfreeze()
            self._gc_saved = None

    async def _watch(self) -> None:
        from gearshift.watch import ProjectWatcher

        self.watcher = ProjectWatcher(  # reads self.config now: trust may have been given already
            self.config, self.emit_event, on_change=self.session.files_changed, sandbox=self.session.sandbox
        )
        await self.watcher.run()

    # -- the tick ------------------------------------------------------------------------------

    async def drain(self) -> None:
        """Fold buffered events into the state and repaint what they touched."""
        if not self._buffer:
            output = self._output_pane
            if output is not None and output.settle_due():  # after a flood: one piece to Markdown a tick
                async with self._paint_lock:
                    await output.settle_step()
            return
        events, self._buffer = self._buffer, []
        self.state.apply_all(coalesce(events))
        async with self._paint_lock:
            if not self.is_running:  # shutting down: the panes are being taken away
                return
            await self._paint(self.state.take_changes())
        for severity, message in self.state.take_notes():
            self.notify(message, severity=severity)  # type: ignore[arg-type]

    async def settled(self) -> None:
        """Wait until everything the engine said so far is on screen: no buffered event, no
        paint in progress, the output pane caught up with the selected task (a flood's plain
        text handed to Markdown too), then one refresh. For tests and pictures: no fixed sleeps."""
        while True:
            await self.drain()
            async with self._paint_lock:
                pass
            t = self.state.tasks.get(self.selected) if self.selected else None
            if not self._buffer and (t is None or self._output_shows(t)):
                break
            await asyncio.sleep(TICK_S)
        await self.animator.wait_until_complete()  # a gauge's bar glides to its value
        await self.screen.wait_for_refresh()  # the screen: the app node has no task of its own under run_test

    def _output_shows(self, t: Any) -> bool:
        output = self._output_pane
        if output is None or not t.output.segments:
            return output is None or output.task_id == t.id
        if not (output.caught_up(t) and output.settled):
            return False
        from textual.widgets import Markdown

        live = output.query(Markdown)  # a streaming segment: its appends land asynchronously
        last = t.output.segments[-1]
        return not live or last.kind != "text" or live.last().source == last.text

    async def _paint(self, changes: Changes) -> None:
        queue = self.query_one(TaskQueue)
        if changes.header or changes.queue:
            self._update_header()
        if changes.queue or changes.tasks:
            queue.sync(self.state, only=changes.tasks)
        if self.selected is None and queue.selected is not None:
            self.selected = queue.selected
            await self._show_selected()
            return
        selected = self.state.tasks.get(self.selected) if self.selected else None
        if selected is not None and (self.selected in changes.tasks or self.selected in changes.text):
            await self.query_one(OutputPane).sync(selected)
        if selected is not None and self.selected in changes.tasks:
            self.query_one(RoutingPane).show(selected)
        validation = self.query_one(ValidationPane)
        if changes.log_lines:
            validation.append(self.state, changes.log_lines)
        if changes.runs:
            validation.update_summary(self.state)
        if changes.cost or self.selected in changes.tasks:
            self.query_one(CostPane).show(self.state, selected)

    async def _show_selected(self) -> None:
        t = self.state.tasks.get(self.selected) if self.selected else None
        await self.query_one(OutputPane).show(t)
        self.query_one(RoutingPane).show(t)
        self.query_one(ValidationPane).show(self.state, self.selected)
        self.query_one(CostPane).show(self.state, t)

    async def on_task_queue_selected(self, message: TaskQueue.Selected) -> None:
        self.pin_on_user_move(message.task_id)
        if message.task_id == self.selected:
            return
        self.selected = message.task_id
        async with self._paint_lock:
            await self._show_selected()

    def _update_header(self) -> None:
        name = Path(self.state.project).name if self.state.project else self.config.root.name
        if self.gateway.mode == "replay":
            mode = "offline: scripted demo recordings" if self.gateway.scripted else "offline: replaying recordings"
        elif self.gateway.mode == "record":
            mode = "live, recording every call"
        elif not self.gateway.has_credentials:
            mode = NO_KEY
        else:
            mode = "live"
        if not self.config.trusted:
            mode += " · project commands untrusted"
        pending = self.state.pending_approvals()
        flag = f"⚑ {len(pending)} awaiting approval · " if pending else ""  # first: narrow headers cut the end
        sandbox = self.session.sandbox
        badge = "" if sandbox.active else ("⚠ checks refused: no sandbox · " if sandbox.refused else "⚠ checks unsandboxed · ")
        self.sub_title = f"{flag}{badge}{name} · {mode}"

    def on_resize(self, event: events.Resize) -> None:
        self._fit_footer(event.size.width)

    def _fit_footer(self, width: int) -> None:
        """Show in the footer only the keys that fit, by priority (bindings.FOOTER_PRIORITY):
        at 80 columns Quit and Review stay, Theme and Undo give way (they stay bound)."""
        kept = footer_actions(width - 1)
        shown = {a.action: a.show and a.action in kept for a in ACTIONS}
        changed = False
        for bound in self._bindings.key_to_bindings.values():
            for i, binding in enumerate(bound):
                want = shown.get(str(binding.action), binding.show)
                if binding.id in SHOWN_IDS and binding.show != want:
                    bound[i] = dataclasses.replace(binding, show=want)
                    changed = True
        if changed:
            self.refresh_bindings()

    def _theme_changed(self, theme: object) -> None:
        self.query_one(TaskQueue).sync(self.state)
        name = getattr(theme, "name", None)
        if name and name != themes.saved_theme():
            try:
                themes.save_theme(name)  # the next start opens with it
            except OSError as exc:
                self.notify(f"Could not remember the theme: {exc}", severity="warning")

    # -- workers -------------------------------------------------------------------------------

    def task_worker(self, task_id: str) -> Worker[None] | None:
        for worker in self.workers:
            if worker.group == f"task:{task_id}" and worker.state in (WorkerState.PENDING, WorkerState.RUNNING):
                return worker
        return None

    def running_tasks(self) -> list[str]:
        return [w.group.removeprefix("task:") for w in self.workers if w.group.startswith("task:") and w.state in (WorkerState.PENDING, WorkerState.RUNNING)]

    def start_task(self, task_id: str) -> Worker[None] | None:
        if self.quitting:  # the user confirmed Quit: no new paid work
            return None
        return self.run_worker(
            self._run_task(task_id), name=f"task:{task_id}", group=f"task:{task_id}", exclusive=True,
            exit_on_error=False, description=f"running task {task_id}",
        )

    async def _run_task(self, task_id: str) -> None:
        await self.session.run(task_id)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state != WorkerState.ERROR:
            return
        error = worker.error
        if worker.group.startswith("task:"):
            task_id = worker.group.removeprefix("task:")
            info = self.session.info(task_id)
            if info is not None and not info.final:
                self.session.fail(task_id, f"internal error: {error!r}")
            self.notify(f"{task_id}: internal error: {error!r}", title="Task failed", severity="error")
        elif worker.group == "watcher":
            self.notify(f"the file watcher stopped: {error!r}", severity="error")

    # -- command palette -----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Task actions belong to the main screen: over the review or report screen they are off."""
        return not (action in MAIN_SCREEN_ACTIONS and len(self.screen_stack) > 1)

    def get_system_commands(self, screen: Screen[object]):  # type: ignore[no-untyped-def]
        """Our actions, then Textual's own commands, one entry per action: its Quit becomes ours
        (which asks), its Theme is left out where our Switch theme is listed."""
        main = screen is self.screen_stack[0]
        if main:
            for spec in ACTIONS:
                yield SystemCommand(spec.title, spec.help, getattr(self, f"action_{spec.action}"))
        for command in super().get_system_commands(screen):
            if main and command.title in REPLACED_SYSTEM_COMMANDS:
                continue
            if command.callback != self.action_quit:
                yield command
            elif not main:  # Textual's "quit as soon as possible" becomes ours: one Quit, which asks
                spec = next(s for s in ACTIONS if s.action == "request_quit")
                yield SystemCommand(spec.title, spec.help, self.action_request_quit)

    async def action_quit(self) -> None:
        """Textual's own quit (its palette entry, any binding to it) asks like ours does."""
        self.action_request_quit()


def make_app(
    config: Config,
    tasks: list[Task],
    gateway: ModelGateway,
    *,
    watch: bool = True,
    ledger: bool = True,
    run_all: bool = False,
    **options: Any,
) -> GearshiftApp:
    """The one way to build the app, shared by `launch()` and the tests.

    `options` go to GearshiftApp: `user_themes_dir`, `theme`, `tune_gc` (default on), and for
    deterministic pictures `show_timings=False` and `cursor_blink=False`.
    """
    return GearshiftApp(config, tasks, gateway, watch=watch, ledger=ledger, run_all=run_all, **options)
