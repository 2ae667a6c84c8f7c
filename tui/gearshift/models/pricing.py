"""Token usage and what it costs, from the catalogue's prices — the one place money is computed.

Prices are Decimals per million tokens, so a call's cost is exact (no float drift across a long
session); floats appear only at the edges (events, JSON).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from gearshift.config import ModelSpec

MTOK = Decimal(1_000_000)


@dataclass(frozen=True)
class Usage:
    """Billed tokens of one call, by kind. `input` excludes cache writes and reads."""

    input: int = 0
    output: int = 0
    cache_write_5m: int = 0
    cache_write_1h: int = 0
    cache_read: int = 0

    @property
    def cache_write(self) -> int:
        return self.cache_write_5m + self.cache_write_1h

    @property
    def total_input(self) -> int:
        return self.input + self.cache_write + self.cache_read

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input + other.input,
            self.output + other.output,
            self.cache_write_5m + other.cache_write_5m,
            self.cache_write_1h + other.cache_write_1h,
            self.cache_read + other.cache_read,
        )

    @classmethod
    def from_api(cls, usage: Any, default_ttl: str = "5m") -> Usage:
        """Read the SDK's `Usage` object (or an equivalent dict).

        The API reports `cache_creation_input_tokens` as a total and, when it can, a
        `cache_creation` split by TTL. Without the split every write is charged at the TTL we asked
        for — the only honest assumption.
        """
        get = usage.get if isinstance(usage, dict) else lambda k, d=None: getattr(usage, k, d)
        written = get("cache_creation_input_tokens") or 0
        split = get("cache_creation")
        if split is not None:
            sget = split.get if isinstance(split, dict) else lambda k, d=None: getattr(split, k, d)
            w5 = sget("ephemeral_5m_input_tokens") or 0
            w1 = sget("ephemeral_1h_input_tokens") or 0
            if w5 + w1 != written and written:
                # Trust the total; attribute the remainder to the TTL we asked for.
                rest = written - w5 - w1
                if default_ttl == "1h":
                    w1 += rest
                else:
                    w5 += rest
        elif default_ttl == "1h":
            w5, w1 = 0, written
        else:
            w5, w1 = written, 0
        return cls(
            input=get("input_tokens") or 0,
            output=get("output_tokens") or 0,
            cache_write_5m=w5,
            cache_write_1h=w1,
            cache_read=get("cache_read_input_tokens") or 0,
        )

    def to_dict(self) -> dict[str, int]:
        return {
            "input": self.input,
            "output": self.output,
            "cache_write": self.cache_write,
            "cache_write_5m": self.cache_write_5m,
            "cache_write_1h": self.cache_write_1h,
            "cache_read": self.cache_read,
        }


def cost(spec: ModelSpec, usage: Usage) -> Decimal:
    """Dollars for `usage` at `spec`'s prices."""
    total = (
        usage.input * spec.input_per_mtok
        + usage.output * spec.output_per_mtok
        + usage.cache_write_5m * spec.cache_write_5m_per_mtok
        + usage.cache_write_1h * spec.cache_write_1h_per_mtok
        + usage.cache_read * spec.cache_read_per_mtok
    )
    return total / MTOK


def worst_case(spec: ModelSpec, input_tokens: int, max_tokens: int) -> Decimal:
    """The most a call can cost: all input written to the dearest cache tier, every output token used."""
    dearest_in = max(spec.input_per_mtok, spec.cache_write_5m_per_mtok, spec.cache_write_1h_per_mtok)
    return (input_tokens * dearest_in + max_tokens * spec.output_per_mtok) / MTOK


def estimate_tokens(text: str) -> int:
    """A cheap offline estimate (≈ 4 characters a token for code and English).

    The SDK has no offline tokenizer; the budget check only needs an upper-ish bound, and the
    ledger always records the real counts the API returns.
    """
    return (len(text) + 3) // 4


def usd(value: Decimal) -> float:
    """For events and JSON: dollars as a float rounded to a millionth of a cent."""
    return float(round(value, 8))
