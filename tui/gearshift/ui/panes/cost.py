"""The cost meter: this task, the session, per model, cache traffic, savings, gauges, spend plot.

Savings are shown against both named baselines, each with its name: the same calls at the
escalation model's prices, and the naive escalation model (no pruning, no cache).

Figures are the engine's (CostUpdated carries the meter's totals), never re-added here. The
per-task alert threshold and the session budget are gauges that turn the warning colour once
crossed; spend per call over time is a Sparkline of the last samples.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Label, ProgressBar, Sparkline, Static

from gearshift.config import Config
from gearshift.ui.format import model_label, money, tier_variable, tokens
from gearshift.ui.state import TaskView, UIState


class CostMeter(Vertical):
    DEFAULT_CSS = """
    CostMeter { height: auto; padding: 0 1; }
    CostMeter > #cost-figures { height: auto; }
    CostMeter .gauge { height: 1; }
    CostMeter .gauge > Label { width: 7; color: $text-muted; }
    CostMeter .gauge > ProgressBar { width: 1fr; min-width: 6; }
    CostMeter .gauge ProgressBar Bar { width: 1fr; }
    CostMeter .gauge ProgressBar Bar > .bar--bar { color: $cost-ok; }
    CostMeter .gauge.-crossed ProgressBar Bar > .bar--bar { color: $cost-warning; }
    CostMeter .gauge.-crossed ProgressBar Bar > .bar--complete { color: $cost-warning; }
    CostMeter .gauge > .gauge-label { width: auto; color: $text-muted; }
    CostMeter .gauge.-crossed > .gauge-label { color: $cost-warning; text-style: bold; }
    CostMeter Sparkline { height: 1; width: 1fr; }
    CostMeter Sparkline > .sparkline--max-color { color: $cost-warning; }
    CostMeter Sparkline > .sparkline--min-color { color: $cost-ok; }
    """

    def __init__(self, config: Config, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.config = config
        self.border_title = "Cost"
        # "naive" explained where it is shown, without taking a row from the gauges
        self.border_subtitle = "naive: no pruning, no cache"

    def compose(self) -> ComposeResult:
        yield Static(id="cost-figures")
        for name in ("alert", "budget"):
            with Horizontal(classes="gauge", id=f"{name}-gauge"):
                yield Label(name)
                yield ProgressBar(total=1.0, show_eta=False, show_percentage=False, id=f"{name}-bar")
                yield Static(classes="gauge-label", id=f"{name}-label")
        with Horizontal(classes="gauge", id="spend-gauge"):
            yield Label("spend")
            yield Sparkline([], summary_function=max, id="spend-plot")

    def show(self, state: UIState, t: TaskView | None) -> None:
        ct = self.config.cost_tracking
        task_cost = t.cost if t is not None else 0.0
        parts: list[Content | str | tuple[str, str]] = [
            "task ", (money(task_cost), "bold"), "  session ", (money(state.session_cost), "bold"), "\n",
        ]
        models = sorted(state.by_model.items(), key=lambda kv: -kv[1])
        for i, (model_id, spent) in enumerate(models):
            parts += ["  " if i else "", (model_label(self.config, model_id), f"${tier_variable(self.config, model_id)}"), f" {money(spent)}"]
        if models:
            parts.append("\n")
        parts += [f"cache {tokens(state.cache_read_tokens)} read · {tokens(state.cache_write_tokens)} written\n"]
        escalation = self.config.escalation_model.label
        # Each saving names its baseline (report.baseline_names words them for the report).
        baselines = (
            (state.savings, f"same calls at {escalation} prices"),
            (state.savings_vs_naive, f"naive {escalation}"),
        )
        for i, (saved, name) in enumerate(baselines):
            parts += [
                "\n" if i else "",
                "saved " if saved >= 0 else "over ",
                (money(abs(saved)), "bold $outcome-pass" if saved > 0 else "bold"),
                f" vs {name}",
            ]
        self.query_one("#cost-figures", Static).update(Content.assemble(*parts))

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
        bar = self.query_one(f"#{name}-bar", ProgressBar)
        gauge.set_class(crossed, "-crossed")
        if limit is None:
            bar.update(total=1.0, progress=0.0)
            label.update(f" no {what} limit")
            return
        bar.update(total=limit, progress=min(value, limit))
        mark = " ⚠" if crossed else ""
        label.update(f" {money(value)}/{money(limit)}{mark}")
