"""The cost meter: this task, the session, per model, cache traffic, savings, gauges, spend plot.

Savings are shown against both named baselines, each with its name: the same calls at the
escalation model's prices, and the naive escalation model (no pruning, no cache).

Figures are the engine's (CostUpdated carries the meter's totals), never re-added here. The
per-task alert threshold and the session budget are gauges that turn the warning colour once
crossed; spend per call over time is a Sparkline of the last samples.
"""

from __future__ import annotations

from rich.style import Style
from textual.app import ComposeResult, RenderResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.renderables.bar import Bar as BarRenderable
from textual.widget import Widget
from textual.widgets import Label, Sparkline, Static

from gearshift.config import Config
from gearshift.ui.format import model_label, money, tier_variable, tokens
from gearshift.ui.state import TaskView, UIState

COMPACT_WIDTH = 100  # the terminal's size below which the meter takes two lines
COMPACT_HEIGHT = 30


class GaugeBar(Widget):
    """A bar filled to `fraction`, drawn from the width it has when it is painted.

    Textual's ProgressBar rounds its percentage to the width the bar had when the value was set,
    so the same value could be drawn half a cell apart depending on whether layout had settled:
    a gauge must look the same for the same figures."""

    COMPONENT_CLASSES = {"gauge-bar--done"}
    DEFAULT_CSS = "GaugeBar { height: 1; }"
    fraction: reactive[float] = reactive(0.0)

    def render(self) -> RenderResult:
        style = self.get_component_rich_style("gauge-bar--done")
        return BarRenderable(
            highlight_range=(0, self.size.width * max(0.0, min(1.0, self.fraction))),
            highlight_style=Style.from_color(style.color),
            background_style=Style.from_color(style.bgcolor),
        )


class CostPane(Vertical):
    DEFAULT_CSS = """
    CostPane { height: auto; padding: 0 1; }
    CostPane > #cost-figures { height: auto; }
    CostPane .gauge { height: 1; }
    CostPane .gauge > Label { width: 7; color: $text-muted; }
    CostPane .gauge > GaugeBar { width: 1fr; min-width: 6; }
    CostPane .gauge > GaugeBar > .gauge-bar--done { color: $cost-ok; background: $surface; }
    CostPane .gauge.-crossed > GaugeBar > .gauge-bar--done { color: $cost-warning; }
    CostPane .gauge > .gauge-label { width: auto; color: $text-muted; }
    CostPane .gauge.-crossed > .gauge-label { color: $cost-warning; text-style: bold; }
    CostPane > #gauges { height: auto; }
    CostPane > #cost-savings { height: auto; display: none; }
    CostPane.-compact > #gauges { layout: horizontal; height: 1; }
    CostPane.-compact .gauge { width: 1fr; margin-right: 1; }
    CostPane.-compact .gauge > Label { width: auto; margin-right: 1; }
    CostPane.-compact .gauge > .gauge-label { display: none; }
    CostPane.-compact > #spend-gauge { display: none; }
    CostPane Sparkline { height: 1; width: 1fr; }
    CostPane Sparkline > .sparkline--max-color { color: $cost-warning; }
    CostPane Sparkline > .sparkline--min-color { color: $cost-ok; }
    """

    def __init__(self, config: Config, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.config = config
        self.border_title = "Cost"
        # "naive" explained where it is shown, without taking a row from the gauges
        self.border_subtitle = "naive: no pruning, no cache"
        self._shown: tuple[UIState, TaskView | None] | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="cost-figures")
        with Vertical(id="gauges"):
            for name in ("alert", "budget"):
                with Horizontal(classes="gauge", id=f"{name}-gauge"):
                    yield Label(name)
                    yield GaugeBar(id=f"{name}-bar")
                    yield Static(classes="gauge-label", id=f"{name}-label")
        yield Static(id="cost-savings")  # only at 80x24: the savings below the gauges
        with Horizontal(classes="gauge", id="spend-gauge"):
            yield Label("spend")
            yield Sparkline([], summary_function=max, id="spend-plot")

    def on_resize(self) -> None:
        if self._shown is not None:
            self.show(*self._shown)

    @property
    def compact(self) -> bool:
        """A small terminal (80×24) gets two lines: the totals and savings, then the gauges."""
        return self.app.size.width < COMPACT_WIDTH or self.app.size.height < COMPACT_HEIGHT

    def show(self, state: UIState, t: TaskView | None) -> None:
        self._shown = (state, t)
        compact = self.compact
        self.set_class(compact, "-compact")
        ct = self.config.cost_tracking
        task_cost = t.cost if t is not None else 0.0
        Part = Content | str | tuple[str, str]
        lines: list[list[Part]] = [["task ", (money(task_cost), "bold"), "  session ", (money(state.session_cost), "bold")]]
        models = sorted(state.by_model.items(), key=lambda kv: -kv[1])
        if models:
            line: list[Part] = []
            for i, (model_id, spent) in enumerate(models):
                line += ["  " if i else "", (model_label(self.config, model_id), f"${tier_variable(self.config, model_id)}"), f" {money(spent)}"]
            lines.append(line)
        lines.append([f"cache {tokens(state.cache_read_tokens)} read · {tokens(state.cache_write_tokens)} written"])
        escalation = self.config.escalation_model.label
        # Each saving names its baseline (report.baseline_names words them for the report).
        baselines = (
            (state.savings, f"same calls at {escalation} prices"),
            (state.savings_vs_naive, f"naive {escalation}"),
        )
        savings: list[list[Part]] = [
            ["saved " if saved >= 0 else "over ", (money(abs(saved)), "bold $outcome-pass" if saved > 0 else "bold"), f" vs {name}"]
            for saved, name in baselines
        ]
        if compact:  # the totals, then the gauges (in the next row), then the savings below them;
            cap = ct.session_budget_usd  # the gauges hide their numbers: the session names its cap
            lines = [[*lines[0], *([f"/{money(cap)}"] if cap is not None else [])]]
        else:
            lines += savings
        self.query_one("#cost-figures", Static).update(_assemble(lines))
        savings_pane = self.query_one("#cost-savings", Static)
        savings_pane.display = compact
        savings_pane.update(_assemble(savings) if compact else "")

        threshold = ct.alert_threshold_per_task
        alerted = t is not None and (t.alerted or (threshold > 0 and t.cost > threshold))
        self._gauge("alert", task_cost, threshold if threshold > 0 else None, alerted, "per task")
        cap = ct.session_budget_usd
        crossed = state.budget_blocked or (cap is not None and state.session_cost >= cap)
        self._gauge("budget", state.session_cost, cap, crossed, "session")
        self.query_one("#spend-gauge").display = bool(state.spend)
        # All $0 (replays of free calls, cache hits): an empty plot, not a full bar of nothing.
        self.query_one("#spend-plot", Sparkline).data = list(state.spend) if any(state.spend) else []

    def _gauge(self, name: str, value: float, limit: float | None, crossed: bool, what: str) -> None:
        gauge = self.query_one(f"#{name}-gauge", Horizontal)
        label = self.query_one(f"#{name}-label", Static)
        bar = self.query_one(f"#{name}-bar", GaugeBar)
        gauge.set_class(crossed, "-crossed")
        if limit is None:
            bar.fraction = 0.0
            label.update(f" no {what} limit")
            return
        bar.fraction = min(value, limit) / limit if limit else 1.0
        mark = " ⚠" if crossed else ""
        label.update(f" {money(value)}/{money(limit)}{mark}")


def _assemble(lines: list[list[Content | str | tuple[str, str]]]) -> Content:
    parts: list[Content | str | tuple[str, str]] = []
    for i, line in enumerate(lines):
        parts += [*(["\n"] if i else []), *line]
    return Content.assemble(*parts)
