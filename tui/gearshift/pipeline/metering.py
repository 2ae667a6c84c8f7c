"""The cost meter and the session budget: running totals kept in exact Decimals.

The meter is the only place that adds money up during a run; events carry its totals so every
consumer shows the same figures. The budget is a hard cap checked *before* each call against the
call's worst case, because once a request is sent its tokens are paid for.

Beside what was spent, the meter keeps two named baselines (a saving is never shown without the
name of what it is measured against):

- **same calls** at the escalation model's prices: every token of every call (cache writes and
  reads included) priced at the escalation model's rates;
- **naive**: the escalation model with no pruning and no cache, the same calls and output tokens —
  each call's input is its whole billed input (uncached + cache writes + cache reads) with the
  pruned context replaced by the naive context (`Selection.tokens_naive`: the named files and
  what they import directly, whole) when the call carried the context (an initial or correction
  attempt), all at the base input price; output at the output price. See `naive_cost`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from gearshift.config import Config, ModelSpec
from gearshift.models.pricing import Usage, cost, usd, worst_case

# Attempt kinds whose requests carry the task's selected context (in the system prefix);
# an escalation or a sign-off sends a focused payload instead.
CONTEXT_KINDS = frozenset({"initial", "correction"})


def naive_cost(escalation: ModelSpec, usage: Usage, context_delta: int) -> Decimal:
    """One call in the naive baseline: its whole input, with `context_delta` (naive context
    tokens minus the tokens of the context actually sent) added, uncached, at `escalation`'s
    base input price; its output tokens at the output price."""
    naive_input = max(usage.total_input + context_delta, 0)
    return cost(escalation, Usage(input=naive_input, output=usage.output))


class BudgetExceeded(Exception):
    def __init__(self, spent: Decimal, worst: Decimal, cap: Decimal) -> None:
        self.spent, self.worst, self.cap = spent, worst, cap
        super().__init__(
            f"session budget ${cap:.2f} would be broken: spent ${spent:.4f}, this call could cost up to "
            f"${worst:.4f} — raise cost_tracking.session_budget_usd (and start gearshift again) to continue"
        )


@dataclass
class TaskCost:
    cost: Decimal = Decimal(0)
    escalation_equiv: Decimal = Decimal(0)
    naive: Decimal = Decimal(0)
    usage: Usage = Usage()
    calls: int = 0
    latency_ms: float = 0.0
    alerted: bool = False

    def since(self, base: TaskCost) -> TaskCost:
        """What was added after `base` was taken: one run of a task that has been retried."""
        u, b = self.usage, base.usage
        return TaskCost(
            cost=self.cost - base.cost,
            escalation_equiv=self.escalation_equiv - base.escalation_equiv,
            naive=self.naive - base.naive,
            usage=Usage(
                input=u.input - b.input,
                output=u.output - b.output,
                cache_write_5m=u.cache_write_5m - b.cache_write_5m,
                cache_write_1h=u.cache_write_1h - b.cache_write_1h,
                cache_read=u.cache_read - b.cache_read,
            ),
            calls=self.calls - base.calls,
            latency_ms=self.latency_ms - base.latency_ms,
            alerted=self.alerted,
        )


class CostMeter:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.session = Decimal(0)
        self.session_equiv = Decimal(0)
        self.session_naive = Decimal(0)
        self.session_usage = Usage()
        self.by_model: dict[str, Decimal] = defaultdict(Decimal)
        self.tasks: dict[str, TaskCost] = defaultdict(TaskCost)

    @property
    def cap(self) -> Decimal | None:
        cap = self.config.cost_tracking.session_budget_usd
        return None if cap is None else Decimal(str(cap))

    def check(self, model: ModelSpec, input_tokens: int, max_tokens: int) -> Decimal:
        """The call's worst case; raises BudgetExceeded when it could break the session cap."""
        worst = worst_case(model, input_tokens, max_tokens)
        cap = self.cap
        if cap is not None and self.session + worst > cap:
            raise BudgetExceeded(self.session, worst, cap)
        return worst

    def add(
        self, task_id: str, model: ModelSpec, usage: Usage, latency_ms: float = 0.0, context_delta: int = 0
    ) -> tuple[Decimal, Decimal, Decimal]:
        """Book a finished (or failed but billed) call; returns its cost and its two baselines
        (same calls at escalation prices, naive). `context_delta` is naive minus sent context
        tokens for a call that carried the context, else 0."""
        spent = cost(model, usage)
        equiv = cost(self.config.escalation_model, usage)
        naive = naive_cost(self.config.escalation_model, usage, context_delta)
        self.session += spent
        self.session_equiv += equiv
        self.session_naive += naive
        self.session_usage = self.session_usage + usage
        self.by_model[model.id] += spent
        task = self.tasks[task_id]
        task.cost += spent
        task.escalation_equiv += equiv
        task.naive += naive
        task.usage = task.usage + usage
        task.calls += 1
        task.latency_ms += latency_ms
        return spent, equiv, naive

    def crossed_alert(self, task_id: str) -> bool:
        """True once, the first time the task's cost passes alert_threshold_per_task."""
        if not self.config.cost_tracking.enabled:
            return False
        task = self.tasks[task_id]
        threshold = Decimal(str(self.config.cost_tracking.alert_threshold_per_task))
        if not task.alerted and threshold > 0 and task.cost > threshold:
            task.alerted = True
            return True
        return False

    def snapshot(self, task_id: str) -> dict[str, object]:
        task = self.tasks[task_id]
        return {
            "task_id": task_id,
            "task_cost_usd": usd(task.cost),
            "session_cost_usd": usd(self.session),
            "by_model": {k: usd(v) for k, v in self.by_model.items()},
            "cache_read_tokens": self.session_usage.cache_read,
            "cache_write_tokens": self.session_usage.cache_write,
            "escalation_equivalent_usd": usd(self.session_equiv),
            "naive_usd": usd(self.session_naive),
        }
