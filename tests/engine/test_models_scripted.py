"""Scripted SSE replies must be read by the real SDK exactly as a live answer would be."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anthropic
import httpx2
import pytest
from gearshift.models.scripted import (
    message_json,
    normalise_usage,
    sse_reply,
    write_recording,
)

MODEL = "claude-sonnet-4-6"
BLOCKS: list[dict[str, Any]] = [
    {
        "type": "thinking",
        "thinking": "The test expects 2, so change the return.",
        "signature": "s1",
    },
    {"type": "text", "text": "I'll fix the return value in pkg/mod.py."},
    {
        "type": "tool_use",
        "id": "toolu_fix",
        "name": "str_replace_based_edit_tool",
        "input": {"command": "str_replace", "path": "pkg/mod.py", "old_str": "1", "new_str": "2"},
    },
]
USAGE = {"input": 1000, "output": 250, "cache_write_5m": 100, "cache_write_1h": 50, "cache_read": 7}


async def read_with_sdk(frames: list[bytes]) -> tuple[Any, list[str]]:
    """Stream `frames` through the SDK with strict response validation."""
    body = b"".join(frames)

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    client = anthropic.AsyncAnthropic(
        api_key="unused",
        base_url="http://scripted.test",
        max_retries=0,
        _strict_response_validation=True,
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handler)),
    )
    kinds: list[str] = []
    try:
        async with client.messages.stream(
            model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "x"}]
        ) as stream:
            async for event in stream:
                kinds.append(event.type)
            message = await stream.get_final_message()
    finally:
        await client.close()
    return message, kinds


async def test_sdk_reads_every_block_kind_and_the_usage() -> None:
    frames = sse_reply(MODEL, BLOCKS, USAGE, "tool_use", text_chunk_chars=7)
    message, kinds = await read_with_sdk(frames)
    assert [b.type for b in message.content] == ["thinking", "text", "tool_use"]
    assert message.content[0].thinking == BLOCKS[0]["thinking"]
    assert message.content[0].signature == "s1"
    assert message.content[1].text == BLOCKS[1]["text"]
    assert message.content[2].input == BLOCKS[2]["input"]
    assert message.content[2].id == "toolu_fix"
    assert message.stop_reason == "tool_use"
    u = message.usage
    assert (u.input_tokens, u.output_tokens, u.cache_read_input_tokens) == (1000, 250, 7)
    assert u.cache_creation_input_tokens == 150
    assert u.cache_creation.ephemeral_5m_input_tokens == 100
    assert u.cache_creation.ephemeral_1h_input_tokens == 50
    assert kinds.count("text") == -(-len(BLOCKS[1]["text"]) // 7)  # one SDK text event per chunk
    assert kinds[-1] == "message_stop"


async def test_non_streaming_message_matches_the_stream() -> None:
    frames = sse_reply(MODEL, BLOCKS, USAGE, "tool_use")
    streamed, _ = await read_with_sdk(frames)
    whole = message_json(MODEL, BLOCKS, USAGE, "tool_use")
    parsed = anthropic.types.Message.model_validate(whole)
    assert parsed.id == streamed.id
    assert [b.to_dict() for b in parsed.content] == [b.to_dict() for b in streamed.content]
    assert parsed.usage.to_dict() == streamed.usage.to_dict()


def test_message_ids_and_tool_ids_are_deterministic() -> None:
    blocks = [{"type": "tool_use", "name": "t", "input": {"a": 1}}]
    first = sse_reply(MODEL, blocks, USAGE, "tool_use")
    assert first == sse_reply(MODEL, blocks, USAGE, "tool_use")
    assert first != sse_reply(MODEL, blocks, {**USAGE, "output": 251}, "tool_use")
    assert b'"id":"toolu_' in first[1]
    assert b'"id":"msg_custom"' in sse_reply(MODEL, blocks, USAGE, "tool_use", message_id="msg_custom")[0]


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        ({"input_tokens": 5, "output_tokens": 2}, (5, 2, 0, 0, 0)),
        ({"input": 5, "output": 2, "cache_write_1h": 9, "cache_read": 4}, (5, 2, 0, 9, 4)),
        (
            {"input_tokens": 1, "output_tokens": 1, "cache_creation_input_tokens": 30},
            (1, 1, 30, 0, 0),
        ),
        (
            {
                "input_tokens": 1,
                "output_tokens": 1,
                "cache_creation_input_tokens": 30,
                "cache_creation": {
                    "ephemeral_5m_input_tokens": 10,
                    "ephemeral_1h_input_tokens": 15,
                },
            },
            (1, 1, 15, 15, 0),
        ),
    ],
)
def test_usage_in_either_naming(usage: dict[str, Any], expected: tuple[int, ...]) -> None:
    u = normalise_usage(usage)
    got = (
        u["input_tokens"],
        u["output_tokens"],
        u["ephemeral_5m_input_tokens"],
        u["ephemeral_1h_input_tokens"],
        u["cache_read_input_tokens"],
    )
    assert got == expected


@pytest.mark.parametrize(
    ("usage", "words"),
    [
        ({"input_tokens": 1, "cache_write_5m": 2}, "mixes"),
        ({"inputs": 1}, "unknown keys"),
        ({"input": -1}, "negative"),
        (
            {"cache_creation_input_tokens": 1, "cache_creation": {"ephemeral_1h_input_tokens": 5}},
            "less than its split",
        ),
    ],
)
def test_bad_usage_is_refused(usage: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        normalise_usage(usage)


def test_bad_blocks_and_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unsupported block type"):
        sse_reply(MODEL, [{"type": "image"}], USAGE)
    with pytest.raises(ValueError, match="needs a string 'name'"):
        sse_reply(MODEL, [{"type": "tool_use", "input": {}}], USAGE)
    with pytest.raises(ValueError, match="stop_reason"):
        sse_reply(MODEL, [], USAGE, "done")
    frames = sse_reply(MODEL, [], USAGE)
    with pytest.raises(ValueError, match="entries"):
        write_recording(tmp_path, "t", 1, 1, MODEL, frames, [1.0])
    with pytest.raises(ValueError, match="negative"):
        write_recording(tmp_path, "t", 1, 1, MODEL, frames, -1.0)
    assert not any(tmp_path.iterdir())
