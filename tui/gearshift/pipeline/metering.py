"""The cost meter and the budgets: running totals kept in exact Decimals.

The meter is the only place that adds money up during a run; events carry its totals so every
consumer shows the same figures. The budgets (per session, and per local day across processes)
are hard caps checked *before* each call against the call's worst case, because once a request
is sent its tokens are paid for. Calls in flight hold their worst case until they are booked, so
two calls cannot both fit in the same remainder. When the remainder cannot cover the configured
max_tokens, the call is sent with fewer (down to MIN_MAX_TOKENS) rather than refused or allowed
to overshoot.

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

import json
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from gearshift.config import Config, ModelSpec
from gearshift.models.pricing import MTOK, Usage, cost, usd, worst_case
from gearshift.models.request_tokens import TOOL_SYSTEM_TOKENS, TOOL_USE_SYSTEM_TOKENS

# Below this many output tokens an answer is rarely of use (an edit needs room): refuse instead.
MIN_MAX_TOKENS = 1024
# Input the API adds that the request's JSON does not show (Anthropic's tool-use pricing table):
# the tool-use system prompt and the text editor tool's own 700 tokens.
TEXT_EDITOR_TOKENS = TOOL_SYSTEM_TOKENS["text_editor_20250728"]
# The conservative rule for a request's input: at most one token per 2 bytes of its UTF-8 JSON
# (code and English run at 3-4 characters a token; even dense non-Latin text or random
# identifiers stay above 2 bytes a token), plus the tool overheads above, plus a 10 % margin
# and 64 tokens for the message framing. The ledger always books the real counts afterwards.
BYTES_PER_TOKEN_FLOOR = 2
MARGIN_PERCENT = 10
FRAMING_TOKENS = 64


def input_tokens_bound(
    system: list[dict[str, Any]], messages: list[dict[str, Any]], tools: list[dict[str, Any]]
) -> int:
    """An upper bound of the input tokens a request is billed for, by the rule stated above."""
    body = json.dumps([system, messages, tools], ensure_ascii=False)
    size = len(body.encode("utf-8", "surrogatepass"))
    tokens = math.ceil(size / BYTES_PER_TOKEN_FLOOR)
    if tools:
        tokens += TOOL_USE_SYSTEM_TOKENS
    if any(str(t.get("type", "")).startswith("text_editor") for t in tools):
        tokens += TEXT_EDITOR_TOKENS
    return math.ceil(tokens * (100 + MARGIN_PERCENT) / 100) + FRAMING_TOKENS


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
    def __init__(
        self,
        spent: Decimal,
        worst: Decimal,
        cap: Decimal,
        which: str = "session",
        floor: int = MIN_MAX_TOKENS,
    ) -> None:
        self.spent, self.worst, self.cap, self.which = spent, worst, cap, which
        if which == "daily":
            advice = "raise cost_tracking.daily_budget_usd or wait for tomorrow (local time) to continue"
            what = "today's budget"
        else:
            advice = "raise cost_tracking.session_budget_usd (and start gearshift again) to continue"
            what = "session budget"
        super().__init__(
            f"{what} ${cap:.2f} would be broken: spent ${spent:.4f}, this call could cost up to "
            f"${worst:.4f} even with max_tokens at {floor} — {advice}"
        )


@dataclass(frozen=True)
class Allowance:
    """What a call may do: its (possibly lowered) max_tokens and the worst case that reserves."""

    max_tokens: int
    worst: Decimal
    input_tokens: int  # the upper bound the worst case was priced with


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
    def __init__(self, config: Config, spent_today: Callable[[], Decimal] | None = None) -> None:
        """`spent_today` reads what every process booked today (the ledger, in-flight rows at
        their worst case); without it the daily budget counts this session only."""
        self.config = config
        self._spent_today = spent_today
        self.reserved = Decimal(0)  # worst cases of the calls in flight, not yet booked
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

    @property
    def daily_cap(self) -> Decimal | None:
        cap = self.config.cost_tracking.daily_budget_usd
        return None if cap is None else Decimal(str(cap))

    def _limits(self) -> list[tuple[str, Decimal, Decimal]]:
        """(which, spent including calls in flight, cap) for every budget that is set."""
        limits = []
        if self.cap is not None:
            limits.append(("session", self.session + self.reserved, self.cap))
        if self.daily_cap is not None:
            today = self._spent_today() if self._spent_today is not None else self.session + self.reserved
            limits.append(("daily", today, self.daily_cap))
        return limits

    def reserve(self, model: ModelSpec, input_tokens: int, max_tokens: int) -> Allowance:
        """Admit a call or raise BudgetExceeded. `input_tokens` must be an upper bound.

        The call may use at most what is left of the tightest budget; if that cannot cover
        `max_tokens` of output the allowance lowers it, and below MIN_MAX_TOKENS the call is
        refused. The worst case is held in `reserved` until `add` or `release` books the call.
        """
        allowed = max_tokens
        for which, spent, cap in self._limits():
            room = cap - spent - worst_case(model, input_tokens, 0)
            if model.output_per_mtok > 0:
                fits = math.floor(max(room, Decimal(0)) * MTOK / model.output_per_mtok)
            else:
                fits = allowed if room >= 0 else -1
            floor = min(allowed, MIN_MAX_TOKENS)
            if fits < floor:
                raise BudgetExceeded(spent, worst_case(model, input_tokens, floor), cap, which, floor)
            allowed = min(allowed, fits)
        worst = worst_case(model, input_tokens, allowed)
        self.reserved += worst
        return Allowance(allowed, worst, input_tokens)

    def release(self, allowance: Allowance) -> None:
        """The call has ended (booked or not): its worst case no longer holds budget."""
        self.reserved -= allowance.worst

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
