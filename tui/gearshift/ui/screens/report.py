"""The report screen: the ledger's table, as `gearshift report` prints it, grouped three ways.

It reads `report.build_report` — the CLI's own numbers — so the app and the command line can
never disagree about what was spent.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from gearshift.ledger import Ledger
from gearshift.report import COLUMNS, build_report, format_cell, replayed_words


class ReportScreen(Screen[None]):
    DEFAULT_CSS = """
    ReportScreen #report-caption { height: auto; padding: 0 1; color: $text-muted; }
    ReportScreen DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("m", "group('model')", "By model", id="report-by-model"),
        Binding("t", "group('tag')", "By tag", id="report-by-tag"),
        Binding("k", "group('task_type')", "By task type", id="report-by-task-type"),
        Binding("s", "toggle_scope", "Session / all", id="report-scope"),
        Binding("escape,q", "app.pop_screen", "Back", id="report-close"),
    ]

    def __init__(self, ledger: Ledger | None, tags: tuple[str, ...] | None = None) -> None:
        super().__init__()
        self.ledger = ledger
        self.tags = tags  # cost_tracking.tags: what "by tag" groups on
        self.by = "model"
        self.session_only = True

    def compose(self) -> ComposeResult:
        yield Header(icon="⚙")
        yield Static(id="report-caption")
        yield DataTable(cursor_type="row", zebra_stripes=True, id="report-table")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "report"
        self.refresh_table()

    def refresh_table(self) -> None:
        table = self.query_one("#report-table", DataTable)
        caption = self.query_one("#report-caption", Static)
        table.clear(columns=True)
        if self.ledger is None:
            caption.update("The ledger is off for this session: there is nothing to report.")
            return
        report = build_report(
            self.ledger,
            by=self.by,
            session=self.ledger.session if self.session_only else None,
            tags=self.tags,
        )
        scope = "this session" if self.session_only else "every session in this project's ledger"
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(report["task_statuses"].items())) or "no finished tasks"
        latency = f" Latency leaves out {replayed_words(report)}." if report["total"]["replayed_calls"] else ""
        caption.update(f"Grouped by {self.by}, {scope} — tasks: {statuses}.{latency}  (m/t/k regroup, s switches scope)")
        for key, title in COLUMNS:
            table.add_column(title, key=key)
        for key in ("input", "output", "cache_write", "cache_read"):
            table.add_column(key.replace("_", " "), key=f"tok-{key}")
        rows = [*report["groups"], report["total"]]
        for row in rows:
            cells = [format_cell(k, row[k]) for k, _ in COLUMNS] + [str(row["tokens"][t]) for t in ("input", "output", "cache_write", "cache_read")]
            table.add_row(*cells, key=row["key"] if row is not report["total"] else "__total__")

    def action_group(self, by: str) -> None:
        self.by = by
        self.refresh_table()

    def action_toggle_scope(self) -> None:
        self.session_only = not self.session_only
        self.refresh_table()
