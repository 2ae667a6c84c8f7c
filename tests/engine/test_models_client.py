"""The model gateway against a loopback Messages API server, through the real SDK."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from gearshift.models.client import CallFault, CallRequest, ModelGateway
from gearshift.models.pricing import Usage

from tests.support import MessagesServer, Reply, model_spec

SONNET = model_spec("sonnet-4-6")
OPUS = model_spec("opus-4-7")
SYSTEM = [
    {"type": "text", "text": "You are a careful engineer."},
    {"type": "text", "text": "Context file pkg/mod.py:\ndef f():\n    return 1\n"},
]
EDITOR = {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"}


def request(**overrides: Any) -> CallRequest:
    fields: dict[str, Any] = {
        "task_id": "fix-bug",
        "attempt": 1,
        "turn": 1,
        "model": SONNET,
        "system": SYSTEM,
        "messages": [{"role": "user", "content": "Make f return 2."}],
        "tools": [EDITOR],
        "max_tokens": 1024,
    }
    fields.update(overrides)
    return CallRequest(**fields)


@pytest.fixture
def server() -> Iterator[MessagesServer]:
    with MessagesServer() as srv:
        yield srv


@pytest.fixture
async def gateway(server: MessagesServer) -> Any:
    gw = ModelGateway(api_key="sk-test-key", base_url=server.url)
    yield gw
    await gw.aclose()


@pytest.fixture(autouse=True)
def no_ambient_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path / "no-profiles"))


async def test_text_reply_streams_deltas_and_measures(server: MessagesServer, gateway: Any) -> None:
    server.add(Reply.text("Hello there, careful world!", text_chunk_chars=5))
    seen: list[str] = []
    result = await gateway.stream(request(), on_text=seen.append)
    assert result.text == "Hello there, careful world!"
    assert len(seen) > 1 and "".join(seen) == result.text
    assert result.content == [{"type": "text", "text": "Hello there, careful world!"}]
    assert result.tool_uses == []
    assert result.stop_reason == "end_turn"
    assert result.model_id == "claude-sonnet-4-6"
    assert result.request_id == "req_loopback_0001"
    assert result.ttft_ms is not None and 0 <= result.ttft_ms <= result.latency_ms


async def test_tool_use_reply_is_ready_to_append(server: MessagesServer, gateway: Any) -> None:
    args = {
        "command": "str_replace",
        "path": "pkg/mod.py",
        "old_str": "return 1",
        "new_str": "return 2",
    }
    server.add(Reply.tool_use("str_replace_based_edit_tool", args, text="Editing.", id="toolu_01"))
    result = await gateway.stream(request())
    assert result.stop_reason == "tool_use"
    assert result.tool_uses == [{"id": "toolu_01", "name": "str_replace_based_edit_tool", "input": args}]
    assert result.content[1] == {
        "type": "tool_use",
        "id": "toolu_01",
        "name": "str_replace_based_edit_tool",
        "input": args,
    }
    # The content goes straight back as the assistant turn of the next request.
    server.add(Reply.text("Done."))
    follow = request(
        turn=2,
        messages=[
            *request().messages,
            {"role": "assistant", "content": result.content},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "ok"}],
            },
        ],
    )
    assert (await gateway.stream(follow)).text == "Done."
    assert server.message_requests[1].json["messages"][1]["content"] == result.content


async def test_cost_is_exact_against_hand_arithmetic(server: MessagesServer, gateway: Any) -> None:
    # Sonnet: 1,000 in × $3 + 500 out × $15 + 2,000 5m-writes × $3.75 + 10,000 reads × $0.30
    #        = $0.003 + $0.0075 + $0.0075 + $0.003 = $0.021
    usage = {
        "input_tokens": 1000,
        "output_tokens": 500,
        "cache_read_input_tokens": 10_000,
        "cache_creation_input_tokens": 2000,
        "cache_creation": {"ephemeral_5m_input_tokens": 2000, "ephemeral_1h_input_tokens": 0},
    }
    server.add(Reply.text("ok", usage=usage))
    result = await gateway.stream(request())
    assert result.usage == Usage(input=1000, output=500, cache_write_5m=2000, cache_read=10_000)
    assert result.cost == Decimal("0.021")


async def test_one_hour_writes_are_priced_at_the_one_hour_rate(server: MessagesServer, gateway: Any) -> None:
    # Opus: 2,000 in × $5 + 1,000 out × $25 + 1,000 5m × $6.25 + 4,000 1h × $10
    #       + 20,000 reads × $0.50 = $0.01 + $0.025 + $0.00625 + $0.04 + $0.01 = $0.09125
    usage = {
        "input": 2000,
        "output": 1000,
        "cache_write_5m": 1000,
        "cache_write_1h": 4000,
        "cache_read": 20_000,
    }
    server.add(Reply.text("ok", usage=usage))
    result = await gateway.stream(request(model=OPUS, cache_ttl="1h"))
    assert result.usage == Usage(2000, 1000, 1000, 4000, 20_000)
    assert result.cost == Decimal("0.09125")


async def test_cache_breakpoint_on_last_system_block_and_headers(
    server: MessagesServer, gateway: Any
) -> None:
    server.add(Reply.text("ok"), Reply.text("ok"))
    # A context long enough to pass Sonnet's minimum cacheable length (1,024 tokens).
    long_system = [SYSTEM[0], {"type": "text", "text": SYSTEM[1]["text"] * 200}]
    await gateway.stream(
        request(task_id="auth/login fix", attempt=2, turn=3, cache_ttl="1h", system=long_system)
    )
    sent = server.message_requests[0]
    system = sent.json["system"]
    assert "cache_control" not in system[0]
    assert system[-1]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
    assert long_system[-1].get("cache_control") is None  # the caller's blocks are not mutated
    assert sent.headers["x-gearshift-task"] == "auth%2Flogin%20fix"
    assert sent.headers["x-gearshift-attempt"] == "2"
    assert sent.headers["x-gearshift-turn"] == "3"
    assert sent.headers["authorization"] == "Bearer sk-test-key"
    assert sent.json["tools"] == [EDITOR]
    assert "output_config" not in sent.json  # the catalogue sets no effort for Sonnet
    assert sent.json["stream"] is True


async def test_effort_sent_only_when_catalogue_sets_it(server: MessagesServer, gateway: Any) -> None:
    server.add(Reply.text("ok"))
    choice = {"type": "tool", "name": "str_replace_based_edit_tool"}
    await gateway.stream(request(model=model_spec("opus-4-7", effort="xhigh"), tool_choice=choice))
    sent = server.message_requests[0].json
    assert sent["output_config"] == {"effort": "xhigh"}
    assert sent["tool_choice"] == choice
    assert sent["model"] == "claude-opus-4-7"


async def test_sdk_retries_overload_then_succeeds(server: MessagesServer, gateway: Any) -> None:
    server.add(Reply.http_error(529, "overloaded_error", "Overloaded", retry_after_ms=1), Reply.text("ok"))
    result = await gateway.stream(request())
    assert result.text == "ok"
    assert len(server.message_requests) == 2
    assert [r.headers["x-stainless-retry-count"] for r in server.message_requests] == ["0", "1"]


async def test_overload_that_persists_is_an_api_error(server: MessagesServer, gateway: Any) -> None:
    server.add(*[Reply.http_error(529, "overloaded_error", "Overloaded", retry_after_ms=1)] * 3)
    with pytest.raises(CallFault) as info:
        await gateway.stream(request())
    fault = info.value
    assert fault.kind == "api_error" and fault.status == 529
    assert "529" in fault.message and "overloaded_error" in fault.message
    assert "after 3 tries" in fault.message
    assert len(server.message_requests) == 3
    assert fault.usage == Usage() and fault.cost == 0


async def test_bad_request_is_not_retried(server: MessagesServer, gateway: Any) -> None:
    server.add(Reply.http_error(400, "invalid_request_error", "messages: field required"))
    with pytest.raises(CallFault) as info:
        await gateway.stream(request())
    assert info.value.kind == "api_error"
    assert info.value.error_type == "invalid_request_error"
    assert "HTTP 400" in info.value.message and "messages: field required" in info.value.message
    assert len(server.message_requests) == 1


async def test_mid_stream_error_event_is_a_stream_error(server: MessagesServer, gateway: Any) -> None:
    usage = {"input_tokens": 1200, "output_tokens": 80, "cache_read_input_tokens": 3000}
    server.add(Reply.stream_error("overloaded_error", "Overloaded", usage=usage))
    seen: list[str] = []
    with pytest.raises(CallFault) as info:
        await gateway.stream(request(), on_text=seen.append)
    fault = info.value
    assert fault.kind == "stream_error" and fault.status == 200
    assert "overloaded_error" in fault.message and "Overloaded" in fault.message
    assert seen  # text had arrived before the break…
    # …and what message_start billed is reported: 1,200 in + 1 out + 3,000 reads.
    assert fault.usage == Usage(input=1200, output=1, cache_read=3000)
    assert fault.cost == Decimal("0.004515")  # $0.0036 + $0.000015 + $0.0009
    assert len(server.message_requests) == 1  # never retried


async def test_cut_connection_is_connection_cut(server: MessagesServer, gateway: Any) -> None:
    server.add(Reply.cut())
    with pytest.raises(CallFault) as info:
        await gateway.stream(request())
    assert info.value.kind == "connection_cut"
    assert "RemoteProtocolError" in info.value.message
    assert info.value.usage.input == 10
    assert len(server.message_requests) == 1


async def test_stream_without_message_stop_is_truncated(server: MessagesServer, gateway: Any) -> None:
    server.add(Reply.truncated())
    with pytest.raises(CallFault) as info:
        await gateway.stream(request())
    assert info.value.kind == "truncated"
    assert "without message_stop" in info.value.message


async def test_stream_that_never_starts_is_truncated(server: MessagesServer, gateway: Any) -> None:
    server.add(Reply.truncated(after_frames=0))
    with pytest.raises(CallFault) as info:
        await gateway.stream(request())
    assert info.value.kind == "truncated"
    assert "before message_start" in info.value.message
    assert info.value.usage == Usage()


async def test_unreachable_api_is_a_connection_fault() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gw = ModelGateway(api_key="k", base_url=f"http://127.0.0.1:{port}", max_retries=0)
    try:
        with pytest.raises(CallFault) as info:
            await gw.stream(request())
    finally:
        await gw.aclose()
    assert info.value.kind == "connection"
    assert f"127.0.0.1:{port}" in info.value.message


async def test_no_credentials_fails_every_call_with_auth(server: MessagesServer) -> None:
    gw = ModelGateway.from_environment()
    assert gw.mode == "live"
    with pytest.raises(CallFault) as info:
        await gw.stream(request())
    assert info.value.kind == "auth"
    assert "ANTHROPIC_API_KEY" in info.value.message and "--replay" in info.value.message
    assert server.requests == []


async def test_environment_key_and_base_url_are_honoured(
    server: MessagesServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "token-from-env")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    server.add(Reply.text("via env"))
    gw = ModelGateway.from_environment()
    try:
        assert gw.mode == "live"
        assert (await gw.stream(request())).text == "via env"
    finally:
        await gw.aclose()
    assert server.message_requests[0].headers["authorization"] == "Bearer token-from-env"


def test_record_needs_a_key_and_excludes_replay(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ANTHROPIC_API_KEY"):
        ModelGateway.from_environment(record_dir=tmp_path / "rec")
    with pytest.raises(ValueError, match="cannot be used together"):
        ModelGateway.from_environment(record_dir=tmp_path / "a", replay_dir=tmp_path / "b")
    with pytest.raises(ValueError, match="does not exist"):
        ModelGateway.from_environment(replay_dir=tmp_path / "missing")


def test_request_checks_its_fields() -> None:
    with pytest.raises(ValueError, match="cache_ttl"):
        request(cache_ttl="10m")
    with pytest.raises(ValueError, match="max_tokens"):
        request(max_tokens=0)


def test_importing_the_client_does_not_import_the_sdk() -> None:
    code = (
        "import sys, gearshift.models.client; "
        "print(json.dumps(['anthropic' in sys.modules, 'httpx2' in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", "import json; " + code], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == [False, False]


async def test_client_is_built_off_the_event_loop_once(
    server: MessagesServer, gateway: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Importing the SDK takes over a second here: on the loop it would freeze an app's screen."""
    import threading

    built_on: list[int] = []
    original = ModelGateway._client

    def spy(self: ModelGateway) -> Any:
        if self._sdk is None:
            built_on.append(threading.get_ident())
        return original(self)

    monkeypatch.setattr(ModelGateway, "_client", spy)
    await asyncio.gather(gateway.prepare(), gateway.prepare())
    server.add(Reply.text("ok"))
    assert (await gateway.stream(request())).text == "ok"
    assert len(built_on) == 1 and built_on[0] != threading.get_ident()


async def test_a_failed_client_build_is_tried_again(gateway: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = ModelGateway._client

    def flaky(self: ModelGateway) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("first build fails")
        return original(self)

    monkeypatch.setattr(ModelGateway, "_client", flaky)
    with pytest.raises(RuntimeError, match="first build fails"):
        await gateway.prepare()
    assert not gateway.client_ready
    await gateway.prepare()
    assert gateway.client_ready and len(calls) == 2


async def test_prepare_without_credentials_builds_nothing() -> None:
    gw = ModelGateway()
    await gw.prepare()
    assert not gw.client_ready


async def test_a_fault_after_the_message_delta_books_its_cumulative_output(
    server: MessagesServer, gateway: Any
) -> None:
    whole = Reply.text("A long answer " * 20, usage={"input_tokens": 500, "output_tokens": 240})
    upto_delta = len(whole.frames("claude-sonnet-4-6")) - 1  # everything but message_stop
    server.add(
        Reply.stream_error(
            text="A long answer " * 20,
            usage={"input_tokens": 500, "output_tokens": 240},
            after_frames=upto_delta,
        )
    )
    with pytest.raises(CallFault) as caught:
        await gateway.stream(request())
    assert caught.value.kind == "stream_error"
    assert caught.value.usage == Usage(input=500, output=240)  # not message_start's 1 output token
    assert caught.value.cost == Decimal("0.0051")  # 500 * 3 + 240 * 15 µ$


async def test_an_sdk_exception_mid_stream_is_a_fault_with_its_usage(
    server: MessagesServer, gateway: Any
) -> None:
    bad = {"command": "create", "path": "a.py", "file_text": "lone \ud800 surrogate"}
    server.add(
        Reply.tool_use("str_replace_based_edit_tool", bad, usage={"input_tokens": 400, "output_tokens": 60})
    )
    with pytest.raises(CallFault) as caught:
        await gateway.stream(request())
    assert caught.value.kind == "stream_error"
    assert "ValueError: Unable to parse tool parameter JSON" in caught.value.message
    assert len(caught.value.message) < 500  # the SDK's message quotes the whole JSON: cut short
    assert caught.value.usage.input == 400
