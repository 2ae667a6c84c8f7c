"""The review screen: a staged change, file by file and hunk by hunk, before anything is written.

Hunks come from `edits.hunks.split_hunks`, the very split `Session.apply` uses for a partial
apply, so "hunk 2 of calc.py" here is exactly what gets written when it is accepted. Choices
are kept by the app per task, so leaving the screen and coming back loses nothing; a refused
apply (the file changed on disk since staging) is shown here and the review stays open.

The screen is given a `ChangeUnderReview` — the change and what may be done with it — not the
Session: the app builds one from the Session's commands, a test from plain values.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from gearshift.edits.apply import AppliedChange, ApplyConflict
from gearshift.edits.hunks import Hunk, split_hunks
from gearshift.edits.workspace import FileChange, PathRefused
from gearshift.ui.diffview import hunk_content
from gearshift.ui.panes.validation import run_summary
from gearshift.ui.state import RunView, finding_text
from gearshift.validation.findings import ValidationResult

Accepted = dict[str, set[int]]  # path → the indexes of its accepted hunks


@dataclass(frozen=True)
class ChangeUnderReview:
    """One task's staged change and the three things the review may do with it."""

    task_id: str
    changes: list[FileChange]
    # The task's latest validation run (the selection's, once one was checked): read when shown.
    latest_run: Callable[[], RunView | None]
    # Validate a selection of hunks as it would land; its run is in `latest_run` when it returns.
    check: Callable[[Accepted], Awaitable[ValidationResult]]
    # Write the accepted hunks (None: the whole change, as validated) into the project.
    apply: Callable[[Accepted | None], AppliedChange]
    reject: Callable[[], None]


def _frozen(accepted: Accepted) -> frozenset[tuple[str, int]]:
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

    def __init__(self, change: ChangeUnderReview, choices: dict[tuple[str, int], bool]) -> None:
        super().__init__()
        self.change = change
        self.task_id = change.task_id
        self.choices = choices  # owned by the app: (path, hunk index) → accepted
        self._checking = False  # a selection's validation is running
        self._failed_selection: frozenset[tuple[str, int]] | None = None  # checked and failed

    def compose(self) -> ComposeResult:
        yield Header(icon="⚙")
        yield Static(id="review-summary")
        yield Static(id="review-error")
        with VerticalScroll(id="hunks"):
            findings = self.change.latest_run()
            run_findings = findings.findings if findings is not None else []
            for change in self.change.changes:
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
        self.query_one("#review-summary", Static).update(self._head() + run_summary(self.change.latest_run()))

    def _head(self) -> Content:
        files = len(self.change.changes)
        views = len(self.hunk_views())
        return Content.assemble(
            (f"Review {self.task_id}", "bold"),
            f" — {files} file{'s' if files != 1 else ''}, {views} hunk{'s' if views != 1 else ''}. ",
            ("space", "bold"), " toggles a hunk, ", ("enter", "bold"), " applies the accepted ones (a part ",
            "of the change is checked first), ", ("x", "bold"), " rejects the change.\n",
        )

    def hunk_views(self) -> list[HunkView]:
        return list(self.query(HunkView))

    def accepted(self) -> Accepted:
        out: Accepted = {change.path: set() for change in self.change.changes}
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

    async def _check_then_apply(self, accepted: Accepted, key: frozenset[tuple[str, int]]) -> None:
        try:
            result = await self.change.check(accepted)
        except (PathRefused, OSError, ValueError) as exc:
            self.show_error(f"Could not check the selection: {exc}")
            return
        finally:
            self._checking = False
        self._show_summary()
        if result.outcome == "pass":
            self._apply(accepted, " — your selection passed its checks")
            return
        self._failed_selection = key
        self.show_error(
            f"Your selection fails its checks ({result.outcome}; the whole change passed). "
            "Press enter again to apply it anyway, or change the hunks you accept."
        )

    def _apply(self, accepted: Accepted | None, how: str) -> None:
        try:
            applied = self.change.apply(accepted)
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
            self.change.reject()
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.notify(f"{self.task_id}: change rejected; the project is untouched", title="Rejected")
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(False)
