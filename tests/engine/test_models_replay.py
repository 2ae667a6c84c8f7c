"""Recording live calls and replaying them offline, through the real SDK."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import pytest
from gearshift.models.client import CallFault, CallRequest, ModelGateway
from gearshift.models.replay import (
    load_recording,
    recording_paths,
    replay_transport,
    task_dir_name,
)
from gearshift.models.scripted import sse_reply, write_recording

from tests.support import MessagesServer, Reply, model_spec

SONNET = model_spec("sonnet-4-6")
OPUS = model_spec("opus-4-7")
SECRET = "sk-ant-api03-SECRET-do-not-write-me"
USAGE = {
    "input_tokens": 900,
    "output_tokens": 120,
    "cache_read_input_tokens": 4000,
    "cache_creation": {"ephemeral_5m_input_tokens": 300, "ephemeral_1h_input_tokens": 0},
}


def request(task_id: str = "t-1", attempt: int = 1, turn: int = 1, model: Any = SONNET) -> CallRequest:
    return CallRequest(
        task_id=task_id,
        attempt=attempt,
        turn=turn,
        model=model,
        system=[{"type": "text", "text": "system prompt, any wording"}],
        messages=[{"role": "user", "content": "do the thing"}],
        tools=[],
        max_tokens=512,
    )


@pytest.fixture(autouse=True)
def no_ambient_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[MessagesServer]:
    with MessagesServer() as srv:
        yield srv


def saved_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


async def replay(root: Path, req: CallRequest, speed: float = 0) -> Any:
    gw = ModelGateway(mode="replay", recordings=root, replay_speed=speed)
    try:
        return await gw.stream(req)
    finally:
        await gw.aclose()


async def test_record_then_replay_offline_gives_the_same_answer(
    server: MessagesServer, tmp_path: Path
) -> None:
    rec = tmp_path / "rec"
    args = {"command": "view", "path": "pkg/mod.py"}
    server.add(
        Reply.text("Looking at the code first.", usage=USAGE),
        Reply.tool_use("str_replace_based_edit_tool", args, text="Viewing.", usage=USAGE),
    )
    recorder = ModelGateway(mode="record", api_key=SECRET, base_url=server.url, recordings=rec)
    try:
        live = [await recorder.stream(request(turn=1)), await recorder.stream(request(turn=2))]
    finally:
        await recorder.aclose()
    assert server.message_requests[0].headers["accept-encoding"] == "identity"

    texts: list[str] = []
    gw = ModelGateway(mode="replay", recordings=rec, replay_speed=0)
    try:
        assert gw.mode == "replay" and gw.scripted is False
        replayed = [await gw.stream(request(turn=1), on_text=texts.append)]
        replayed.append(await gw.stream(request(turn=2)))
    finally:
        await gw.aclose()
    for a, b in zip(live, replayed, strict=True):
        assert (b.content, b.usage, b.stop_reason, b.cost) == (
            a.content,
            a.usage,
            a.stop_reason,
            a.cost,
        )
        assert b.request_id == a.request_id
    assert "".join(texts) == "Looking at the code first."
    assert replayed[1].tool_uses[0]["input"] == args

    files = saved_files(rec)
    assert [p.relative_to(rec).as_posix() for p in files] == [
        "t-1/a1-t1.json",
        "t-1/a1-t1.sse",
        "t-1/a1-t2.json",
        "t-1/a1-t2.sse",
    ]
    for path in files:
        data = path.read_bytes()
        assert SECRET.encode() not in data
        assert b"SECRET" not in data and b"Bearer" not in data
        assert b"authorization" not in data.lower() and b"x-api-key" not in data.lower()
    sidecar = json.loads((rec / "t-1" / "a1-t1.json").read_text())
    assert sidecar["model"] == "claude-sonnet-4-6" and sidecar["status"] == 200
    assert sidecar["content_type"].startswith("text/event-stream")
    assert sum(n for _, n in sidecar["chunks"]) == (rec / "t-1" / "a1-t1.sse").stat().st_size
    assert sidecar["scripted"] is False and sidecar["recorded_at"]


@pytest.mark.parametrize(
    ("reply", "kind", "ending"),
    [
        (Reply.cut(), "connection_cut", "cut"),
        (Reply.stream_error("overloaded_error", "Overloaded"), "stream_error", None),
        (Reply.truncated(), "truncated", None),
        (Reply.http_error(400, "invalid_request_error", "bad tools"), "api_error", None),
    ],
)
async def test_recorded_faults_replay_as_the_same_faults(
    server: MessagesServer, tmp_path: Path, reply: Reply, kind: str, ending: str | None
) -> None:
    server.add(reply)
    recorder = ModelGateway(mode="record", api_key=SECRET, base_url=server.url, recordings=tmp_path)
    try:
        with pytest.raises(CallFault) as live:
            await recorder.stream(request())
    finally:
        await recorder.aclose()
    assert live.value.kind == kind
    sidecar = json.loads(recording_paths(tmp_path, "t-1", 1, 1)[1].read_text())
    if ending is not None:
        assert sidecar["ending"] == ending
    with pytest.raises(CallFault) as replayed:
        await replay(tmp_path, request())
    assert replayed.value.kind == kind
    assert replayed.value.usage == live.value.usage
    assert replayed.value.error_type == live.value.error_type


async def test_missing_recording_is_reported_plainly(tmp_path: Path) -> None:
    write_recording(tmp_path, "t-1", 1, 1, "claude-sonnet-4-6", sse_reply("claude-sonnet-4-6", [], USAGE), 0)
    with pytest.raises(CallFault) as info:
        await replay(tmp_path, request(task_id="t-1", attempt=2, turn=3))
    assert info.value.kind == "replay_missing"
    assert "no recording for task t-1 attempt 2 turn 3" in info.value.message
    assert str(tmp_path) in info.value.message


async def test_recorded_model_must_match_the_requested_one(tmp_path: Path) -> None:
    frames = sse_reply("claude-sonnet-4-6", [{"type": "text", "text": "hi"}], USAGE)
    write_recording(tmp_path, "t-1", 1, 1, "claude-sonnet-4-6", frames, 0)
    with pytest.raises(CallFault) as info:
        await replay(tmp_path, request(model=OPUS))
    assert info.value.kind == "replay_mismatch"
    assert "claude-sonnet-4-6" in info.value.message and "claude-opus-4-7" in info.value.message


async def test_damaged_recording_is_a_mismatch_not_a_guess(tmp_path: Path) -> None:
    frames = sse_reply("claude-sonnet-4-6", [{"type": "text", "text": "hi"}], USAGE)
    sse = write_recording(tmp_path, "t-1", 1, 1, "claude-sonnet-4-6", frames, 0)
    sse.write_bytes(sse.read_bytes()[:-10])
    with pytest.raises(CallFault) as info:
        await replay(tmp_path, request())
    assert info.value.kind == "replay_mismatch" and "damaged" in info.value.message


async def test_replayed_faults_are_faults_too(tmp_path: Path) -> None:
    frames = sse_reply("claude-sonnet-4-6", [{"type": "text", "text": "cut short"}], USAGE)
    write_recording(tmp_path, "t-1", 1, 1, "claude-sonnet-4-6", frames[:-2], 0)
    with pytest.raises(CallFault) as info:
        await replay(tmp_path, request())
    assert info.value.kind == "truncated"
    assert info.value.usage.cache_read == 4000  # what message_start billed


async def test_speed_zero_replays_a_scripted_folder(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"scripted": true}')
    blocks = [{"type": "text", "text": "Scripted demo answer."}]
    frames = sse_reply("claude-opus-4-7", blocks, USAGE)
    write_recording(tmp_path, "demo", 2, 1, "claude-opus-4-7", frames, 250.0)
    gw = ModelGateway(mode="replay", recordings=tmp_path, replay_speed=0)
    try:
        assert gw.scripted is True
        result = await gw.stream(request(task_id="demo", attempt=2, model=OPUS))
    finally:
        await gw.aclose()
    assert result.text == "Scripted demo answer."
    assert result.model_id == "claude-opus-4-7"


def test_scripted_flag_comes_from_manifest_or_sidecars(tmp_path: Path) -> None:
    frames = sse_reply("claude-sonnet-4-6", [{"type": "text", "text": "x"}], USAGE)
    write_recording(tmp_path / "demo", "t", 1, 1, "claude-sonnet-4-6", frames, 0, scripted=True)
    write_recording(tmp_path / "real", "t", 1, 1, "claude-sonnet-4-6", frames, 0, scripted=False)
    assert ModelGateway(mode="replay", recordings=tmp_path / "demo").scripted is True
    assert ModelGateway(mode="replay", recordings=tmp_path / "real").scripted is False
    (tmp_path / "real" / "manifest.json").write_text('{"scripted": true}')
    assert ModelGateway(mode="replay", recordings=tmp_path / "real").scripted is True


async def test_replay_waits_the_recorded_gaps_scaled_by_speed(tmp_path: Path) -> None:
    frames = sse_reply("claude-sonnet-4-6", [{"type": "text", "text": "paced"}], USAGE)
    gaps = [400.0] + [20.0 * (i + 1) for i in range(len(frames) - 1)]
    write_recording(tmp_path, "t-1", 1, 1, "claude-sonnet-4-6", frames, gaps)
    assert [n for _, n in json.loads(recording_paths(tmp_path, "t-1", 1, 1)[1].read_text())["chunks"]] == [
        len(f) for f in frames
    ]

    async def run(speed: float) -> tuple[list[float], str]:
        asked: list[float] = []

        async def fake_sleep(seconds: float) -> None:
            asked.append(seconds)

        transport = replay_transport(tmp_path, speed=speed, sleep=fake_sleep)
        client = anthropic.AsyncAnthropic(
            api_key="unused",
            base_url="http://replay.test",
            max_retries=0,
            http_client=httpx2.AsyncClient(transport=transport),
        )
        async with client.messages.stream(
            model="claude-sonnet-4-6",
            max_tokens=10,
            messages=[{"role": "user", "content": "x"}],
            extra_headers=request().headers(),
        ) as stream:
            text = await stream.get_final_text()
        await client.close()
        return asked, text

    asked, text = await run(speed=2.0)
    assert text == "paced"
    assert asked == pytest.approx([g / 1000 / 2.0 for g in gaps])
    asked, _ = await run(speed=0)
    assert asked == []
    asked, _ = await run(speed=float("inf"))
    assert asked == []


def test_recorded_chunks_read_back_in_order(tmp_path: Path) -> None:
    frames = [b"event: ping\ndata: {}\n\n", b'event: ping\ndata: {"a":1}\n\n']
    write_recording(tmp_path, "t", 3, 4, "m", frames, [5.0, 7.5], scripted=False)
    rec = load_recording(tmp_path, "t", 3, 4)
    assert rec.chunks == [(5.0, frames[0]), (12.5, frames[1])]
    assert (rec.model, rec.status, rec.scripted) == ("m", 200, False)


def test_task_ids_become_safe_folder_names(tmp_path: Path) -> None:
    assert task_dir_name("fix-bug_2") == "fix-bug_2"
    assert task_dir_name("../../etc") == "..%2F..%2Fetc"
    assert task_dir_name("..") == "%2E%2E"
    sse, sidecar = recording_paths(tmp_path, "a/b", 1, 2)
    assert sse.parent.parent == tmp_path and sse.name == "a1-t2.sse" and sidecar.suffix == ".json"
    with pytest.raises(ValueError):
        task_dir_name("")


async def test_reworded_prompt_still_finds_its_recording(tmp_path: Path) -> None:
    frames = sse_reply("claude-sonnet-4-6", [{"type": "text", "text": "same"}], USAGE)
    write_recording(tmp_path, "auth/login", 1, 1, "claude-sonnet-4-6", frames, 0)
    req = request(task_id="auth/login")
    reworded = CallRequest(**{**req.__dict__, "system": [{"type": "text", "text": "brand new prompt"}]})
    assert (await replay(tmp_path, reworded)).text == "same"


def test_no_key_with_default_recordings_replays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    frames = sse_reply("claude-sonnet-4-6", [{"type": "text", "text": "x"}], USAGE)
    write_recording(tmp_path, "t", 1, 1, "claude-sonnet-4-6", frames, 0)
    assert ModelGateway.from_environment(default_recordings=tmp_path).mode == "replay"
    assert ModelGateway.from_environment(default_recordings=tmp_path / "empty").mode == "live"
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-real")
    assert ModelGateway.from_environment(default_recordings=tmp_path).mode == "live"
    assert ModelGateway.from_environment(replay_dir=tmp_path).mode == "replay"


def _with(req: CallRequest, **changes: Any) -> CallRequest:
    return CallRequest(**{**req.__dict__, **changes})


async def test_a_recording_is_served_only_to_the_request_it_was_made_for(
    server: MessagesServer, tmp_path: Path
) -> None:
    """The recorded request hash decides: the same task id with another prompt, other context
    files or another conversation gets the "no recording" failure naming the task, never the
    recorded answer; reworded instructions still find it."""
    rec = tmp_path / "rec"
    base = _with(
        request(task_id="dup"),
        system=[
            {"type": "text", "text": "instructions"},
            {"type": "text", "text": "<file path='a.py'>x = 1</file>"},
        ],
    )
    server.add(Reply.text("the answer to the original question", usage=USAGE))
    recorder = ModelGateway(mode="record", api_key=SECRET, base_url=server.url, recordings=rec)
    try:
        await recorder.stream(base)
    finally:
        await recorder.aclose()
    assert len(json.loads((rec / "dup" / "a1-t1.json").read_text())["request_hash"]) == 16

    reworded = _with(base, system=[{"type": "text", "text": "new wording"}, base.system[1]])
    assert (await replay(rec, reworded)).text == "the answer to the original question"
    other_prompt = _with(base, messages=[{"role": "user", "content": "a different question"}])
    other_files = _with(
        base, system=[base.system[0], {"type": "text", "text": "<file path='a.py'>x = 2</file>"}]
    )
    longer = _with(
        base,
        messages=[
            *base.messages,
            {"role": "assistant", "content": "hm"},
            {"role": "user", "content": "go on"},
        ],
    )
    for changed in (other_prompt, other_files, longer):
        with pytest.raises(CallFault) as info:
            await replay(rec, changed)
        assert info.value.kind == "replay_missing"
        assert "task dup attempt 1 turn 1" in info.value.message and "another prompt" in info.value.message


def test_the_request_hash_ignores_addresses_and_durations_but_not_numbers() -> None:
    from gearshift.models.request_hash import request_hash

    def body(text: str, model: str = "claude-sonnet-4-6") -> dict[str, Any]:
        return {
            "model": model,
            "system": [{"type": "text", "text": "i"}],
            "messages": [{"role": "user", "content": text}],
        }

    a = body("cart = <Cart object at 0x7efc2f96b790>\n1 failed in 0.42s (12 ms)")
    b = body("cart = <Cart object at 0x7f00aa11bb22>\n1 failed in 3.10s (97 ms)")
    assert request_hash(a) == request_hash(b)
    assert request_hash(body("assert 3739 == 3671")) != request_hash(body("assert 3739 == 3672"))
    assert request_hash(a) != request_hash(body(a["messages"][0]["content"], model="claude-opus-4-7"))
