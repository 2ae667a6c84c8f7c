"""The one counting rule every arm is billed by: tokens from the bytes of the request the engine built.

There is no offline tokenizer for Claude 4 models, so the benchmark counts the UTF-8 bytes of each
request part's compact JSON and divides by 4 (rounding up) — the same rule for every arm, so the
arms compare fairly whatever the true tokenizer does. Opus 4.7's tokenizer makes more tokens from
the same text (1.0–1.35× reported); `opus_factor` scales every Opus count (default 1.2, swept).

What else is billed as input, per Anthropic's tool-use pricing: the tool-use system prompt a request
with tools gets (346 tokens, `tool_choice` auto) and the text editor tool's own 700 tokens. They sit
in the tools part of the prefix, so they are cached with it.

Prompt caching, as the API does it: a `cache_control` breakpoint caches the prefix up to and
including its block (order: tools, system, messages); a later request whose prefix up to one of its
breakpoints matches a cached one reads that part (0.1× price) and writes the rest up to its last
breakpoint (1.25× for 5 minutes). A prefix shorter than the model's minimum cacheable length is
neither written nor read.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

TOOL_SYSTEM_PROMPT_TOKENS = 346
TEXT_EDITOR_TOKENS = 700
BYTES_PER_TOKEN = 4


def _dump(part: Any) -> bytes:
    return json.dumps(part, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def strip_cache_control(part: Any) -> Any:
    if isinstance(part, dict):
        return {k: strip_cache_control(v) for k, v in part.items() if k != "cache_control"}
    if isinstance(part, list):
        return [strip_cache_control(v) for v in part]
    return part


def tokens_of(part: Any, factor: float = 1.0) -> int:
    return math.ceil(len(_dump(strip_cache_control(part))) / BYTES_PER_TOKEN * factor)


def _blocks(body: dict[str, Any]) -> list[tuple[Any, bool]]:
    """Every cacheable block in prefix order, with whether it carries a breakpoint."""
    out: list[tuple[Any, bool]] = []
    for tool in body.get("tools") or []:
        out.append((tool, "cache_control" in tool))
    system = body.get("system")
    if isinstance(system, str):
        out.append((system, False))
    elif isinstance(system, list):
        for block in system:
            out.append((block, isinstance(block, dict) and "cache_control" in block))
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, str):
            out.append(({"role": message["role"], "text": content}, False))
            continue
        for i, block in enumerate(content or []):
            marked = isinstance(block, dict) and "cache_control" in block
            out.append(({"role": message["role"], "i": i, "block": block}, marked))
    if body.get("cache_control") and out:  # top-level automatic caching marks the last block
        out[-1] = (out[-1][0], True)
    return out


@dataclass
class Usage:
    input: int = 0
    cache_write: int = 0
    cache_read: int = 0
    output: int = 0

    def as_api(self) -> dict[str, Any]:
        return {
            "input_tokens": self.input,
            "output_tokens": self.output,
            "cache_read_input_tokens": self.cache_read,
            "cache_creation_input_tokens": self.cache_write,
            "cache_creation": {"ephemeral_5m_input_tokens": self.cache_write, "ephemeral_1h_input_tokens": 0},
        }


@dataclass
class PromptCache:
    """What one model's cache holds: prefix hash → tokens (a benchmark run is far inside 5 minutes
    of simulated time per task, so entries do not expire within a task)."""

    entries: dict[tuple[str, str], int] = field(default_factory=dict)

    def bill(self, body: dict[str, Any], factor: float, min_tokens: int) -> Usage:
        model = body["model"]
        overhead = TOOL_SYSTEM_PROMPT_TOKENS + TEXT_EDITOR_TOKENS if body.get("tools") else 0
        h = hashlib.sha256()
        running = overhead
        marks: list[tuple[str, int]] = []
        for block, marked in _blocks(body):
            h.update(_dump(strip_cache_control(block)))
            running += tokens_of(block, factor)
            if marked:
                marks.append((h.copy().hexdigest(), running))
        total = running
        read = 0
        for digest, upto in marks:
            if (model, digest) in self.entries:
                read = max(read, upto)
        write = 0
        if marks:
            digest, upto = marks[-1]
            if upto >= min_tokens and upto > read:
                write = upto - read
            for d, u in marks:
                if u >= min_tokens:
                    self.entries[(model, d)] = u
        if read and read < min_tokens:
            read = 0
        return Usage(input=total - read - write, cache_write=write, cache_read=read)
