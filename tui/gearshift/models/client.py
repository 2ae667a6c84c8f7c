"""The one door to the model: a streamed Messages API call, measured, priced, or a clear fault.

Everything goes through the official SDK (`AsyncAnthropic().messages.stream`), whether the bytes
come from the API, from a compatible gateway at ANTHROPIC_BASE_URL, or from a recording on disk
(replay.py plugs a transport under the same SDK). The SDK already retries 429/5xx and connection
failures before a stream starts; once it has started nothing is retried, and this module's job
is to make sure a broken stream (an `error` event, a cut connection, an end without
`message_stop`) is reported as a `CallFault` and never passed on as a finished answer.

`anthropic` is imported lazily: it takes most of a second, and commands that call no model
(report, init, --help) should not pay for it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gearshift.models.call import (  # noqa: F401  (re-exported: the gateway's vocabulary)
    FAULT_KINDS,
    HEADER_ATTEMPT,
    HEADER_TASK,
    HEADER_TURN,
    MODES,
    NO_KEY_MESSAGE,
    REPLAY_BASE_URL,
    CallFault,
    CallRequest,
    CallResult,
)
from gearshift.models.pricing import Usage, cost
from gearshift.redact import redact, redact_value
from gearshift.vocab import FaultKind, SessionMode

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic


class ModelGateway:
    """Streams calls live, records them, or replays them — always through the real SDK.

    Credentials are taken only as given (`from_environment` reads the environment): a live
    gateway without any fails each call with kind "auth" instead of reaching for profile files.
    `base_url=None` lets the SDK read ANTHROPIC_BASE_URL.
    """

    def __init__(
        self,
        *,
        mode: SessionMode = "live",
        api_key: str | None = None,
        base_url: str | None = None,
        recordings: Path | None = None,
        replay_speed: float = 1.0,
        max_retries: int = 2,
        timeout_s: float = 600.0,
        auth_token: str | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if max_retries < 0 or timeout_s <= 0:
            raise ValueError("max_retries must be ≥ 0 and timeout_s positive")
        if mode in ("replay", "record") and recordings is None:
            raise ValueError(f"{mode} mode needs a recordings folder")
        self.mode = mode
        self.recordings = Path(recordings) if recordings is not None else None
        self.scripted = False
        self._api_key = api_key or None
        self._auth_token = auth_token or None
        self._base_url = base_url
        self._max_retries = max_retries
        self._timeout_s = timeout_s
        self._replay_speed = replay_speed
        self._sdk: AsyncAnthropic | None = None
        self._building: asyncio.Future[AsyncAnthropic] | None = None
        if mode == "replay":
            from gearshift.models.replay import folder_is_scripted

            assert self.recordings is not None
            if not self.recordings.is_dir():
                raise ValueError(f"replay folder {self.recordings} does not exist")
            if replay_speed < 0:
                raise ValueError(f"replay speed must be ≥ 0 (0 = instant), got {replay_speed}")
            self.scripted = folder_is_scripted(self.recordings)
        elif mode == "record":
            if not self.has_credentials:
                raise ValueError(f"recording needs a real API key; {NO_KEY_MESSAGE}")
            assert self.recordings is not None
            self.recordings.mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_environment(
        cls,
        *,
        record_dir: Path | None = None,
        replay_dir: Path | None = None,
        default_recordings: Path | None = None,
        replay_speed: float = 1.0,
    ) -> ModelGateway:
        """The gateway the command line asked for.

        --replay DIR → replay; --record DIR → record (needs a key, else ValueError); a key in
        ANTHROPIC_API_KEY / ANTHROPIC_AUTH_TOKEN → live; no key but `default_recordings` holding
        recordings → replay; otherwise a live gateway whose calls fail with kind "auth".
        """
        if record_dir is not None and replay_dir is not None:
            raise ValueError("--record and --replay cannot be used together")
        key = os.environ.get("ANTHROPIC_API_KEY") or None
        token = os.environ.get("ANTHROPIC_AUTH_TOKEN") or None
        base_url = os.environ.get("ANTHROPIC_BASE_URL") or None
        if replay_dir is not None:
            return cls(mode="replay", recordings=replay_dir, replay_speed=replay_speed)
        if record_dir is not None:
            if key is None and token is None:
                raise ValueError(f"--record needs a real API key; {NO_KEY_MESSAGE}")
            return cls(
                mode="record",
                api_key=key,
                auth_token=token,
                base_url=base_url,
                recordings=record_dir,
            )
        if key is not None or token is not None:
            return cls(mode="live", api_key=key, auth_token=token, base_url=base_url)
        if default_recordings is not None:
            from gearshift.models.replay import has_recordings

            if has_recordings(default_recordings):
                return cls(mode="replay", recordings=default_recordings, replay_speed=replay_speed)
        return cls(mode="live", base_url=base_url)

    @property
    def has_credentials(self) -> bool:
        return self.mode == "replay" or self._api_key is not None or self._auth_token is not None

    @property
    def client_ready(self) -> bool:
        """Whether the SDK is imported and its client built (prepare() or a first call did it)."""
        return self._sdk is not None

    async def prepare(self) -> None:
        """Build the client ahead of the first call (an app calls this once it is on screen)."""
        if self.has_credentials and self._sdk is None:
            await self._build_client()

    async def _build_client(self) -> AsyncAnthropic:
        """Import the SDK and build its client on a thread: on a 2-core machine that is over a
        second of work, and on the event loop it would freeze the app's screen and keys."""
        if self._building is None:
            self._building = asyncio.ensure_future(asyncio.to_thread(self._client))
        try:
            return await asyncio.shield(self._building)
        except BaseException:
            if self._building.done():  # a failed build is tried again by the next call
                self._building = None
            raise

    def _client(self) -> AsyncAnthropic:
        if self._sdk is not None:
            return self._sdk
        import anthropic
        import httpx2

        timeout = httpx2.Timeout(self._timeout_s, connect=min(5.0, self._timeout_s))
        if self.mode == "replay":
            from gearshift.models.replay import replay_transport

            assert self.recordings is not None
            transport = replay_transport(self.recordings, speed=self._replay_speed)
            self._sdk = anthropic.AsyncAnthropic(
                api_key="replay-needs-no-key",
                base_url=REPLAY_BASE_URL,
                max_retries=0,
                timeout=timeout,
                http_client=anthropic.DefaultAsyncHttpxClient(transport=transport),
            )
            return self._sdk
        options: dict[str, Any] = {}
        if self.mode == "record":
            from gearshift.models.replay import RecordingTransport

            assert self.recordings is not None
            recorder = RecordingTransport(self.recordings, httpx2.AsyncHTTPTransport())
            options["http_client"] = anthropic.DefaultAsyncHttpxClient(transport=recorder)
            # Recorded bytes are replayed as they are: keep them free of content encoding.
            options["default_headers"] = {"accept-encoding": "identity"}
        self._sdk = anthropic.AsyncAnthropic(
            api_key=self._api_key,
            auth_token=self._auth_token if self._api_key is None else None,
            base_url=self._base_url,
            max_retries=self._max_retries,
            timeout=timeout,
            **options,
        )
        return self._sdk

    async def stream(
        self,
        req: CallRequest,
        on_text: Callable[[str], None] | None = None,
        on_cancelled: Callable[[CallFault], None] | None = None,
    ) -> CallResult:
        """Make one streamed call; `on_text` gets each text delta as it arrives.

        Returns only a finished answer (a `message_stop` and a stop_reason); raises `CallFault`
        for everything else. Cancelled once the answer had begun, the call is still paid for:
        `on_cancelled` gets it as a fault (with the usage billed so far) before the
        cancellation goes on.
        """
        if not self.has_credentials:
            raise CallFault("auth", NO_KEY_MESSAGE)
        client = self._sdk or await self._build_client()
        import anthropic
        import httpx2

        call = _CallState(req, time.perf_counter())
        try:
            # redacted: a tool result or a finding may quote a secret a check found
            async with client.messages.stream(**redact_value(req.params())) as stream:
                call.opened = True
                call.request_id = stream.request_id
                async for event in stream:
                    call.observe(event, on_text)
                if call.started_usage is None or not call.stopped:
                    raise call.fault("truncated", _truncated_words(call))
                message = await stream.get_final_message()
        except CallFault:
            raise
        except asyncio.CancelledError:
            if call.opened and on_cancelled is not None:
                fault = call.fault(
                    "cancelled",
                    f"{req.model.id}: cancelled while the answer was streaming; "
                    "the tokens billed so far are booked",
                )
                try:
                    on_cancelled(fault)
                except Exception:  # booking must not turn a cancellation into a failure
                    logging.getLogger(__name__).exception("booking a cancelled call failed")
            raise
        except anthropic.APIStatusError as err:
            raise call.status_fault(err) from err
        except anthropic.APIConnectionError as err:
            if isinstance(err.__cause__, CallFault):  # raised by the replay transport
                cause = err.__cause__
                raise call.fault(cause.kind, cause.message) from None
            if call.opened:  # SDK 2.17+ wraps a mid-stream cut too; before, it arrived raw
                raise call.cut_fault(err.__cause__ or err) from err
            raise call.connection_fault(err, self._base_url) from err
        except httpx2.HTTPError as err:
            raise call.cut_fault(err) from err
        except json.JSONDecodeError as err:
            raise call.fault(
                "stream_error", f"{req.model.id}: the stream held unreadable event data ({err})"
            ) from err
        except Exception as err:
            # Anything else the SDK raises mid-call (e.g. `ValueError: Unable to parse tool
            # parameter JSON` for a lone surrogate in tool input) still ends a call that may be
            # billed: it is a fault with its usage, never an internal error with nothing booked.
            words = " ".join(str(err).split())
            if len(words) > 300:
                words = words[:300] + "…"
            raise call.fault(
                "stream_error",
                f"{req.model.id}: the answer could not be read ({type(err).__name__}: {words})",
            ) from err
        if message.stop_reason is None:
            raise call.fault("truncated", _truncated_words(call))
        return call.result(message)

    async def aclose(self) -> None:
        if self._sdk is not None:
            await self._sdk.close()
            self._sdk = None
        self._building = None


class _CallState:
    """What one call has seen so far: enough to build its result or to describe its fault."""

    def __init__(self, req: CallRequest, started: float) -> None:
        self.req = req
        self.started = started
        self.ttft_ms: float | None = None
        self.started_usage: Any = None
        self.output_so_far = 0  # message_delta's cumulative output_tokens
        self.stopped = False
        self.text_chars = 0
        self.request_id: str | None = None
        self.opened = False  # the response had begun: a connection error now is a cut stream

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000.0

    def observe(self, event: Any, on_text: Callable[[str], None] | None) -> None:
        if event.type == "message_start":
            self.started_usage = event.message.usage
        elif event.type == "content_block_delta":
            # Any generated token counts as the first one: text, tool input JSON or thinking.
            if self.ttft_ms is None:
                self.ttft_ms = self.elapsed_ms()
            if event.delta.type == "text_delta":
                self.text_chars += len(event.delta.text)
                if on_text is not None:
                    on_text(event.delta.text)
        elif event.type == "message_delta":
            self.output_so_far = max(self.output_so_far, getattr(event.usage, "output_tokens", 0) or 0)
        elif event.type == "message_stop":
            self.stopped = True

    def billed(self) -> Usage:
        """What the API has billed so far: message_start's input and cache counts, and the
        latest cumulative output count (a message_delta's, when one arrived before the fault)."""
        if self.started_usage is None:
            return Usage()
        usage = Usage.from_api(self.started_usage, default_ttl=self.req.cache_ttl)
        return dataclasses.replace(usage, output=max(usage.output, self.output_so_far))

    def fault(self, kind: FaultKind, message: str, **extra: Any) -> CallFault:
        usage = self.billed()
        return CallFault(
            kind,
            message,
            usage,
            cost=cost(self.req.model, usage),
            request_id=extra.pop("request_id", self.request_id),
            latency_ms=self.elapsed_ms(),
            **extra,
        )

    def status_fault(self, err: Any) -> CallFault:
        model = self.req.model.id
        what = f"{err.type or 'error'}: {err.api_message or err.message}"
        if err.status_code == 200:
            # An `error` event inside a 200 stream: the SDK raises it with the stream's status.
            words = (
                f"{model}: the API sent an error event mid-stream ({what}) after "
                f"{self.text_chars} characters of text; the partial answer was discarded"
            )
            return self.fault(
                "stream_error", words, status=200, error_type=err.type, request_id=err.request_id
            )
        tries = _tries(err)
        after = f" after {tries} tries" if tries > 1 else ""
        words = f"{model}: HTTP {err.status_code} {what}{after}"
        if err.request_id:
            words += f" (request {err.request_id})"
        return self.fault(
            "api_error",
            words,
            status=err.status_code,
            error_type=err.type,
            request_id=err.request_id,
        )

    def cut_fault(self, err: BaseException) -> CallFault:
        return self.fault(
            "connection_cut",
            f"{self.req.model.id}: the connection was cut while the answer was streaming "
            f"({type(err).__name__}: {redact(str(err))}); the partial answer was discarded",
        )

    def connection_fault(self, err: Exception, base_url: str | None) -> CallFault:
        import anthropic

        where = base_url or os.environ.get("ANTHROPIC_BASE_URL") or "https://api.anthropic.com"
        cause = f" ({type(err.__cause__).__name__}: {err.__cause__})" if err.__cause__ else ""
        if isinstance(err, anthropic.APITimeoutError):
            words = f"{self.req.model.id}: the request to {where} timed out{cause}"
        else:
            words = f"{self.req.model.id}: could not reach the API at {where}{cause}"
        return self.fault("connection", redact(words))  # a base URL may carry user:KEY@

    def result(self, message: Any) -> CallResult:
        content = [block.to_dict(mode="json", exclude_none=True) for block in message.content]
        usage = Usage.from_api(message.usage, default_ttl=self.req.cache_ttl)
        return CallResult(
            model_id=message.model or self.req.model.id,
            content=content,
            text="".join(b["text"] for b in content if b.get("type") == "text"),
            tool_uses=[
                {"id": b["id"], "name": b["name"], "input": b["input"]}
                for b in content
                if b.get("type") == "tool_use"
            ],
            stop_reason=message.stop_reason,
            usage=usage,
            cost=cost(self.req.model, usage),
            ttft_ms=self.ttft_ms,
            latency_ms=self.elapsed_ms(),
            request_id=self.request_id,
        )


def _tries(err: Any) -> int:
    """How many requests the SDK made (it sends its retry count on each one)."""
    try:
        return int(err.response.request.headers.get("x-stainless-retry-count", "0")) + 1
    except (AttributeError, RuntimeError, ValueError):
        return 1


def _truncated_words(call: _CallState) -> str:
    got = "before message_start" if call.started_usage is None else "without message_stop"
    return (
        f"{call.req.model.id}: the stream ended {got} (no stop_reason) after "
        f"{call.text_chars} characters of text; the partial answer was discarded"
    )
