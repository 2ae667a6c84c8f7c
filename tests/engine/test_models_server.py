"""The loopback Messages API server speaks enough of the API for the SDK's other entry points."""

from __future__ import annotations

import anthropic
import httpx2

from tests.support import MessagesServer, Reply


async def test_non_streaming_create_and_count_tokens() -> None:
    def script(body: dict, headers: dict[str, str]) -> Reply:
        return Reply.tool_use("lookup", {"q": body["messages"][0]["content"]})

    with MessagesServer(script) as server:
        client = anthropic.AsyncAnthropic(api_key="k", base_url=server.url, max_retries=0)
        try:
            message = await client.messages.create(
                model="claude-haiku-4-5",
                max_tokens=50,
                messages=[{"role": "user", "content": "find me"}],
            )
            counted = await client.messages.count_tokens(
                model="claude-haiku-4-5", messages=[{"role": "user", "content": "x" * 400}]
            )
        finally:
            await client.close()
    assert message.model == "claude-haiku-4-5"
    assert message.stop_reason == "tool_use"
    assert message.content[0].input == {"q": "find me"}
    assert counted.input_tokens > 100
    assert [r.path for r in server.requests] == ["/v1/messages", "/v1/messages/count_tokens"]


def test_auth_header_required_and_x_api_key_accepted() -> None:
    with MessagesServer([Reply.text("hi")]) as server:
        body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
        anonymous = httpx2.post(f"{server.url}/v1/messages", json=body)
        keyed = httpx2.post(f"{server.url}/v1/messages", json=body, headers={"x-api-key": "k"})
        dry = httpx2.post(f"{server.url}/v1/messages", json=body, headers={"x-api-key": "k"})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["type"] == "authentication_error"
    assert keyed.status_code == 200 and keyed.json()["content"][0]["text"] == "hi"
    assert dry.status_code == 500 and "no scripted reply left" in dry.json()["error"]["message"]
    assert dry.headers["x-should-retry"] == "false"
    assert len(server.requests) == 3
