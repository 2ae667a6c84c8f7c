"""What an escalation will cost, said before the user approves it, and checked after the fact.

The forecast builds the escalation's requests the way the engine will send them — the real
payload, the real breakpoints (`CallRequest.breakpoints`) — and bills them with the prompt cache
of `request_tokens`, so the minimum cacheable length and cache reads are priced, not guessed.
What it cannot know is the stronger model's replies; it takes them from the failed attempt of
the same task (its mean reply and tool-result sizes) and assumes two turns (fix, then explain).

Once the ledger holds escalations that ran to the end, the forecast is scaled by the median of
their actual ÷ forecast ratios (same gateway mode: a replayed demo does not calibrate live runs).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from gearshift.config import ModelSpec
from gearshift.models.call import CallRequest
from gearshift.models.pricing import Usage, cost
from gearshift.models.request_tokens import PromptCache, message_blocks, part_tokens

EXPECTED_TURNS = 2
CALIBRATION_WINDOW = 20  # the most recent escalations the ratio is taken from
CALIBRATION_BOUNDS = (Decimal("0.25"), Decimal("4"))
BYTES_PER_TOKEN = 4


@dataclass(frozen=True)
class Forecast:
    model_usd: Decimal  # the simulation alone
    factor: Decimal  # ledger calibration (1 without history)
    based_on: int  # how many past escalations the factor comes from
    turns: int
    output_per_turn: int
    result_per_turn: int

    @property
    def usd(self) -> Decimal:
        return self.model_usd * self.factor


def reply_sizes(messages: list[dict[str, Any]]) -> tuple[int, int]:
    """Mean tokens of the assistant replies and of the tool results in a conversation."""
    replies = [sum(part_tokens(b) for b in message_blocks(m)) for m in messages if m["role"] == "assistant"]
    results = [
        sum(part_tokens(b) for b in message_blocks(m) if b.get("type") == "tool_result")
        for m in messages[1:]
        if m["role"] == "user"
    ]
    results = [r for r in results if r]
    return (
        round(statistics.fmean(replies)) if replies else 300,
        round(statistics.fmean(results)) if results else 0,
    )


def simulate(
    model: ModelSpec,
    *,
    tools: list[dict[str, Any]],
    system: list[dict[str, Any]],
    user: str,
    turns: int,
    output_per_turn: int,
    result_per_turn: int,
    cache_ttl: str = "5m",
) -> Decimal:
    """The cost of `turns` calls of a conversation that starts with `system` + `user`."""
    cache = PromptCache(lambda _model: model.min_cache_tokens)
    messages: list[dict[str, Any]] = [{"role": "user", "content": user}]
    total = Decimal(0)
    for turn in range(1, turns + 1):
        req = CallRequest(
            task_id="forecast",
            attempt=1,
            turn=turn,
            model=model,
            system=system,
            messages=messages,
            tools=tools,
            max_tokens=1,
            cache_ttl=cache_ttl,
        )
        params = req.params()
        body: dict[str, Any] = {"model": model.id, **{k: params[k] for k in ("system", "tools", "messages") if k in params}}
        billed = Usage.from_api({**cache.bill(body, now=0.0), "output_tokens": output_per_turn})
        total += cost(model, billed)
        reply = {"type": "text", "text": "x" * max(0, output_per_turn * BYTES_PER_TOKEN - 24)}
        result = {
            "type": "tool_result",
            "tool_use_id": f"t{turn}",
            "content": "x" * max(0, result_per_turn * BYTES_PER_TOKEN - 60),
        }
        messages = [
            *messages,
            {"role": "assistant", "content": [reply]},
            {"role": "user", "content": [result]},
        ]
    return total


def calibration(history: Iterable[dict[str, Any]], mode: str) -> tuple[Decimal, int]:
    """Median actual ÷ forecast of past finished escalations in `mode` (task summaries)."""
    ratios: list[Decimal] = []
    for summary in history:
        esc = summary.get("escalation") or {}
        raw, actual = esc.get("model_forecast_usd"), esc.get("actual_cost_usd")
        if esc.get("mode") != mode or not raw or actual is None:
            continue
        ratios.append(Decimal(str(actual)) / Decimal(str(raw)))
    ratios = ratios[-CALIBRATION_WINDOW:]
    if not ratios:
        return Decimal(1), 0
    low, high = CALIBRATION_BOUNDS
    return min(high, max(low, statistics.median(ratios))), len(ratios)


def ledger_summaries(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """The task summaries stored in the ledger's `detail` column, oldest first."""
    out = []
    for row in rows:
        try:
            out.append(json.loads(row["detail"]))
        except (ValueError, TypeError, KeyError):
            continue
    return out


def escalation_forecast(
    model: ModelSpec,
    *,
    tools: list[dict[str, Any]],
    system: list[dict[str, Any]],
    user: str,
    failed: list[dict[str, Any]],
    history: Iterable[dict[str, Any]] = (),
    mode: str = "live",
    cache_ttl: str = "5m",
) -> Forecast:
    """The escalation's forecast; `failed` is the failed attempt's conversation."""
    output, result = reply_sizes(failed)
    raw = simulate(
        model,
        tools=tools,
        system=system,
        user=user,
        turns=EXPECTED_TURNS,
        output_per_turn=output,
        result_per_turn=result,
        cache_ttl=cache_ttl,
    )
    factor, based_on = calibration(history, mode)
    return Forecast(raw, factor, based_on, EXPECTED_TURNS, output, result)
