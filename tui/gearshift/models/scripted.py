"""Scripted Messages API replies, written as the server would write them.

Demo recordings and the loopback test server both need byte-for-byte plausible SSE streams
without a model behind them. This module is the *server* side of the protocol: it turns a list
of content blocks and a usage table into the frames the API sends (`message_start`, per-block
start/delta/stop, `message_delta`, `message_stop`). Reading streams is left to the real SDK, so
everything written here is checked by the same parser that reads live answers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

STOP_REASONS = (
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "tool_use",
    "pause_turn",
    "refusal",
    "model_context_window_exceeded",
)

# Short names (as in pricing.Usage.to_dict) → API names. The API's names are the primary form.
_SHORT_USAGE = {
    "input": "input_tokens",
    "output": "output_tokens",
    "cache_read": "cache_read_input_tokens",
}
_SHORT_WRITES = ("cache_write_5m", "cache_write_1h")
_API_USAGE = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "cache_creation",
)


def frame(event: str, **fields: Any) -> bytes:
    """One SSE frame. The SDK drops frames without an `event:` line, so both lines are written,
    and the JSON `type` always equals the event name, as the API does."""
    data = json.dumps({"type": event, **fields}, separators=(",", ":"))
    return f"event: {event}\ndata: {data}\n\n".encode()


def error_frame(error_type: str, message: str) -> bytes:
    """The mid-stream `error` event (the streaming counterpart of an HTTP 529 and friends)."""
    return frame("error", error={"type": error_type, "message": message})


def normalise_usage(usage: dict[str, Any]) -> dict[str, int]:
    """Read a usage table in the API's names or pricing's short names; return flat API names.

    API keys: input_tokens, output_tokens, cache_read_input_tokens, and cache writes as
    `cache_creation: {ephemeral_5m_input_tokens, ephemeral_1h_input_tokens}` and/or the total
    `cache_creation_input_tokens` (any part of the total the split does not explain is a 5m write).
    Short keys: input, output, cache_read, cache_write_5m, cache_write_1h. Mixing both forms is
    refused: a half-translated table is a mistake nobody should have to find inside a recording.
    """
    keys = set(usage)
    short = keys & {*_SHORT_USAGE, *_SHORT_WRITES}
    api = keys & set(_API_USAGE)
    unknown = keys - short - api
    if unknown:
        raise ValueError(
            f"usage: unknown keys {sorted(unknown)}; use the API's names ({', '.join(_API_USAGE)}) "
            "or input/output/cache_write_5m/cache_write_1h/cache_read"
        )
    if short and api:
        raise ValueError(f"usage: mixes API names {sorted(api)} with short names {sorted(short)}")
    if short:
        w5, w1 = (int(usage.get(k, 0)) for k in _SHORT_WRITES)
        out = {api_key: int(usage.get(k, 0)) for k, api_key in _SHORT_USAGE.items()}
    else:
        split = usage.get("cache_creation") or {}
        w5 = int(split.get("ephemeral_5m_input_tokens", 0))
        w1 = int(split.get("ephemeral_1h_input_tokens", 0))
        total = usage.get("cache_creation_input_tokens")
        if total is not None:
            if int(total) < w5 + w1:
                raise ValueError(
                    f"usage: cache_creation_input_tokens {total} is less than its split {w5 + w1}"
                )
            w5 = int(total) - w1
        out = {k: int(usage.get(k, 0)) for k in _SHORT_USAGE.values()}
    out["ephemeral_5m_input_tokens"] = w5
    out["ephemeral_1h_input_tokens"] = w1
    negative = sorted(k for k, v in out.items() if v < 0)
    if negative:
        raise ValueError(f"usage: negative counts for {negative}")
    return out


def _usage_json(u: dict[str, int], *, output: int) -> dict[str, Any]:
    w5, w1 = u["ephemeral_5m_input_tokens"], u["ephemeral_1h_input_tokens"]
    return {
        "input_tokens": u["input_tokens"],
        "output_tokens": output,
        "cache_creation_input_tokens": w5 + w1,
        "cache_read_input_tokens": u["cache_read_input_tokens"],
        "cache_creation": {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1},
        "service_tier": "standard",
    }


def _message(
    message_id: str,
    model: str,
    content: list[dict[str, Any]],
    stop_reason: str | None,
    usage: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage,
    }


def _resolve_block(index: int, block: dict[str, Any], message_id: str) -> dict[str, Any]:
    """Check one block and fill in what the API would (a tool_use id)."""
    kind = block.get("type")
    where = f"blocks[{index}]"
    if kind == "text":
        if not isinstance(block.get("text"), str):
            raise ValueError(f"{where}: a text block needs a string 'text'")
        return {"type": "text", "text": block["text"]}
    if kind == "tool_use":
        name, args = block.get("name"), block.get("input", {})
        if not isinstance(name, str) or not isinstance(args, dict):
            raise ValueError(f"{where}: a tool_use block needs a string 'name' and a dict 'input'")
        tool_id = block.get("id") or f"toolu_{message_id.removeprefix('msg_')[:16]}{index:02d}"
        return {"type": "tool_use", "id": tool_id, "name": name, "input": args}
    if kind == "thinking":
        return {
            "type": "thinking",
            "thinking": str(block.get("thinking", "")),
            "signature": str(block.get("signature", "sig")),
        }
    raise ValueError(f"{where}: unsupported block type {kind!r} (text, tool_use, thinking)")


def _prepare(
    model: str,
    blocks: list[dict[str, Any]],
    usage: dict[str, Any],
    stop_reason: str,
    message_id: str | None,
) -> tuple[dict[str, int], str, list[dict[str, Any]]]:
    if stop_reason not in STOP_REASONS:
        raise ValueError(f"stop_reason {stop_reason!r} is not one of {', '.join(STOP_REASONS)}")
    u = normalise_usage(usage)
    if message_id is None:
        seed = json.dumps([model, blocks, u, stop_reason], sort_keys=True).encode()
        message_id = "msg_" + hashlib.sha256(seed).hexdigest()[:24]
    return u, message_id, [_resolve_block(i, b, message_id) for i, b in enumerate(blocks)]


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _block_frames(index: int, block: dict[str, Any], size: int) -> list[bytes]:
    start = dict(block)
    if block["type"] == "text":
        start["text"] = ""
        deltas = [{"type": "text_delta", "text": part} for part in _chunks(block["text"], size)]
    elif block["type"] == "tool_use":
        start["input"] = {}
        # The API's first fragment is often empty; the SDK copes with that, so do it too.
        pieces = ["", *_chunks(json.dumps(block["input"]), size)]
        deltas = [{"type": "input_json_delta", "partial_json": p} for p in pieces]
    else:
        start.update(thinking="", signature="")
        pieces = _chunks(block["thinking"], size)
        deltas = [{"type": "thinking_delta", "thinking": p} for p in pieces]
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
    return [
        frame("content_block_start", index=index, content_block=start),
        *(frame("content_block_delta", index=index, delta=d) for d in deltas),
        frame("content_block_stop", index=index),
    ]


def sse_reply(
    model: str,
    blocks: list[dict[str, Any]],
    usage: dict[str, Any],
    stop_reason: str = "end_turn",
    *,
    message_id: str | None = None,
    text_chunk_chars: int = 12,
) -> list[bytes]:
    """The frames of one streamed reply, in the order the API sends them.

    `usage` is the final, billed usage (see `normalise_usage`); `message_start` carries the input
    and cache counts with one output token, `message_delta` the cumulative totals. Without a
    `message_id` one is derived from the content, so a re-generated demo recording is identical.
    """
    if text_chunk_chars < 1:
        raise ValueError("text_chunk_chars must be at least 1")
    u, message_id, resolved = _prepare(model, blocks, usage, stop_reason, message_id)
    opening = _message(message_id, model, [], None, _usage_json(u, output=min(1, u["output_tokens"])))
    frames = [frame("message_start", message=opening)]
    for i, block in enumerate(resolved):
        frames += _block_frames(i, block, text_chunk_chars)
        if i == 0:
            frames.append(frame("ping"))
    final = _usage_json(u, output=u["output_tokens"])
    del final["cache_creation"], final["service_tier"]  # not part of message_delta.usage
    delta = {"stop_reason": stop_reason, "stop_sequence": None}
    frames.append(frame("message_delta", delta=delta, usage=final))
    frames.append(frame("message_stop"))
    return frames


def message_json(
    model: str,
    blocks: list[dict[str, Any]],
    usage: dict[str, Any],
    stop_reason: str = "end_turn",
    *,
    message_id: str | None = None,
) -> dict[str, Any]:
    """The non-streaming `Message` that `sse_reply` with the same arguments streams."""
    u, message_id, resolved = _prepare(model, blocks, usage, stop_reason, message_id)
    return _message(message_id, model, resolved, stop_reason, _usage_json(u, output=u["output_tokens"]))


def write_recording(
    dir: str | Path,
    task_id: str,
    attempt: int,
    turn: int,
    model: str,
    frames: Sequence[bytes],
    frame_gap_ms: Sequence[float] | float,
    scripted: bool = True,
) -> Path:
    """Write frames as a replayable recording (layout in models/replay.py); return the .sse path.

    `frame_gap_ms` is the wait before each frame (before the first: the time to first byte),
    either one number for every frame or one number per frame.
    """
    from gearshift.models.replay import save_recording

    if isinstance(frame_gap_ms, int | float):
        gaps = [float(frame_gap_ms)] * len(frames)
    else:
        gaps = [float(g) for g in frame_gap_ms]
        if len(gaps) != len(frames):
            raise ValueError(f"frame_gap_ms has {len(gaps)} entries for {len(frames)} frames")
    if any(g < 0 for g in gaps):
        raise ValueError("frame_gap_ms must not be negative")
    chunks: list[tuple[float, bytes]] = []
    clock = 0.0
    for gap, data in zip(gaps, frames, strict=True):
        clock += gap
        chunks.append((clock, data))
    return save_recording(Path(dir), task_id, attempt, turn, model=model, chunks=chunks, scripted=scripted)
