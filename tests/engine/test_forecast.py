"""The escalation forecast: its cache-aware simulation and its calibration from the ledger."""

from __future__ import annotations

from decimal import Decimal

from gearshift.models.pricing import Usage, cost
from gearshift.models.request_tokens import part_tokens
from gearshift.pipeline.forecast import calibration, escalation_forecast, reply_sizes, simulate

from tests.support import model_spec

OPUS = model_spec("opus-4-7")
EDITOR = {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"}


def past(raw: float, actual: float, mode: str = "live") -> dict:
    return {"escalation": {"model_forecast_usd": raw, "actual_cost_usd": actual, "mode": mode}}


def test_calibration_is_the_median_ratio_of_the_same_mode() -> None:
    assert calibration([], "live") == (Decimal(1), 0)
    history = [past(0.10, 0.05), past(0.10, 0.07), past(0.10, 0.30), past(0.10, 0.90, mode="replay")]
    factor, n = calibration(history, "live")
    assert n == 3 and factor == Decimal("0.7")
    # A declined or unfinished escalation (no actual) teaches nothing; a wild ratio is bounded.
    assert calibration([{"escalation": {"model_forecast_usd": 0.1, "mode": "live"}}], "live")[1] == 0
    assert calibration([past(0.01, 1.0)], "live")[0] == Decimal(4)


def test_small_payload_is_priced_without_cache_on_opus() -> None:
    """Under Opus's 4,096-token minimum nothing is cached: every turn pays full input."""
    system = [{"type": "text", "text": "fix it " * 100}]
    one = simulate(
        OPUS, tools=[EDITOR], system=system, user="go", turns=1, output_per_turn=200, result_per_turn=0
    )
    prompt = part_tokens(EDITOR) + part_tokens(system[0]) + part_tokens({"type": "text", "text": "go"})
    assert prompt < 4096
    assert one == cost(OPUS, Usage(input=prompt, output=200))


def test_large_payload_is_written_once_then_read() -> None:
    system = [{"type": "text", "text": "x" * 20_000}]  # ≈ 5,000 tokens: past the minimum
    two = simulate(
        OPUS, tools=[EDITOR], system=system, user="go", turns=2, output_per_turn=100, result_per_turn=50
    )
    prompt = part_tokens(EDITOR) + part_tokens(system[0]) + part_tokens({"type": "text", "text": "go"})
    # turn 1 writes the whole prompt; turn 2 reads it and writes only the new reply + tool result
    assert cost(OPUS, Usage(cache_write_5m=prompt)) < two
    assert two < cost(OPUS, Usage(input=2 * prompt + 200))  # cheaper than no cache at all


def test_forecast_uses_the_failed_attempt_and_the_calibration() -> None:
    failed = [
        {"role": "user", "content": "Do it."},
        {"role": "assistant", "content": [{"type": "text", "text": "a" * 400}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "b" * 800}]},
        {"role": "assistant", "content": [{"type": "text", "text": "c" * 400}]},
    ]
    output, result = reply_sizes(failed)
    assert output == part_tokens({"type": "text", "text": "a" * 400})
    assert result == part_tokens(failed[2]["content"][0])
    system = [{"type": "text", "text": "payload " * 50}]
    plain = escalation_forecast(OPUS, tools=[EDITOR], system=system, user="go", failed=failed)
    assert plain.factor == 1 and plain.usd == plain.model_usd and plain.turns == 2
    halved = escalation_forecast(
        OPUS, tools=[EDITOR], system=system, user="go", failed=failed, history=[past(0.2, 0.1)]
    )
    assert halved.based_on == 1 and halved.usd == plain.model_usd / 2
