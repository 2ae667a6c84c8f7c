"""The review screen: a staged change, file by file and hunk by hunk, before anything is written.

Hunks come from `edits.hunks.split_hunks`, the very split `Session.apply` uses for a partial
apply, so "hunk 2 of calc.py" here is exactly what gets written when it is accepted. Choices
are kept by the app per task, so leaving the screen and coming back loses nothing; a refused
apply (the file changed on disk since staging) is shown here and the review stays open.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from gearshift.edits.apply import ApplyConflict
from gearshift.edits.hunks import Hunk, split_hunks
from gearshift.edits.workspace import PathRefused
from gearshift.pipeline.session import Session
from gearshift.ui.diffview import hunk_content
from gearshift.ui.panes.validation import run_summary
from gearshift.ui.state import UIState, finding_text


def _frozen(accepted: dict[str, set[int]]) -> frozenset[tuple[str, int]]:
    return frozenset((path, index) for path, indexes in accepted.items() for index in indexes)


class HunkView(Static, can_focus=True):
    """One hunk; its border says whether it will be applied."""

    DEFAULT_CSS = """
    HunkView { border: round $outcome-pass; padding: 0 1; margin: 0 0 1 0; height: auto; }
    HunkView.-rejected { border: round $outcome-fail 60%; opacity: 70%; }
    HunkView:focus { border: double $outcome-pass; }
    HunkView.-rejected:focus { border: double $outcome-fail; }
    """

    accepted: reactive[bool] = reactive(True)

    def __init__(self, hunk: Hunk, count: int, accepted: bool) -> None:
        super().__init__(hunk_content(hunk))
        self.hunk = hunk
        self.count = count
        self.set_reactive(HunkView.accepted, accepted)

    def on_mount(self) -> None:
        self.watch_accepted(self.accepted)

    def watch_accepted(self, accepted: bool) -> None:
        self.set_class(not accepted, "-rejected")
        verdict = "✓ accept" if accepted else "✗ reject"
        self.border_title = f"{self.hunk.path} · hunk {self.hunk.index + 1}/{self.count} · {verdict}"


class ReviewScreen(Screen[bool]):
    """Dismisses with True when the change was applied or rejected, False when left open."""

    DEFAULT_CSS = """
    ReviewScreen #review-summary { height: auto; padding: 0 1; border-bottom: hkey $pane-border; }
    ReviewScreen #review-error { height: auto; padding: 0 1; color: $text-error; text-style: bold; display: none; }
    ReviewScreen #review-error.-shown { display: block; }
    ReviewScreen .file-header { padding: 0 1; margin-top: 1; text-style: bold; background: $boost; }
    ReviewScreen #hunks { height: 1fr; }
    """
    BINDINGS = [
        Binding("space", "toggle", "Toggle hunk", tooltip="Accept or reject the hunk under the cursor", id="review-toggle"),
        Binding("down,j", "move(1)", "Next hunk", show=False, id="review-next"),
        Binding("up,k", "move(-1)", "Previous hunk", show=False, id="review-previous"),
        Binding("a", "set_all(True)", "Accept all", id="review-accept-all"),
        Binding("n", "set_all(False)", "Reject all", tooltip="Mark every hunk rejected", id="review-reject-all"),
        Binding("enter,s", "apply", "Apply", tooltip="Apply the accepted hunks to your files", id="review-apply"),
        Binding("x", "reject", "Reject change", id="review-reject"),
        Binding("escape,q", "close", "Back", id="review-close"),
    ]

    def __init__(self, session: Session, state: UIState, task_id: str, choices: dict[tuple[str, int], bool]) -> None:
        super().__init__()
        self.session = session
        self.state = state
        self.task_id = task_id
        self.choices = choices  # owned by the app: (path, hunk index) → accepted
        self._checking = False  # a selection's validation is running
        self._failed_selection: frozenset[tuple[str, int]] | None = None  # checked and failed
        self.record = session.records[task_id]

    def compose(self) -> ComposeResult:
        yield Header(icon="⚙")
        yield Static(id="review-summary")
        yield Static(id="review-error")
        with VerticalScroll(id="hunks"):
            findings = self.state.latest_run(self.task_id)
            run_findings = findings.findings if findings is not None else []
            for change in self.record.changes:
                hunks = split_hunks(change.path, change.before, change.after)
                kind = "new file" if change.before is None else "deleted" if change.after is None else "modified"
                yield Static(Content(f"{change.path}  ({kind}, {len(hunks)} hunk{'s' if len(hunks) != 1 else ''})"), classes="file-header")
                for f in (f for f in run_findings if f.get("file") == change.path):
                    yield Static(Content(finding_text(f)), classes="file-finding")
                for hunk in hunks:
                    yield HunkView(hunk, len(hunks), self.choices.setdefault((change.path, hunk.index), True))
        # at 80 columns every key fits, "x Reject change" and "esc Back" too (ctrl+p still works)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.sub_title = f"review {self.task_id}"
        views = self.hunk_views()
        self._show_summary()
        if views:
            views[0].focus()

    def _show_summary(self) -> None:
        """The header and the task's latest validation run (the selection's, once checked)."""
        self.query_one("#review-summary", Static).update(self._head() + run_summary(self.state.latest_run(self.task_id)))

    def _head(self) -> Content:
        files = len(self.record.changes)
        views = len(self.hunk_views())
        return Content.assemble(
            (f"Review {self.task_id}", "bold"),
            f" — {files} file{'s' if files != 1 else ''}, {views} hunk{'s' if views != 1 else ''}. ",
            ("space", "bold"), " toggles a hunk, ", ("enter", "bold"), " applies the accepted ones (a part ",
            "of the change is checked first), ", ("x", "bold"), " rejects the change.\n",
        )

    def hunk_views(self) -> list[HunkView]:
        return list(self.query(HunkView))

    def accepted(self) -> dict[str, set[int]]:
        out: dict[str, set[int]] = {change.path: set() for change in self.record.changes}
        for view in self.hunk_views():
            if view.accepted:
                out[view.hunk.path].add(view.hunk.index)
        return out

    def _set(self, view: HunkView, accepted: bool) -> None:
        view.accepted = accepted
        self.choices[(view.hunk.path, view.hunk.index)] = accepted

    def action_toggle(self) -> None:
        focused = self.focused
        if isinstance(focused, HunkView):
            self._set(focused, not focused.accepted)

    def action_set_all(self, accepted: bool) -> None:
        for view in self.hunk_views():
            self._set(view, accepted)

    def action_move(self, step: int) -> None:
        views = self.hunk_views()
        if not views:
            return
        focused = self.focused
        index = views.index(focused) + step if isinstance(focused, HunkView) else 0
        target = views[max(0, min(len(views) - 1, index))]
        target.focus()
        target.scroll_visible()

    def show_error(self, message: str) -> None:
        self.show_note(message)
        self.notify(message, title="Not applied", severity="error")

    def action_apply(self) -> None:
        """Apply the accepted hunks. All of them: the change as validated. Part of them: first
        check that selection as it would land (a dropped hunk can break the kept ones); if it
        fails, say how and apply only when asked again for the same selection."""
        accepted = self.accepted()
        views = self.hunk_views()
        if views and not any(accepted.values()):
            self.show_error("No hunk is accepted: press x to reject the whole change, or space to accept hunks.")
            return
        if self._checking:
            return
        if all(view.accepted for view in views):
            self._apply(None, "")
            return
        key = _frozen(accepted)
        if self._failed_selection == key:
            self._apply(accepted, " — your selection failed its checks, applied as you asked")
            return
        self._checking = True
        self.show_note("Checking your selection of hunks with the project's validators…")
        self.run_worker(self._check_then_apply(accepted, key), group="review-check", exit_on_error=False)

    async def _check_then_apply(self, accepted: dict[str, set[int]], key: frozenset[tuple[str, int]]) -> None:
        try:
            result = await self.session.validate_selection(self.task_id, accepted)
        except (PathRefused, OSError, ValueError) as exc:
            self.show_error(f"Could not check the selection: {exc}")
            return
        finally:
            self._checking = False
        await self.app.drain()  # type: ignore[attr-defined]  # the run's events into the state
        self._show_summary()
        if result.outcome == "pass":
            self._apply(accepted, " — your selection passed its checks")
            return
        self._failed_selection = key
        self.show_error(
            f"Your selection fails its checks ({result.outcome}; the whole change passed). "
            "Press enter again to apply it anyway, or change the hunks you accept."
        )

    def _apply(self, accepted: dict[str, set[int]] | None, how: str) -> None:
        try:
            applied = self.session.apply(self.task_id, accepted)
        except (ApplyConflict, PathRefused, OSError, ValueError) as exc:
            self.show_error(f"Could not apply: {exc}")
            return
        self.notify(f"{self.task_id}: applied {', '.join(applied.files) or 'nothing'}{how} (u undoes it)", title="Applied")
        self.dismiss(True)

    def show_note(self, message: str) -> None:
        """A line under the summary (the error line, without the toast)."""
        note = self.query_one("#review-error", Static)
        note.update(Content(message))
        note.add_class("-shown")

    def action_reject(self) -> None:
        try:
            self.session.reject(self.task_id)
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.notify(f"{self.task_id}: change rejected; the project is untouched", title="Rejected")
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(False)
