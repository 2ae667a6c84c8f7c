"""Where the engine puts prompt-cache breakpoints, checked on the wire, and the cache's billing rule.

The engine runs headless against the loopback Messages API server (real SDK); the assertions
read the request bodies the server received.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

from gearshift.config import load_config
from gearshift.headless import run_headless
from gearshift.models.client import ModelGateway
from gearshift.models.request_tokens import PromptCache, body_parts, part_tokens
from gearshift.tasks import Task

from tests.engine.pipeline_project import GOOD, insert_after_total, make_project
from tests.support.messages_server import MessagesServer, Reply

EDITOR = "str_replace_based_edit_tool"
# ~2,600 tokens of real code: past Sonnet's 1,024-token minimum, under Opus's 4,096.
PADDING = "".join(f"\n\ndef helper_{n}(x: int) -> int:\n    return x * {n} + {n * 7}\n" for n in range(220))


def big_project(root: Path) -> Path:
    project = make_project(root)
    (project / "calc.py").write_text((project / "calc.py").read_text() + PADDING)
    return project


async def run(project: Path, server: MessagesServer, task: Task) -> dict[str, Any]:
    out = io.StringIO()
    gateway = ModelGateway(api_key="test-key", base_url=server.url, max_retries=0)
    await run_headless(
        load_config(project), [task], gateway, as_json=True, auto_approve=True, escalate="auto", out=out
    )
    return json.loads(out.getvalue().splitlines()[-1])


def marked(body: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(where, message index or -1, block index) of every block carrying cache_control."""
    out = [("system", -1, i) for i, b in enumerate(body.get("system") or []) if "cache_control" in b]
    for m, message in enumerate(body["messages"]):
        content = message["content"]
        if isinstance(content, list):
            out += [(message["role"], m, i) for i, b in enumerate(content) if "cache_control" in b]
    return out


TASK = Task(
    id="discount", prompt="Add discounted_total(prices, percent) to calc.py", context_files=("calc.py",)
)


async def test_breakpoint_moves_to_the_last_block_of_every_turn(tmp_path: Path) -> None:
    project = big_project(tmp_path / "p")
    server = MessagesServer(
        [
            Reply.tool_use(EDITOR, {"command": "view", "path": "tests/test_calc.py"}, text="Reading."),
            Reply.tool_use(EDITOR, insert_after_total(GOOD), text="Adding it."),
            Reply.text("Added discounted_total."),
        ]
    )
    with server:
        summary = await run(project, server, TASK)
    assert summary["tasks"][0]["status"] == "approved"
    bodies = [r.json for r in server.message_requests]
    assert len(bodies) == 3
    for turn, body in enumerate(bodies, start=1):
        marks = marked(body)
        assert len(marks) <= 4
        last = len(body["messages"]) - 1
        last_block = len(body["messages"][last]["content"]) - 1
        assert (body["messages"][last]["role"], last, last_block) in marks, (turn, marks)
        assert ("system", -1, len(body["system"]) - 1) in marks
        if turn > 1:  # the previous request's end stays marked, so its write is found and read
            prev = len(bodies[turn - 2]["messages"]) - 1
            assert any(m == prev for _, m, _ in marks), (turn, marks)
    # The breakpoint moved: turn 1 marked message 0, turn 3 marks message 4.
    assert [max(m for _, m, _ in marked(b)) for b in bodies] == [0, 2, 4]


async def test_no_breakpoint_under_the_minimum_cacheable_length(tmp_path: Path) -> None:
    # A security task goes straight to Opus, whose minimum cacheable length is 4,096 tokens;
    # the tiny project's whole request is far shorter.
    project = make_project(tmp_path / "p")
    task = Task(id="audit", prompt=TASK.prompt, scope="security", context_files=("calc.py",))
    server = MessagesServer(
        [Reply.tool_use(EDITOR, insert_after_total(GOOD), text="Adding it."), Reply.text("Done.")]
    )
    with server:
        summary = await run(project, server, task)
    assert summary["tasks"][0]["status"] == "approved"
    bodies = [r.json for r in server.message_requests]
    assert [b["model"] for b in bodies] == ["claude-opus-4-7"] * 2
    assert 1024 < body_parts(bodies[0])[-1].prefix_tokens < 4096  # Sonnet would have cached it
    assert all("cache_control" not in json.dumps(b) for b in bodies)


async def test_answer_only_question_has_no_breakpoint(tmp_path: Path) -> None:
    project = big_project(tmp_path / "p")
    question = Task(
        id="ask",
        prompt="What does total() return for an empty list?",
        context_files=("calc.py",),
        interactive=True,
        requires_validation=False,
    )
    server = MessagesServer(
        [
            Reply.tool_use(EDITOR, {"command": "view", "path": "calc.py"}, text="Checking."),
            Reply.text("0: sum([]) is 0."),
        ]
    )
    with server:
        summary = await run(project, server, question)
    assert summary["tasks"][0]["status"] == "approved"
    bodies = [r.json for r in server.message_requests]
    assert len(bodies) == 2 and body_parts(bodies[0])[-1].prefix_tokens > 1024
    assert all("cache_control" not in json.dumps(b) for b in bodies)


def test_counting_rule_by_hand() -> None:
    block = {"type": "text", "text": "héllo", "cache_control": {"type": "ephemeral"}}
    # {"type":"text","text":"héllo"} is 29 bytes in UTF-8 (é is two): ceil(29 / 4) = 8
    assert part_tokens(block) == math.ceil(29 / 4) == 8
    editor = {"type": "text_editor_20250728", "name": EDITOR}
    assert part_tokens(editor) == math.ceil(len(json.dumps(editor, separators=(",", ":"))) / 4) + 700


def test_cache_writes_at_breakpoints_and_reads_what_an_earlier_call_wrote() -> None:
    cache = PromptCache(lambda model: 100)
    system = [{"type": "text", "text": "x" * 800, "cache_control": {"type": "ephemeral"}}]  # 205 tokens
    first = {"model": "m", "system": system, "messages": [{"role": "user", "content": "y" * 400}]}
    sys_tokens = part_tokens(system[0])
    user_tokens = part_tokens({"type": "text", "text": "y" * 400})
    usage = cache.bill(first, now=0.0)
    assert usage["cache_creation_input_tokens"] == sys_tokens
    assert usage["cache_read_input_tokens"] == 0 and usage["input_tokens"] == user_tokens
    # Same prefix 4 minutes later: read back; after the 5-minute TTL of that read: gone.
    assert cache.bill(first, now=240.0)["cache_read_input_tokens"] == sys_tokens
    assert cache.bill(first, now=240.0 + 301)["cache_read_input_tokens"] == 0
    # Under the model's minimum nothing is written, so nothing can be read.
    strict = PromptCache(lambda model: 10_000)
    assert strict.bill(first, 0.0)["cache_creation_input_tokens"] == 0
    assert strict.bill(first, 1.0)["cache_read_input_tokens"] == 0
    # Without any breakpoint the API caches nothing, however long the prompt.
    plain = {"model": "m", "system": [{"type": "text", "text": "x" * 800}], "messages": first["messages"]}
    assert cache.bill(plain, 2.0) == {
        "input_tokens": sys_tokens + user_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
    }
