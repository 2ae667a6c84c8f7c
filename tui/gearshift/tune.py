"""`gearshift tune`: what the ledger says about the complexity threshold, and what another would do.

It reads the latest outcome of every task the ledger scored (its score, scope, the rule that
routed it, and each attempt's model, outcome and cost; cancelled and over-budget tasks are left
out — they say nothing about the models) and gives

- per complexity band (0.1 wide) and per scope: tasks, the default model's first-attempt pass
  rate, the escalation rate and the mean cost by route;
- a what-if over thresholds 0.30 … 0.95 (step 0.05): how many tasks would start on the
  escalation model, the estimated session cost, the expected escalations and pass rate.

The what-if changes only tasks the threshold decided (rules `threshold` / `below-threshold`);
forced, always-escalate and latency-fallback tasks keep their recorded cost at every threshold.
A task keeps its recorded figures when a threshold leaves it where it started. One that would
move is estimated (see `METHOD`):

- default → escalation model: priced from its own escalation-model attempts when it had one
  (an escalation), else its default-model attempts' tokens re-priced at the escalation model;
  it passes if it passed, else at the escalation model's observed success rate;
- escalation → default model: its escalation attempts' tokens at default prices, plus — at the
  rate the default model was escalated in its band (the nearest band with data) — an escalation
  costing what its escalation-model attempts cost; it passes at the band's rate of passing on
  the default model alone, plus the escalated share times its own outcome.

It recommends the cheapest threshold whose estimated pass rate is not below today's (ties go to
the higher threshold: fewer tasks on the dearer model), and withholds the recommendation when the
ledger has fewer than 20 scored tasks; bands with fewer than 5 are flagged as too thin to trust.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gearshift.config import Config, ModelSpec
from gearshift.experiment_report import latest_tasks
from gearshift.ledger import Ledger
from gearshift.models.pricing import Usage, cost

THRESHOLDS = tuple(round(0.30 + 0.05 * i, 2) for i in range(14))  # 0.30 … 0.95
MIN_TASKS = 20
MIN_BAND = 5
MOVABLE_RULES = ("threshold", "below-threshold")
SUCCESS = ("approved", "undone")
# Stopped by the user or the budget, not by the models: says nothing about the threshold.
NOT_OUTCOMES = (
    "cancelled",
    "over_budget",
)  # an undone change was good enough to approve; the undo is a choice
PASSING = ("pass", "answered")

METHOD = (
    "tasks that would start on {esc} are priced from their own {esc} attempts where the ledger has one, "
    "else re-priced from their {default} tokens; tasks that would start on {default} instead cost their "
    "tokens at {default} prices plus, at their band's observed escalation rate, their {esc} attempts; "
    "pass rates follow the same rates; other tasks keep their recorded figures"
)


@dataclass
class TaskFacts:
    """One task as tune reads it from its latest ledger row."""

    task_id: str
    score: float
    scope: str
    rule: str
    status: str
    escalated: bool
    cost: float
    started: str  # the model of the first attempt
    first_outcome: str | None
    attempts: list[dict[str, Any]]

    @property
    def success(self) -> bool:
        return self.status in SUCCESS

    @property
    def band(self) -> float:
        return min(int(round(self.score * 100)) // 10, 9) / 10

    def attempts_on(self, model_id: str) -> list[dict[str, Any]]:
        """Attempts that wrote code on `model_id` (a sign-off writes none)."""
        return [a for a in self.attempts if a["model"] == model_id and a["kind"] != "signoff"]


def _usage(attempts: list[dict[str, Any]], cache_ttl: str) -> Usage:
    """The attempts' tokens; cache writes at the configured TTL (the log keeps their total)."""
    written = sum(a["cache_write"] for a in attempts)
    return Usage(
        input=sum(a["input"] for a in attempts),
        output=sum(a["output"] for a in attempts),
        cache_write_5m=0 if cache_ttl == "1h" else written,
        cache_write_1h=written if cache_ttl == "1h" else 0,
        cache_read=sum(a["cache_read"] for a in attempts),
    )


def read_facts(ledger: Ledger, session: str | None = None) -> list[TaskFacts]:
    facts = []
    for row in latest_tasks(ledger, session):
        if row["score"] is None or not row["attempt_log"] or row["status"] in NOT_OUTCOMES:
            continue  # booked before tune's columns existed, never reached a model, or stopped by you
        attempts = json.loads(row["attempt_log"])
        if not attempts:
            continue
        facts.append(
            TaskFacts(
                task_id=row["task_id"],
                score=float(row["score"]),
                scope=row["scope"] or "(unknown)",
                rule=row["rule"] or "",
                status=row["status"],
                escalated=bool(row["escalated"]),
                cost=float(row["cost_usd"]),
                started=attempts[0]["model"],
                first_outcome=row["first_outcome"],
                attempts=attempts,
            )
        )
    return facts


def _rate(hits: int, n: int) -> float | None:
    return round(hits / n, 4) if n else None


def group_stats(
    tasks: list[TaskFacts], default: ModelSpec, label: Any, names: dict[str, str] | None = None
) -> dict[str, Any]:
    """Tasks, first-attempt pass rate on the default model, escalation rate, mean cost by route
    (the route named with the catalogue's labels)."""
    names = names or {}
    on_default = [t for t in tasks if t.started == default.id]
    by_route: dict[str, list[float]] = {}
    for t in tasks:
        models = dict.fromkeys(a["model"] for a in t.attempts if a["kind"] != "signoff")
        route = " → ".join(names.get(m, m) for m in models)
        by_route.setdefault(route, []).append(t.cost)
    return {
        "key": label,
        "tasks": len(tasks),
        "thin": len(tasks) < MIN_BAND,
        "started_on_default": len(on_default),
        "first_attempt_pass_rate": _rate(
            sum(t.first_outcome in PASSING for t in on_default), len(on_default)
        ),
        "escalation_rate": _rate(sum(t.escalated for t in tasks), len(tasks)),
        "pass_rate": _rate(sum(t.success for t in tasks), len(tasks)),
        "mean_cost_by_route": {r: round(sum(c) / len(c), 6) for r, c in sorted(by_route.items())},
    }


class Estimator:
    """The what-if arithmetic for one ledger (see the module docstring)."""

    def __init__(
        self, tasks: list[TaskFacts], default: ModelSpec, escalation: ModelSpec, cache_ttl: str = "5m"
    ) -> None:
        self.tasks, self.default, self.escalation = tasks, default, escalation
        self.cache_ttl = cache_ttl
        # How the default model fared per band where it was tried: (passed alone, escalated, tasks).
        self.default_outcomes: dict[float, tuple[int, int, int]] = {}
        for t in tasks:
            if t.started == default.id and t.rule in MOVABLE_RULES:
                alone, escalated, n = self.default_outcomes.get(t.band, (0, 0, 0))
                self.default_outcomes[t.band] = (
                    alone + (t.success and not t.escalated),
                    escalated + t.escalated,
                    n + 1,
                )
        tried = [t for t in tasks if t.attempts_on(escalation.id)]
        self.escalation_success = sum(t.success for t in tried) / len(tried) if tried else 1.0

    def _repriced(self, attempts: list[dict[str, Any]], model: ModelSpec) -> float:
        return float(cost(model, _usage(attempts, self.cache_ttl)))

    def default_rates(self, band: float) -> tuple[float, float]:
        """(passes alone, is escalated) for the default model in `band`, else in the nearest band
        with data; with no data at all it is assumed to fail and be escalated."""
        if not self.default_outcomes:
            return 0.0, 1.0
        nearest = min(self.default_outcomes, key=lambda b: (abs(b - band), b))
        alone, escalated, n = self.default_outcomes[nearest]
        return alone / n, escalated / n

    def task(self, t: TaskFacts, threshold: float) -> tuple[float, float, float, bool]:
        """(cost, pass probability, expected escalations, starts on the escalation model)."""
        recorded = (t.cost, float(t.success), float(t.escalated))
        if t.rule not in MOVABLE_RULES:
            return (*recorded, t.started == self.escalation.id)
        on_escalation = t.score >= threshold
        if on_escalation == (t.started == self.escalation.id):
            return (*recorded, on_escalation)
        own = t.attempts_on(self.escalation.id)
        if on_escalation:  # started on the default model; would start on the escalation model
            if own:
                return sum(a["cost_usd"] for a in own), float(t.success), 0.0, True
            guess = 1.0 if t.success else self.escalation_success
            return self._repriced(t.attempts_on(self.default.id), self.escalation), guess, 0.0, True
        # started on the escalation model; would start on the default model, which passes alone,
        # is escalated (and then does as this task did), or fails for good, at its band's rates
        alone, escalated = self.default_rates(t.band)
        first = self._repriced(own, self.default)
        escalation_cost = sum(a["cost_usd"] for a in own)
        return first + escalated * escalation_cost, alone + escalated * float(t.success), escalated, False

    def at(self, threshold: float) -> dict[str, Any]:
        rows = [self.task(t, threshold) for t in self.tasks]
        n = len(rows)
        return {
            "threshold": threshold,
            "start_on_escalation": sum(r[3] for r in rows),
            "estimated_cost_usd": round(sum(r[0] for r in rows), 6),
            "expected_escalations": round(sum(r[2] for r in rows), 2),
            "estimated_pass_rate": round(sum(r[1] for r in rows) / n, 4) if n else None,
        }


def build_tune(ledger: Ledger, config: Config, session: str | None = None) -> dict[str, Any]:
    default, escalation = config.default_model, config.escalation_model
    tasks = read_facts(ledger, session)
    bands = sorted({t.band for t in tasks})
    scopes = sorted({t.scope for t in tasks})
    estimator = Estimator(tasks, default, escalation, config.session.cache_ttl)
    names = {m.id: m.label for m in config.models.values()}
    what_if = [estimator.at(th) for th in THRESHOLDS]
    today = {
        "threshold": config.routing.complexity_threshold,
        "cost_usd": round(sum(t.cost for t in tasks), 6),
        "pass_rate": _rate(sum(t.success for t in tasks), len(tasks)),
        "escalations": sum(t.escalated for t in tasks),
    }
    notes = []
    thin = [f"{b:.1f}" for b in bands if sum(t.band == b for t in tasks) < MIN_BAND]
    recommended = None
    if len(tasks) < MIN_TASKS:
        notes.append(
            f"too few tasks to recommend a threshold: {len(tasks)} scored in the ledger, at least {MIN_TASKS} needed"
        )
    elif today["pass_rate"] is not None:
        good = [w for w in what_if if w["estimated_pass_rate"] >= today["pass_rate"] - 1e-9]
        if good:
            best = min(good, key=lambda w: (w["estimated_cost_usd"], -w["threshold"]))
            recommended = best["threshold"]
        else:
            notes.append("no threshold keeps today's pass rate in this estimate")
    if thin:
        notes.append(
            f"bands with fewer than {MIN_BAND} tasks (estimates there are guesses): {', '.join(thin)}"
        )
    return {
        "tasks": len(tasks),
        "models": {"default": default.label, "escalation": escalation.label},
        "bands": [
            group_stats([t for t in tasks if t.band == b], default, f"{b:.1f}–{b + 0.1:.1f}", names)
            for b in bands
        ],
        "scopes": [group_stats([t for t in tasks if t.scope == s], default, s, names) for s in scopes],
        "today": today,
        "what_if": what_if,
        "recommended_threshold": recommended,
        "method": METHOD.format(esc=escalation.label, default=default.label),
        "notes": notes,
        "points": [{"score": t.score, "success": t.success, "escalated": t.escalated} for t in tasks],
    }


# -- output ----------------------------------------------------------------------------------


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v * 100:.0f}%"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )

    return [line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]


def group_rows(groups: list[dict[str, Any]]) -> list[list[str]]:
    return [
        [
            g["key"] + (" (thin)" if g["thin"] else ""),
            str(g["tasks"]),
            _pct(g["first_attempt_pass_rate"]),
            _pct(g["escalation_rate"]),
            "; ".join(f"{r} ${c:.4f}" for r, c in g["mean_cost_by_route"].items()),
        ]
        for g in groups
    ]


def what_if_rows(tune: dict[str, Any]) -> list[list[str]]:
    today, best = tune["today"]["threshold"], tune["recommended_threshold"]
    out = []
    for w in tune["what_if"]:
        mark = " ← today" if abs(w["threshold"] - today) < 1e-9 else ""
        mark += " ← recommended" if best is not None and abs(w["threshold"] - best) < 1e-9 else ""
        out.append(
            [
                f"{w['threshold']:.2f}{mark}",
                str(w["start_on_escalation"]),
                f"{w['estimated_cost_usd']:.4f}",
                f"{w['expected_escalations']:.1f}",
                _pct(w["estimated_pass_rate"]),
            ]
        )
    return out


def format_tune(tune: dict[str, Any], fmt: str = "table") -> str:
    if fmt == "json":
        return json.dumps(tune, indent=2)
    esc, default = tune["models"]["escalation"], tune["models"]["default"]
    group_header = ["band", "tasks", f"1st-attempt pass on {default}", "escalated", "mean $ by route"]
    what_header = ["threshold", f"start on {esc}", "est. session $", "exp. escalations", "est. pass rate"]
    if fmt == "csv":
        import csv
        import io

        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["section", *what_header])
        for r in what_if_rows(tune):
            writer.writerow(["what_if", r[0].split(" ")[0], *r[1:]])
        writer.writerow(["section", *group_header])
        for section in ("bands", "scopes"):
            for r in group_rows(tune[section]):
                writer.writerow([section, *r])
        return out.getvalue()
    if not tune["tasks"]:
        return "the ledger has no scored tasks yet — run some tasks first"
    today = tune["today"]
    lines = [
        f"{tune['tasks']} scored tasks; today: threshold {today['threshold']:.2f}, ${today['cost_usd']:.4f}, "
        f"pass rate {_pct(today['pass_rate'])}, {today['escalations']} escalation{'' if today['escalations'] == 1 else 's'}",
        "",
    ]
    lines += _table(group_header, group_rows(tune["bands"])) + [""]
    lines += _table(["scope", *group_header[1:]], group_rows(tune["scopes"])) + [""]
    lines += _table(what_header, what_if_rows(tune)) + [""]
    best = tune["recommended_threshold"]
    if best is not None:
        lines.append(
            f"recommended: complexity_threshold = {best:.2f} (the cheapest whose estimated pass rate is not below today's)"
        )
    lines.append(f"method: {tune['method']}")
    lines += [f"note: {n}" for n in tune["notes"]]
    return "\n".join(lines)
