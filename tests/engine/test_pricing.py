"""Cost arithmetic, checked against hand-computed figures to the cent and below."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from gearshift.config import load_config
from gearshift.models.pricing import Usage, cost, worst_case


def test_sonnet_cost_with_cache_tokens(tmp_path: Path) -> None:
    sonnet = load_config(tmp_path).model("claude-sonnet-4-6")
    usage = Usage(input=1_000, output=500, cache_write_5m=2_000, cache_write_1h=1_000, cache_read=10_000)
    # 1000*3 + 500*15 + 2000*3.75 + 1000*6 + 10000*0.3 = 3000+7500+7500+6000+3000 = 27000 µ$
    assert cost(sonnet, usage) == Decimal("0.027")


def test_opus_cost(tmp_path: Path) -> None:
    opus = load_config(tmp_path).model("claude-opus-4-7")
    usage = Usage(input=12_345, output=6_789, cache_write_5m=4_000, cache_read=50_000)
    # 12345*5 + 6789*25 + 4000*6.25 + 50000*0.5 = 61725 + 169725 + 25000 + 25000 = 281450 µ$
    assert cost(opus, usage) == Decimal("0.28145")


def test_usage_from_api_splits_cache_writes() -> None:
    api = {
        "input_tokens": 10,
        "output_tokens": 20,
        "cache_creation_input_tokens": 300,
        "cache_read_input_tokens": 40,
        "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 200},
    }
    u = Usage.from_api(api)
    assert (u.input, u.output, u.cache_write_5m, u.cache_write_1h, u.cache_read) == (10, 20, 100, 200, 40)
    no_split = Usage.from_api(
        {"input_tokens": 1, "output_tokens": 2, "cache_creation_input_tokens": 300}, default_ttl="1h"
    )
    assert (no_split.cache_write_5m, no_split.cache_write_1h) == (0, 300)


def test_worst_case_uses_dearest_input_tier(tmp_path: Path) -> None:
    sonnet = load_config(tmp_path).model("claude-sonnet-4-6")
    # 10k input at the 1h write price ($6) + 8192 output at $15
    assert worst_case(sonnet, 10_000, 8_192) == Decimal("0.06") + Decimal("0.12288")
