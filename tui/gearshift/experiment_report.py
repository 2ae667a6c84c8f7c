"""`gearshift report --by arm`: the two arms of a `[routing.experiment]` side by side.

Per arm: tasks, pass rate (tasks whose latest outcome is approved; an undone change is not),
escalation rate and mean cost per task, with the counts behind each. Whether a difference is
more than noise is decided by a two-sided test at the 95 % level: a pooled two-proportion
z-test for the two rates, Welch's z (normal approximation) for the mean cost. Below 5 tasks in
either arm nothing is tested — the report says so instead.
"""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
from typing import Any

from gearshift.config import Config
from gearshift.ledger import Ledger
from gearshift.routing.experiment import ARMS

Z_95 = 1.96
MIN_PER_ARM = 5


def latest_tasks(ledger: Ledger, session: str | None = None) -> list[Any]:
    """The latest outcome of each (session, task) — a retry, an undo supersedes what came before."""
    latest: dict[tuple[str, str], Any] = {}
    for row in ledger.tasks(session):
        latest[(row["session"], row["task_id"])] = row
    return list(latest.values())


def two_proportion_z(k1: int, n1: int, k2: int, n2: int) -> float | None:
    """z of the difference p2 − p1 under a pooled proportion; None when it is undefined."""
    if not n1 or not n2:
        return None
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0 if k1 / n1 == k2 / n2 else None
    return (k2 / n2 - k1 / n1) / se


def welch_z(a: list[float], b: list[float]) -> float | None:
    """z of mean(b) − mean(a) with unpooled variances (normal approximation)."""
    if len(a) < 2 or len(b) < 2:
        return None
    se = math.sqrt(statistics.variance(a) / len(a) + statistics.variance(b) / len(b))
    if se == 0:
        return 0.0 if statistics.fmean(a) == statistics.fmean(b) else None
    return (statistics.fmean(b) - statistics.fmean(a)) / se


def _verdict(z: float | None, enough: bool) -> str:
    if not enough:
        return f"too few tasks to test (fewer than {MIN_PER_ARM} in an arm)"
    if z is None:
        return "cannot be tested (no variation)"
    if abs(z) < Z_95:
        return f"within noise (|z| = {abs(z):.2f} < {Z_95})"
    return f"beyond noise (|z| = {abs(z):.2f} ≥ {Z_95}, 95 % two-sided)"


def arm_report(ledger: Ledger, config: Config, session: str | None = None) -> dict[str, Any]:
    rows = [r for r in latest_tasks(ledger, session) if r["arm"] in ARMS]
    experiment = config.routing.experiment
    configured = {
        "a": config.routing.complexity_threshold,
        "b": experiment.threshold if experiment is not None else None,
    }
    arms: dict[str, dict[str, Any]] = {}
    costs: dict[str, list[float]] = {}
    for arm in ARMS:
        mine = [r for r in rows if r["arm"] == arm]
        n = len(mine)
        passed = sum(r["status"] == "approved" for r in mine)
        escalated = sum(r["escalated"] for r in mine)
        costs[arm] = [r["cost_usd"] for r in mine]
        thresholds = sorted({r["threshold"] for r in mine if r["threshold"] is not None})
        arms[arm] = {
            "arm": arm,
            "threshold": thresholds[0] if len(thresholds) == 1 else configured[arm],
            "tasks": n,
            "passed": passed,
            "pass_rate": round(passed / n, 4) if n else None,
            "escalated": escalated,
            "escalation_rate": round(escalated / n, 4) if n else None,
            "cost_per_task_usd": round(statistics.fmean(costs[arm]), 6) if n else None,
            "cost_usd": round(sum(costs[arm]), 6),
        }
    a, b = arms["a"], arms["b"]
    enough = a["tasks"] >= MIN_PER_ARM and b["tasks"] >= MIN_PER_ARM
    comparisons = []
    for metric, z in (
        ("pass_rate", two_proportion_z(a["passed"], a["tasks"], b["passed"], b["tasks"])),
        ("escalation_rate", two_proportion_z(a["escalated"], a["tasks"], b["escalated"], b["tasks"])),
        ("cost_per_task_usd", welch_z(costs["a"], costs["b"])),
    ):
        diff = None if a[metric] is None or b[metric] is None else round(b[metric] - a[metric], 6)
        comparisons.append(
            {
                "metric": metric,
                "b_minus_a": diff,
                "z": None if z is None else round(z, 3),
                "within_noise": None if not enough or z is None else abs(z) < Z_95,
                "verdict": _verdict(z, enough),
            }
        )
    return {
        "by": "arm",
        "experiment": None
        if experiment is None
        else {"threshold": experiment.threshold, "share": experiment.share},
        "arms": [a, b],
        "comparisons": comparisons,
        "test": "two-proportion z-test (rates), Welch z (mean cost); 95 % two-sided",
    }


COLUMNS = (
    ("arm", "arm"),
    ("threshold", "threshold"),
    ("tasks", "tasks"),
    ("passed", "approved"),
    ("pass_rate", "pass rate"),
    ("escalated", "escalated"),
    ("escalation_rate", "escalation rate"),
    ("cost_per_task_usd", "$ per task"),
)


def arm_cell(key: str, value: Any) -> str:
    if value is None:
        return "–"
    if key.endswith("rate"):
        return f"{value * 100:.0f}%"
    if key.endswith("usd"):
        return f"{value:.4f}"
    if key == "threshold":
        return f"{value:.2f}"
    return str(value)


def format_arm_report(report: dict[str, Any], fmt: str = "table") -> str:
    if fmt == "json":
        return json.dumps(report, indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([k for k, _ in COLUMNS])
        for arm in report["arms"]:
            writer.writerow([arm[k] for k, _ in COLUMNS])
        return out.getvalue()
    table = [[t for _, t in COLUMNS]] + [[arm_cell(k, arm[k]) for k, _ in COLUMNS] for arm in report["arms"]]
    widths = [max(len(r[i]) for r in table) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if report["experiment"] is None and not any(arm["tasks"] for arm in report["arms"]):
        lines.append("no [routing.experiment] in the config and no task in the ledger has an arm")
        return "\n".join(lines)
    lines.append(comparison_lines(report))
    return "\n".join(lines)


def comparison_lines(report: dict[str, Any]) -> str:
    """b − a per metric with its verdict, and the test used — one line each."""
    names = {
        "pass_rate": "pass rate",
        "escalation_rate": "escalation rate",
        "cost_per_task_usd": "$ per task",
    }
    out = []
    for c in report["comparisons"]:
        diff = c["b_minus_a"]
        shown = (
            "–"
            if diff is None
            else (f"{diff * 100:+.0f} pts" if c["metric"].endswith("rate") else f"{diff:+.4f}")
        )
        out.append(f"b − a {names[c['metric']]}: {shown} — {c['verdict']}")
    out.append(f"test: {report['test']}")
    return "\n".join(out)
