"""The one counting rule for a request's tokens, and the prompt cache as the API applies it.

There is no offline tokenizer for current Claude models, yet two things need a request's size
before the API answers: where a cache breakpoint can pay (a prefix under the model's minimum
cacheable length is never cached), and the scripted demo recordings, whose `usage` must follow
from the request the engine really sent rather than from typed-in figures. Both use this rule:

    A request is its parts in the order the cache sees them: each tool definition, each system
    block, each content block of each message (a string content counts as one text block).
    A part costs ceil(UTF-8 bytes of its compact JSON, without `cache_control`, / 4) tokens.
    An Anthropic-defined text editor tool adds its documented 700 system-prompt tokens.
    A reply's output tokens are the same rule applied to its content blocks.

Two knobs exist for the economics benchmark, which bills its simulated model by this same rule:
`factor` scales every part's byte count (Opus 4.7's tokenizer makes ~1.0–1.35× the tokens of the
same text), and `preamble` puts tokens in front of the first part (the tool-use system prompt the
API adds to a request with tools, `TOOL_USE_SYSTEM_TOKENS`). Their defaults leave the rule as above.

`PromptCache` then bills a request as the API documents prompt caching: a breakpoint writes the
prefix up to it (only if that prefix reaches the model's minimum cacheable length), a later
request reads the longest prefix an earlier one wrote (same model, bytes identical, within the
TTL, found at a breakpoint or at most 20 blocks before one), and a read refreshes the entry.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BYTES_PER_TOKEN = 4
# Anthropic's text editor tool documentation: each version adds 700 input tokens of system prompt.
TOOL_SYSTEM_TOKENS = {
    "text_editor_20250728": 700,
    "text_editor_20250429": 700,
    "text_editor_20250124": 700,
}
# Anthropic's tool-use pricing table for Claude 4 models: the system prompt a request with tools
# gets (346 tokens with tool_choice auto or none, 313 with any or tool: the larger is taken).
TOOL_USE_SYSTEM_TOKENS = 346
LOOKBACK_BLOCKS = 20  # how far before a breakpoint the API looks for an earlier cache entry
TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}


def part_tokens(part: dict[str, Any], factor: float = 1.0) -> int:
    """Tokens of one tool, system block or content block under the rule above."""
    plain = {k: v for k, v in part.items() if k != "cache_control"}
    size = len(json.dumps(plain, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    return math.ceil(size / BYTES_PER_TOKEN * factor) + TOOL_SYSTEM_TOKENS.get(str(part.get("type", "")), 0)


def message_blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return list(content or [])


@dataclass(frozen=True)
class Part:
    """One part of a request, with the size and identity of the prefix that ends with it."""

    tokens: int
    prefix_tokens: int
    prefix_key: str
    breakpoint: str | None  # the TTL asked for when the part carries cache_control


def request_parts(
    model: str,
    tools: list[dict[str, Any]],
    system: list[dict[str, Any]] | str | None,
    messages: list[dict[str, Any]],
    *,
    factor: float = 1.0,
    preamble: int = 0,
) -> list[Part]:
    """The request's parts in cache order (tools → system → messages), with running prefixes."""
    if isinstance(system, str):
        system = [{"type": "text", "text": system}]
    ordered: list[tuple[str, dict[str, Any]]] = [("tool", t) for t in tools]
    ordered += [("system", b) for b in system or []]
    for m in messages:
        ordered += [(str(m.get("role")), b) for b in message_blocks(m)]
    digest = hashlib.sha256(model.encode())
    parts: list[Part] = []
    total = preamble
    for where, block in ordered:
        plain = {k: v for k, v in block.items() if k != "cache_control"}
        digest.update(where.encode() + json.dumps(plain, sort_keys=True).encode() + b"\0")
        tokens = part_tokens(block, factor)
        total += tokens
        marked = block.get("cache_control")
        ttl = str(marked.get("ttl", "5m")) if isinstance(marked, dict) else None
        parts.append(Part(tokens, total, digest.copy().hexdigest(), ttl))
    return parts


def body_parts(body: dict[str, Any], *, factor: float = 1.0, preamble: int = 0) -> list[Part]:
    """`request_parts` of a Messages API request body as sent on the wire."""
    return request_parts(
        str(body.get("model", "")),
        body.get("tools") or [],
        body.get("system"),
        body.get("messages") or [],
        factor=factor,
        preamble=preamble,
    )


def output_tokens(blocks: list[dict[str, Any]], factor: float = 1.0) -> int:
    return sum(part_tokens(b, factor) for b in blocks)


@dataclass
class PromptCache:
    """Cache entries written by earlier requests: prefix key → (expiry time, TTL)."""

    min_tokens: Callable[[str], int]
    entries: dict[str, tuple[float, str]] = field(default_factory=dict)

    def bill(self, body: dict[str, Any], now: float, *, factor: float = 1.0, preamble: int = 0) -> dict[str, Any]:
        """The `usage` input fields the API would report for `body` sent at `now` (seconds)."""
        parts = body_parts(body, factor=factor, preamble=preamble)
        total = parts[-1].prefix_tokens if parts else 0
        marks = [i for i, p in enumerate(parts) if p.breakpoint is not None]
        floor = self.min_tokens(str(body.get("model", "")))
        read_at = -1
        for b in marks:
            for j in range(b, max(-1, b - LOOKBACK_BLOCKS), -1):
                hit = self.entries.get(parts[j].prefix_key)
                if hit is not None and hit[0] >= now and j > read_at:
                    read_at = j
                    break
        read = parts[read_at].prefix_tokens if read_at >= 0 else 0
        if read_at >= 0:
            ttl = self.entries[parts[read_at].prefix_key][1]
            self.entries[parts[read_at].prefix_key] = (now + TTL_SECONDS[ttl], ttl)
        written = {"5m": 0, "1h": 0}
        upto = read
        for b in marks:
            part = parts[b]
            if part.prefix_tokens < floor:
                continue
            assert part.breakpoint is not None
            self.entries[part.prefix_key] = (now + TTL_SECONDS[part.breakpoint], part.breakpoint)
            if part.prefix_tokens > upto:
                written[part.breakpoint] += part.prefix_tokens - upto
                upto = part.prefix_tokens
        write = written["5m"] + written["1h"]
        return {
            "input_tokens": total - read - write,
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": written["5m"],
                "ephemeral_1h_input_tokens": written["1h"],
            },
        }
