"""`gearshift report`: what the ledger says about spend, escalations and latency.

Savings are shown against two named baselines (defined in `pipeline/metering.py`, worded once
in `baseline_names` for every place that shows them): the *same calls* priced at the
escalation model's rates, and a *naive* escalation-model pipeline (no pruning, no cache, the
same turns and output tokens). Calls booked before the naive baseline existed have no naive
figure; the report counts them and says so instead of guessing.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from gearshift.ledger import IN_FLIGHT, Ledger

GROUPINGS = ("model", "tag", "task_type", "arm")


def baseline_names(label: str) -> dict[str, str]:
    """How each baseline is named and explained wherever a saving is shown."""
    return {
        "same_calls": f"same calls at {label} prices",
        "same_calls_means": f"every token of these very calls (cache writes and reads included) at {label}'s rates",
        "naive": f"naive {label}",
        "naive_means": (
            f"{label} with no pruning (the named files and what they import directly, whole), "
            "no cache, the same turns and output tokens"
        ),
    }


@dataclass
class Group:
    key: str
    calls: int = 0
    tasks: int = 0
    escalated_tasks: int = 0
    cost_usd: float = 0.0
    escalation_equiv_usd: float = 0.0
    naive_usd: float = 0.0
    naive_missing_calls: int = 0  # booked before the naive baseline existed
    tokens: dict[str, int] = field(
        default_factory=lambda: {"input": 0, "output": 0, "cache_write": 0, "cache_read": 0}
    )
    latencies: list[float] = field(default_factory=list)
    replayed_calls: int = 0  # answered from recordings: their pace is the recording's, not the model's
    # Calls whose row was never settled (the process died mid-call): counted at their worst case.
    unsettled_calls: int = 0
    unsettled_usd: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        return {
            "key": self.key,
            "calls": self.calls,
            "tasks": self.tasks,
            "escalation_rate": round(self.escalated_tasks / self.tasks, 4) if self.tasks else None,
            "cost_usd": round(self.cost_usd, 6),
            "escalation_equiv_usd": round(self.escalation_equiv_usd, 6),
            "savings_usd": round(self.escalation_equiv_usd - self.cost_usd, 6),
            "naive_usd": None if self.naive_missing_calls else round(self.naive_usd, 6),
            "savings_vs_naive_usd": None if self.naive_missing_calls else round(self.naive_usd - self.cost_usd, 6),
            "naive_missing_calls": self.naive_missing_calls,
            "tokens": dict(self.tokens),
            "latency_p50_ms": round(_percentile(lat, 50), 1) if lat else None,
            "latency_p95_ms": round(_percentile(lat, 95), 1) if lat else None,
            "replayed_calls": self.replayed_calls,
            "unsettled_calls": self.unsettled_calls,
            "unsettled_usd": round(self.unsettled_usd, 6),
        }


def _percentile(sorted_values: list[float], pct: float) -> float:
    if len(sorted_values) == 1:
        return sorted_values[0]
    return statistics.quantiles(sorted_values, n=100, method="inclusive")[int(pct) - 1]


def _keys(row: Any, by: str, tags: tuple[str, ...] | None = None) -> list[str]:
    if by == "model":
        return [row["model"]]
    if by == "task_type":
        return [row["task_type"] or "(untagged)"]
    kept = {k: v for k, v in json.loads(row["tags"]).items() if tags is None or k in tags}
    return [f"{k}={v}" for k, v in sorted(kept.items())] or ["(untagged)"]


def build_report(
    ledger: Ledger,
    by: str = "model",
    session: str | None = None,
    tags: tuple[str, ...] | None = None,
    escalation_label: str = "the escalation model",
) -> dict[str, Any]:
    """Spend, escalation rate and latency per group. `tags` (the config's cost_tracking.tags)
    limits `by="tag"` to the tags the team reports on; None keeps every tag stored. The arms of
    a threshold experiment are compared by `experiment_report`, not here."""
    if by not in GROUPINGS or by == "arm":
        raise ValueError(f"--by must be one of {', '.join(GROUPINGS)}")
    groups: dict[str, Group] = {}
    total = Group("total")

    def group(key: str) -> Group:
        return groups.setdefault(key, Group(key))

    for row in ledger.calls(session):
        for g in (*(group(k) for k in _keys(row, by, tags)), total):
            g.calls += 1
            g.cost_usd += row["cost_usd"]
            g.escalation_equiv_usd += row["escalation_equiv_usd"]
            if row["naive_usd"] is None:
                g.naive_missing_calls += 1
            else:
                g.naive_usd += row["naive_usd"]
            g.tokens["input"] += row["input_tokens"]
            g.tokens["output"] += row["output_tokens"]
            g.tokens["cache_write"] += row["cache_write_5m_tokens"] + row["cache_write_1h_tokens"]
            g.tokens["cache_read"] += row["cache_read_tokens"]
            if row["status"] == IN_FLIGHT:
                g.unsettled_calls += 1
                g.unsettled_usd += row["cost_usd"]
            elif row["mode"] == "replay":
                g.replayed_calls += 1
            elif row["fault"] is None and row["latency_ms"] is not None:
                g.latencies.append(row["latency_ms"])

    # Task counts: by model a task counts for each model on its route; by tag/type once.
    by_task: dict[str, Any] = {}
    for row in ledger.tasks(session):
        by_task[f"{row['session']}/{row['task_id']}"] = row  # the latest outcome of each run
    for row in by_task.values():
        keys = sorted(set(json.loads(row["route"]))) if by == "model" else _keys(row, by, tags)
        for g in (*(group(k) for k in keys), total):
            g.tasks += 1
            g.escalated_tasks += row["escalated"]
    statuses: dict[str, int] = defaultdict(int)
    for row in by_task.values():
        statuses[row["status"]] += 1
    return {
        "by": by,
        "groups": [g.to_dict() for g in sorted(groups.values(), key=lambda g: -g.cost_usd)],
        "total": total.to_dict(),
        "task_statuses": dict(statuses),
        "baselines": baseline_names(escalation_label),
    }


COLUMNS = (
    ("key", "group"),
    ("calls", "calls"),
    ("tasks", "tasks"),
    ("escalation_rate", "escalated"),
    ("cost_usd", "spend $"),
    ("escalation_equiv_usd", "same calls $"),
    ("savings_usd", "saved vs same calls $"),
    ("naive_usd", "naive $"),
    ("savings_vs_naive_usd", "saved vs naive $"),
    ("latency_p50_ms", "p50 ms"),
    ("latency_p95_ms", "p95 ms"),
)


def replayed_words(report: dict[str, Any]) -> str:
    n = report["total"]["replayed_calls"]
    return f"{n} call{'' if n == 1 else 's'} replayed from recordings"


def baseline_legend(report: dict[str, Any]) -> list[str]:
    """The two baselines' names and meanings, under every table that shows a saving."""
    names = report["baselines"]
    lines = [
        f"same calls = {names['same_calls']}: {names['same_calls_means']}",
        f"naive = {names['naive']}: {names['naive_means']}",
    ]
    missing = report["total"]["naive_missing_calls"]
    if missing:
        lines.append(
            f"naive is blank where {missing} call{'' if missing == 1 else 's'} predate the naive baseline"
        )
    return lines


def unsettled_words(report: dict[str, Any]) -> str:
    n, usd = report["total"]["unsettled_calls"], report["total"]["unsettled_usd"]
    return (
        f"spend includes {n} unsettled call{'' if n == 1 else 's'} at {'its' if n == 1 else 'their'} "
        f"worst case (${usd:.4f}): its process ended mid-call, or is still running"
    )


def format_cell(key: str, value: Any) -> str:
    if value is None:
        return "–"
    if key == "escalation_rate":
        return f"{value * 100:.0f}%"
    if key.endswith("usd"):
        return f"{value:.4f}"
    if isinstance(value, float):
        return f"{value:.0f}"
    return str(value)


def format_report(report: dict[str, Any], fmt: str = "table") -> str:
    rows = [*report["groups"], report["total"]]
    if fmt == "json":
        return json.dumps(report, indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([k for k, _ in COLUMNS] + ["input", "output", "cache_write", "cache_read"])
        for r in rows:
            writer.writerow(
                [r[k] for k, _ in COLUMNS]
                + [r["tokens"][t] for t in ("input", "output", "cache_write", "cache_read")]
            )
        return out.getvalue()
    if fmt != "table":
        raise ValueError("--format must be table, json or csv")
    table = [[title for _, title in COLUMNS]] + [[format_cell(k, r[k]) for k, _ in COLUMNS] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    lines = []
    for n, row in enumerate(table):
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0 or n == len(table) - 2:
            lines.append("  ".join("-" * w for w in widths))
    if not report["groups"]:
        lines.append("(the ledger has no calls yet)")
    else:
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(report["task_statuses"].items()))
        lines.append(f"tasks: {statuses or 'none finished'}")
        if report["total"]["replayed_calls"]:
            lines.append(f"latency leaves out {replayed_words(report)}")
        lines.extend(baseline_legend(report))
        if report["total"]["unsettled_calls"]:
            lines.append(unsettled_words(report))
    return "\n".join(lines)
