"""The validation log: live check output, then each check's badge and findings.

Lines go into a `Log` with `max_lines` (a line-API widget with a bounded cache: the cheapest
way to show a lot of text, docs/performance.md) and are written in one `write_lines` batch per tick —
`write_line` per line starts a worker per call. Above the log, a summary of the latest run for
the selected task (or the watcher's latest run) shows a pass / fail-syntax / fail-logic badge per
check and the findings as file:line code message; a run made stale by a newer edit is shown
struck through and marked cancelled.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Log, Static

from gearshift.ui.format import BADGE_VARIABLE
from gearshift.ui.state import RunView, UIState, finding_text

LOG_LINES = 1000
SUMMARY_FINDINGS = 6


def run_summary(run: RunView | None) -> Content:
    if run is None:
        return Content.from_markup("[$text-muted]No validation yet.[/]")
    owner = f" · {run.task_id}" if run.task_id else ""
    head: list[Content | str | tuple[str, str]] = [(f"{run.run_id} {run.reason}{owner} ", "bold")]
    if run.cancelled:
        head += [("⊘ CANCELLED (stale)", "bold $text-muted strike")]
    elif run.running:
        head += [("running…", "$text-accent")]
    elif run.outcome:
        head += [(f" {run.outcome} ", f"bold reverse ${BADGE_VARIABLE.get(run.outcome, 'foreground')}")]
    parts: list[Content | str | tuple[str, str]] = [*head, "\n"]
    for name in run.checks:
        result = run.results.get(name)
        if result is None:
            style = "$text-muted strike" if run.cancelled else "$text-muted"
            parts += [(f" {name} ", style), ("…" if run.running else "–", "$text-muted"), "  "]
            continue
        variable = BADGE_VARIABLE.get(result.badge, "foreground")
        parts += [(f" {name} ", "bold"), (f" {result.badge} ", f"bold reverse ${variable}"), "  "]
    findings = run.findings or [f for r in run.results.values() for f in r.findings]
    for f in findings[:SUMMARY_FINDINGS]:
        parts += ["\n", (finding_text(f), "$text-muted" if f.get("preexisting") else "")]
    if len(findings) > SUMMARY_FINDINGS:
        parts += ["\n", (f"… {len(findings) - SUMMARY_FINDINGS} more findings in the log", "$text-muted")]
    return Content.assemble(*parts)


class ValidationPane(Vertical):
    DEFAULT_CSS = """
    ValidationPane { height: 1fr; }
    ValidationPane > #validation-summary { height: auto; max-height: 60%; padding: 0 1; border-bottom: hkey $pane-border; }
    ValidationPane > Log { height: 1fr; min-height: 2; background: $surface; scrollbar-size: 1 1; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.border_title = "Validation"
        self.task_id: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(run_summary(None), id="validation-summary")
        yield Log(max_lines=LOG_LINES, highlight=False, id="validation-log")

    @property
    def log_widget(self) -> Log:
        return self.query_one("#validation-log", Log)

    def show(self, state: UIState, task_id: str | None) -> None:
        """Switch to another task: its runs plus the watcher's, from the bounded history."""
        self.task_id = task_id
        log = self.log_widget
        log.clear()
        lines = [line for run in state.runs_for(task_id) for line in run.lines]
        if lines:
            log.write_lines(lines[-LOG_LINES:])
        self.update_summary(state)

    def append(self, state: UIState, lines: list[tuple[str, str]]) -> None:
        """New lines of this tick, filtered to the runs that belong to the shown task."""
        relevant = []
        for run_id, line in lines:
            run = state.runs.get(run_id)
            if run is not None and (run.task_id is None or run.task_id == self.task_id):
                relevant.append(line)
        if relevant:
            self.log_widget.write_lines(relevant)

    def update_summary(self, state: UIState) -> None:
        self.query_one("#validation-summary", Static).update(run_summary(state.newest_run(self.task_id)))
        # The summary may grow and shrink the log: keep its newest line in view once laid out.
        log = self.log_widget
        if log.auto_scroll:
            self.call_after_refresh(log.scroll_end, animate=False, immediate=True, x_axis=False)
