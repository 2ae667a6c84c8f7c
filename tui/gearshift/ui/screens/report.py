"""The report screen: the ledger's table, as `gearshift report` prints it, grouped four ways,
and a Tuning view with what `gearshift tune` says.

It reads `report.build_report`, `experiment_report.arm_report` and `tune.build_tune` — the CLI's
own numbers — so the app and the command line can never disagree about what was spent. Every
saving is shown beside the name of its baseline (the caption explains both).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from gearshift.config import Config
from gearshift.experiment_report import COLUMNS as ARM_COLUMNS
from gearshift.experiment_report import arm_cell, arm_report, comparison_lines
from gearshift.ledger import Ledger
from gearshift.report import (
    COLUMNS,
    baseline_legend,
    build_report,
    format_cell,
    replayed_words,
    unsettled_words,
)
from gearshift.tune import build_tune, group_rows, what_if_rows
from gearshift.ui.plots import cost_bars, score_strip


class ReportScreen(Screen[None]):
    DEFAULT_CSS = """
    ReportScreen #report-caption { height: auto; padding: 0 1; color: $text-muted; }
    ReportScreen #report-table { height: 1fr; }
    ReportScreen #report-plots { height: 1fr; display: none; }
    ReportScreen.-tuning #report-table { height: 18; }
    ReportScreen.-tuning #report-plots { display: block; }
    ReportScreen #report-plot { height: auto; padding: 0 1; }
    """
    BINDINGS = [
        Binding("m", "group('model')", "By model", id="report-by-model"),
        Binding("t", "group('tag')", "By tag", id="report-by-tag"),
        Binding("k", "group('task_type')", "By task type", id="report-by-task-type"),
        Binding("a", "group('arm')", "By A/B arm", id="report-by-arm"),
        Binding("u", "group('tuning')", "Tuning", id="report-tuning"),
        Binding("s", "toggle_scope", "Session / all", id="report-scope"),
        Binding("escape,q", "app.pop_screen", "Back", id="report-close"),
    ]

    def __init__(self, ledger: Ledger | None, config: Config) -> None:
        super().__init__()
        self.ledger = ledger
        self.config = config
        self.tags = config.cost_tracking.tags  # what "by tag" groups on
        self.by = "model"
        self.session_only = True

    def compose(self) -> ComposeResult:
        yield Header(icon="⚙")
        yield Static(id="report-caption")
        yield DataTable(cursor_type="row", zebra_stripes=True, id="report-table")
        with VerticalScroll(id="report-plots"):
            yield Static(id="report-plot")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.sub_title = "report"
        self.refresh_table()

    @property
    def _scope_words(self) -> str:
        return "this session" if self.session_only else "every session in this project's ledger"

    def refresh_table(self) -> None:
        table = self.query_one("#report-table", DataTable)
        caption = self.query_one("#report-caption", Static)
        table.clear(columns=True)
        self.set_class(self.by == "tuning", "-tuning")
        if self.ledger is None:
            caption.update("The ledger is off for this session: there is nothing to report.")
            return
        session = self.ledger.session if self.session_only else None
        if self.by == "tuning":
            self._tuning(table, caption, session)
        elif self.by == "arm":
            self._arms(table, caption, session)
        else:
            self._groups(table, caption, session)

    def _groups(self, table: DataTable, caption: Static, session: str | None) -> None:
        report = build_report(
            self.ledger,  # type: ignore[arg-type]
            by=self.by,
            session=session,
            tags=self.tags,
            escalation_label=self.config.escalation_model.label,
        )
        statuses = (
            ", ".join(f"{k} {v}" for k, v in sorted(report["task_statuses"].items())) or "no finished tasks"
        )
        latency = (
            f" Latency leaves out {replayed_words(report)}." if report["total"]["replayed_calls"] else ""
        )
        if report["total"]["unsettled_calls"]:
            latency += f" The {unsettled_words(report)}."
        legend = "\n".join(baseline_legend(report))
        caption.update(
            f"Grouped by {self.by}, {self._scope_words} — tasks: {statuses}.{latency}  "
            f"(m/t/k/a regroup, u tuning, s switches scope)\n{legend}"
        )
        for key, title in COLUMNS:
            table.add_column(title, key=key)
        for key in ("input", "output", "cache_write", "cache_read"):
            table.add_column(key.replace("_", " "), key=f"tok-{key}")
        for row in [*report["groups"], report["total"]]:
            cells = [format_cell(k, row[k]) for k, _ in COLUMNS] + [
                str(row["tokens"][t]) for t in ("input", "output", "cache_write", "cache_read")
            ]
            table.add_row(*cells, key=row["key"] if row is not report["total"] else "__total__")

    def _arms(self, table: DataTable, caption: Static, session: str | None) -> None:
        report = arm_report(self.ledger, self.config, session)  # type: ignore[arg-type]
        experiment = report["experiment"]
        setup = (
            f"[routing.experiment] threshold {experiment['threshold']:.2f}, share {experiment['share']:.2f}"
            if experiment
            else "no [routing.experiment] in the config"
        )
        caption.update(f"A/B arms, {self._scope_words} — {setup}.\n{comparison_lines(report)}")
        for key, title in ARM_COLUMNS:
            table.add_column(title, key=key)
        for arm in report["arms"]:
            table.add_row(*(arm_cell(k, arm[k]) for k, _ in ARM_COLUMNS), key=arm["arm"])

    def _tuning(self, table: DataTable, caption: Static, session: str | None) -> None:
        tune = build_tune(self.ledger, self.config, session)  # type: ignore[arg-type]
        today = tune["today"]
        plural = "" if tune["tasks"] == 1 else "s"
        head = f"Tuning, {self._scope_words}: {tune['tasks']} scored task{plural}, threshold {today['threshold']:.2f} today"
        best = tune["recommended_threshold"]
        if best is not None:
            head += f" — recommended {best:.2f} (the cheapest whose estimated pass rate is not below today's)"
        caption.update(
            "\n".join([head, f"Method: {tune['method']}.", *(f"Note: {n}." for n in tune["notes"])])
        )
        esc = tune["models"]["escalation"]
        for key, title in (
            ("threshold", "threshold"),
            ("start", f"start on {esc}"),
            ("cost", "est. session $"),
            ("escalations", "exp. escalations"),
            ("pass", "est. pass rate"),
        ):
            table.add_column(title, key=key)
        for row in what_if_rows(tune):
            table.add_row(*row, key=row[0].split(" ")[0])
        plot: list[Content | str] = [Content.from_markup("[b]Score against outcome[/b]\n")]
        plot += [score_strip(tune["points"], today["threshold"]), "\n\n"]
        plot += [Content.from_markup("[b]Estimated session cost against threshold[/b]\n")]
        plot += [cost_bars(tune["what_if"], today["threshold"], best), "\n\n"]
        plot += [
            Content.from_markup(
                "[b]Per band[/b]  (tasks, first-attempt pass on the default model, escalated, mean $ by route)\n"
            )
        ]
        plot += ["\n".join("  ".join(r) for r in group_rows(tune["bands"])) or "no scored tasks yet"]
        self.query_one("#report-plot", Static).update(Content.assemble(*plot))

    def action_group(self, by: str) -> None:
        self.by = by
        self.refresh_table()

    def action_toggle_scope(self) -> None:
        self.session_only = not self.session_only
        self.refresh_table()
