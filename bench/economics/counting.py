"""The one counting rule every arm is billed by: gearshift's own, from the bytes of the request.

There is no offline tokenizer for Claude 4 models, so the benchmark bills its simulated model with
the rule the product already uses for its recordings and cache decisions
(`gearshift.models.request_tokens`): each request part costs ceil(UTF-8 bytes of its compact JSON
÷ 4) tokens, the text editor tool adds its documented 700, and prompt caching is applied as the API
documents it (breakpoints, the model's minimum cacheable length from gearshift's catalogue, a
20-block lookback). The same rule for every arm, so the arms compare fairly whatever the true
tokenizer does. Two things are added here, as that module's knobs:

- Opus 4.7's tokenizer makes more tokens from the same text (1.0–1.35× reported): `factor` scales
  every Opus part (default 1.2, swept);
- a request with tools also pays the tool-use system prompt (346 tokens, `tool_choice` auto), in
  front of the tools, so it is cached with them.

Simulated time stands still within a task (a bench run is far inside the cache's 5 minutes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gearshift.models.request_tokens import TOOL_USE_SYSTEM_TOKENS, PromptCache, output_tokens


class Meter:
    """One arm's billing: a prompt cache shared by its calls (entries are keyed by model)."""

    def __init__(self, min_cache: Callable[[str], int]) -> None:
        self.cache = PromptCache(min_cache)

    def bill(self, body: dict[str, Any], reply: list[dict[str, Any]], factor: float) -> dict[str, Any]:
        """The `usage` the API would report for `body` answered with the `reply` blocks."""
        preamble = TOOL_USE_SYSTEM_TOKENS if body.get("tools") else 0
        usage = self.cache.bill(body, 0.0, factor=factor, preamble=preamble)
        usage["output_tokens"] = max(1, output_tokens(reply, factor))
        return usage
