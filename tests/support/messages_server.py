"""A loopback Anthropic Messages API server for tests: real HTTP on 127.0.0.1, scripted replies.

Tests drive the real SDK (and so its retries, SSE parsing and error mapping) against this server
instead of mocking the client. Each request is captured (headers + JSON body); each reply comes
from a queue of `Reply` objects or from a function of the request. Besides ordinary answers it
can misbehave the ways the real service does: an HTTP error (with retry hints), an `error`
event mid-stream, a connection cut mid-body (chunked encoding, socket closed before the last
chunk, so the client sees a protocol error), and a stream that ends cleanly but early.

    with MessagesServer([Reply.text("hello")]) as server:
        gateway = ModelGateway(api_key="test-key", base_url=server.url)
"""

from __future__ import annotations

import collections
import json
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from gearshift.models.scripted import error_frame, message_json, sse_reply

DEFAULT_USAGE = {"input_tokens": 10, "output_tokens": 5}
REPLY_KINDS = ("message", "http_error", "stream_error", "cut", "truncated")


@dataclass(frozen=True)
class Reply:
    """One scripted answer. Build with the class methods; `replace` fields for variations.

    For the broken kinds (`stream_error`, `cut`, `truncated`) the server sends the first
    `after_frames` frames of the scripted reply (default: all but the final message_delta and
    message_stop) and then breaks off in that kind's way.
    """

    kind: str = "message"
    blocks: tuple[dict[str, Any], ...] = ()
    usage: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_USAGE))
    stop_reason: str = "end_turn"
    model: str | None = None  # None: answer as the model the request named
    status: int = 200
    error_type: str = ""
    error_message: str = ""
    retry_after_ms: float | None = None
    should_retry: bool | None = None
    after_frames: int | None = None
    frame_delay_s: float = 0.0
    first_frame_delay_s: float = 0.0  # time to first token: a pause before the first content delta
    text_chunk_chars: int = 12

    def __post_init__(self) -> None:
        if self.kind not in REPLY_KINDS:
            raise ValueError(f"Reply.kind must be one of {REPLY_KINDS}, got {self.kind!r}")

    @classmethod
    def text(cls, text: str, *, usage: dict[str, Any] | None = None, **kw: Any) -> Reply:
        return cls(blocks=({"type": "text", "text": text},), usage=usage or dict(DEFAULT_USAGE), **kw)

    @classmethod
    def tool_use(
        cls,
        name: str,
        input: dict[str, Any],
        *,
        text: str | None = None,
        id: str | None = None,
        usage: dict[str, Any] | None = None,
        **kw: Any,
    ) -> Reply:
        blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
        tool: dict[str, Any] = {"type": "tool_use", "name": name, "input": input}
        if id:
            tool["id"] = id
        blocks.append(tool)
        kw.setdefault("stop_reason", "tool_use")
        return cls(blocks=tuple(blocks), usage=usage or dict(DEFAULT_USAGE), **kw)

    @classmethod
    def http_error(
        cls,
        status: int,
        error_type: str,
        message: str,
        *,
        retry_after_ms: float | None = None,
        should_retry: bool | None = None,
    ) -> Reply:
        return cls(
            kind="http_error",
            status=status,
            error_type=error_type,
            error_message=message,
            retry_after_ms=retry_after_ms,
            should_retry=should_retry,
        )

    @classmethod
    def stream_error(
        cls,
        error_type: str = "overloaded_error",
        message: str = "Overloaded",
        *,
        text: str = "A partial answer that breaks off",
        **kw: Any,
    ) -> Reply:
        base = cls.text(text, **kw)
        return replace(base, kind="stream_error", error_type=error_type, error_message=message)

    @classmethod
    def cut(cls, *, text: str = "A partial answer that is cut", **kw: Any) -> Reply:
        return replace(cls.text(text, **kw), kind="cut")

    @classmethod
    def truncated(cls, *, text: str = "A partial answer that stops", **kw: Any) -> Reply:
        return replace(cls.text(text, **kw), kind="truncated")

    def frames(self, model: str) -> list[bytes]:
        """The SSE frames this reply sends to a streaming request for `model`."""
        frames = sse_reply(
            self.model or model,
            list(self.blocks),
            self.usage,
            self.stop_reason,
            text_chunk_chars=self.text_chunk_chars,
        )
        if self.kind == "message":
            return frames
        cut_at = len(frames) - 2 if self.after_frames is None else self.after_frames
        frames = frames[:cut_at]
        if self.kind == "stream_error":
            frames.append(error_frame(self.error_type, self.error_message))
        return frames


@dataclass(frozen=True)
class CapturedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    json: Any


Script = Callable[[dict[str, Any], dict[str, str]], Reply]


class MessagesServer:
    """`POST /v1/messages` (streaming and not) and `POST /v1/messages/count_tokens` on 127.0.0.1.

    Accepts `x-api-key` or `Authorization: Bearer`; anything without one gets a 401. When the
    script runs dry the server answers 500 with `x-should-retry: false`, so a test that makes
    one call too many fails at once with a message saying so.
    """

    def __init__(self, script: Iterable[Reply] | Script | None = None) -> None:
        self.requests: list[CapturedRequest] = []
        self._queue: collections.deque[Reply] = collections.deque()
        self._script: Script | None = None
        if callable(script):
            self._script = script
        elif script is not None:
            self._queue.extend(script)
        self._lock = threading.Lock()
        self.errors: list[str] = []  # exceptions in the server thread, for debugging a test
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.owner = self
        self._thread: threading.Thread | None = None
        self._served = 0

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def message_requests(self) -> list[CapturedRequest]:
        return [r for r in self.requests if r.path == "/v1/messages"]

    def add(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def start(self) -> MessagesServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> MessagesServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _capture(self, request: CapturedRequest) -> str:
        with self._lock:
            self.requests.append(request)
            self._served += 1
            return f"req_loopback_{self._served:04d}"

    def _next_reply(self, body: dict[str, Any], headers: dict[str, str]) -> Reply | None:
        if self._script is not None:
            return self._script(body, headers)
        with self._lock:
            return self._queue.popleft() if self._queue else None


class _QuietServer(ThreadingHTTPServer):
    """Keeps server-thread exceptions off the test output (a client that hangs up after an
    error event is normal) but on record in `MessagesServer.errors`."""

    daemon_threads = True
    owner: MessagesServer

    def handle_error(self, request: Any, client_address: Any) -> None:

        exc = sys.exc_info()[1]
        self.owner.errors.append(f"{type(exc).__name__}: {exc}")


def _handler_for(server: MessagesServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_MessagesHandler):
        owner = server

    return Handler


class _MessagesHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked bodies, like the real API
    owner: MessagesServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        request_id = self.owner._capture(CapturedRequest("POST", self.path, headers, body))
        bearer = headers.get("authorization", "").startswith("Bearer ")
        if not headers.get("x-api-key") and not bearer:
            return self._error(401, "authentication_error", "x-api-key header is required", request_id)
        if not isinstance(body, dict):
            return self._error(400, "invalid_request_error", "the body must be a JSON object", request_id)
        if self.path == "/v1/messages/count_tokens":
            sized = {k: body.get(k) for k in ("system", "messages", "tools")}
            return self._json(200, {"input_tokens": (len(json.dumps(sized)) + 3) // 4}, request_id)
        if self.path != "/v1/messages":
            return self._error(404, "not_found_error", f"no route {self.path}", request_id)
        missing = [k for k in ("model", "max_tokens", "messages") if k not in body]
        if missing:
            return self._error(400, "invalid_request_error", f"missing fields {missing}", request_id)
        reply = self.owner._next_reply(body, headers)
        if reply is None:
            return self._error(
                500, "api_error", "messages_server: no scripted reply left", request_id, retry=False
            )
        if reply.kind == "http_error":
            return self._error(
                reply.status,
                reply.error_type,
                reply.error_message,
                request_id,
                retry=reply.should_retry,
                retry_after_ms=reply.retry_after_ms,
            )
        if body.get("stream"):
            return self._stream(reply, body["model"], request_id)
        if reply.kind != "message":
            return self._error(
                400,
                "invalid_request_error",
                f"a {reply.kind} reply needs stream: true",
                request_id,
                retry=False,
            )
        message = message_json(
            reply.model or body["model"], list(reply.blocks), reply.usage, reply.stop_reason
        )
        return self._json(200, message, request_id)

    def _json(self, status: int, payload: Any, request_id: str, extra: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", request_id)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(
        self,
        status: int,
        error_type: str,
        message: str,
        request_id: str,
        *,
        retry: bool | None = None,
        retry_after_ms: float | None = None,
    ) -> None:
        extra: dict[str, str] = {}
        if retry is not None:
            extra["x-should-retry"] = "true" if retry else "false"
        if retry_after_ms is not None:
            extra["retry-after-ms"] = str(retry_after_ms)
        payload = {
            "type": "error",
            "error": {"type": error_type, "message": message},
            "request_id": request_id,
        }
        self._json(status, payload, request_id, extra)

    def _stream(self, reply: Reply, model: str, request_id: str) -> None:
        frames = reply.frames(model)
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("request-id", request_id)
        self.end_headers()
        try:
            for n, data in enumerate(frames):
                if n == 2 and reply.first_frame_delay_s:
                    time.sleep(reply.first_frame_delay_s)  # after message_start + content_block_start
                elif reply.frame_delay_s:
                    time.sleep(reply.frame_delay_s)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
            if reply.kind == "cut":
                # No terminating chunk: the client's HTTP parser sees the body end mid-message.
                self.close_connection = True
                return
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except ConnectionError:
            # The client may hang up as soon as it has read an error event; that is its right.
            self.close_connection = True
