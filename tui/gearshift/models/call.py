"""What one model call is: the request, the finished answer, or the fault it ended in.

Kept apart from the gateway so the pipeline and the replay transport can speak about calls
without pulling in the client (and, through it, the SDK).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, get_args
from urllib.parse import quote

from gearshift.config import ModelSpec
from gearshift.models.pricing import Usage
from gearshift.models.request_tokens import message_blocks, request_parts
from gearshift.vocab import FaultKind, SessionMode

HEADER_TASK = "x-gearshift-task"
HEADER_ATTEMPT = "x-gearshift-attempt"
HEADER_TURN = "x-gearshift-turn"
MODES = get_args(SessionMode)
FAULT_KINDS = get_args(FaultKind)  # the kinds and what each means: vocab.FaultKind
MAX_BREAKPOINTS = 4  # the Messages API's limit of cache_control blocks in one request
REPLAY_BASE_URL = "http://replay.gearshift.invalid"
NO_KEY_MESSAGE = (
    "no API key: set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN) to call the model, "
    "or answer from recorded calls with --replay DIR"
)


class CallFault(Exception):
    """A model call that did not produce a finished answer.

    `usage` holds what was billed before the fault when the stream got as far as `message_start`
    (the input, cache and first output tokens), else zero; `cost` prices it.
    """

    def __init__(
        self,
        kind: FaultKind,
        message: str,
        usage: Usage | None = None,
        *,
        cost: Decimal = Decimal(0),
        status: int | None = None,
        error_type: str | None = None,
        request_id: str | None = None,
        latency_ms: float | None = None,
    ) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.usage = usage or Usage()
        self.cost = cost
        self.status = status
        self.error_type = error_type
        self.request_id = request_id
        self.latency_ms = latency_ms

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


@dataclass(frozen=True)
class CallRequest:
    """One call. `system` is the stable prefix (system prompt, then context files) as text blocks.

    Prompt-cache breakpoints (see `breakpoints`) go where a later call of the same conversation
    will read them: the last system block, the end of the previous request and the end of this
    one (the moving breakpoint), each only when the prefix up to it reaches the model's minimum
    cacheable length. `cache=False` marks a call expected to be the conversation's last (an
    answer-only question, a sign-off): a write nobody reads costs 25 % more than no cache.
    """

    task_id: str
    attempt: int
    turn: int
    model: ModelSpec
    system: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    max_tokens: int
    cache_ttl: str = "5m"
    tool_choice: dict[str, Any] | None = None
    cache: bool = True

    def __post_init__(self) -> None:
        if self.cache_ttl not in ("5m", "1h"):
            raise ValueError(f'cache_ttl must be "5m" or "1h", got {self.cache_ttl!r}')
        if not self.task_id:
            raise ValueError("task_id must not be empty")
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be positive, got {self.max_tokens}")

    def headers(self) -> dict[str, str]:
        """Identify the call for recordings independently of the prompt's wording."""
        return {
            HEADER_TASK: quote(self.task_id, safe=""),
            HEADER_ATTEMPT: str(self.attempt),
            HEADER_TURN: str(self.turn),
        }

    def breakpoints(self) -> list[int]:
        """Indices, in `request_parts` order, of the parts that carry `cache_control` (≤ 4)."""
        if not self.cache:
            return []
        parts = request_parts(self.model.id, self.tools, self.system, self.messages)
        ends: list[int] = []
        if self.system:
            ends.append(len(self.tools) + len(self.system) - 1)
        offset = len(self.tools) + len(self.system)
        for n, message in enumerate(self.messages):
            offset += len(message_blocks(message))
            # the end of the previous request (two messages back) and of this one
            if n in (len(self.messages) - 3, len(self.messages) - 1) and message_blocks(message):
                ends.append(offset - 1)
        floor = self.model.min_cache_tokens
        return sorted({i for i in ends if parts[i].prefix_tokens >= floor})[-MAX_BREAKPOINTS:]

    def params(self) -> dict[str, Any]:
        """Keyword arguments for `messages.stream` (the caller's blocks are never mutated)."""
        system = [dict(block) for block in self.system]
        messages = [{**m, "content": [dict(b) for b in message_blocks(m)]} for m in self.messages]
        blocks = [*system, *(b for m in messages for b in m["content"])]
        for index in self.breakpoints():
            blocks[index - len(self.tools)]["cache_control"] = {"type": "ephemeral", "ttl": self.cache_ttl}
        params: dict[str, Any] = {
            "model": self.model.id,
            "max_tokens": self.max_tokens,
            "messages": messages,
            "extra_headers": self.headers(),
        }
        if system:
            params["system"] = system
        if self.tools:
            params["tools"] = self.tools
        if self.tool_choice is not None:
            params["tool_choice"] = self.tool_choice
        if self.model.effort:
            params["output_config"] = {"effort": self.model.effort}
        return params


@dataclass(frozen=True)
class CallResult:
    """A finished answer: `content` is ready to append as the assistant turn."""

    model_id: str
    content: list[dict[str, Any]]
    text: str
    tool_uses: list[dict[str, Any]]
    stop_reason: str
    usage: Usage
    cost: Decimal
    ttft_ms: float | None
    latency_ms: float
    request_id: str | None
