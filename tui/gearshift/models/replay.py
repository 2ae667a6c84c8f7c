"""Recorded Messages API streams: saving them while live, and answering from them offline.

A recording is the raw SSE bytes the API sent plus a small JSON sidecar with the timing of each
chunk, so a replay goes through the real SDK's parser and accumulator — the same code that reads
live answers — and streams at the pace the model did. Recordings are keyed by task id, attempt
and turn (sent as `x-gearshift-*` headers), not by prompt text, so rewording the system prompt
does not orphan a demo; a recording made through `RecordingTransport` also carries the
`request_hash` of what decided its answer (see `request_hash.py`), and is served only to a
request with the same hash — never to another prompt that happens to reuse the task id.
Recordings written by hand (tests, `scripted.write_recording`) may leave the hash out and are
then matched on the key and model alone. Layout::

    <dir>/manifest.json                     optional: {"scripted": true} marks demo data
    <dir>/<task_id>/a<attempt>-t<turn>.sse  the body, byte for byte
    <dir>/<task_id>/a<attempt>-t<turn>.json {"model", "status", "content_type", "chunks":
                                             [[ms_since_request, byte_length], ...], "scripted",
                                             "recorded_at", "request_id", "request_hash", and "ending": "cut" |
                                             "closed" when the body did not end cleanly}
    <dir>/<task_id>/<model>/a<attempt>-t<turn>.*  optional: the same call made with another model

The optional per-model variant exists for recordings that serve both an interactive session
(the app) and a batch run (headless), where routing may pick a different model for the same
task: a call replays the variant made with the model it asks for when there is one.

`<task_id>` is percent-encoded (see `task_dir_name`). The sidecar is written from an allow-list:
no request header and no response header but content-type, content-encoding and request-id
ever reaches the disk, so neither keys nor auth headers can.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx2

from gearshift.models.call import HEADER_ATTEMPT, HEADER_TASK, HEADER_TURN, CallFault
from gearshift.models.redact_sse import redact_chunks
from gearshift.models.request_hash import HASH_KEY, body_hash

MANIFEST = "manifest.json"
# How a recorded body ended: read to its end; cut by the network (replayed as a cut, so the
# gateway sees the same `connection_cut`); or closed early by the reader (e.g. after an error
# event — the recorded prefix then replays to the same point).
ENDINGS = ("complete", "cut", "closed")
Sleep = Callable[[float], Awaitable[Any]]


def task_dir_name(task_id: str) -> str:
    """A task id as one safe path component (and header value): percent-encoded, never . or .."""
    if not task_id:
        raise ValueError("a task id must not be empty")
    encoded = quote(task_id, safe="")
    return encoded.replace(".", "%2E") if set(encoded) == {"."} else encoded


def recording_paths(
    root: Path, task_id: str, attempt: int, turn: int, model: str | None = None
) -> tuple[Path, Path]:
    """The body (.sse) and sidecar (.json) paths of one call's recording (of its `model` variant)."""
    folder = Path(root) / task_dir_name(task_id)
    stem = (folder / quote(model, safe="") if model else folder) / f"a{attempt}-t{turn}"
    return stem.with_suffix(".sse"), stem.with_suffix(".json")


@dataclass(frozen=True)
class Recording:
    """One recorded response, read back: the body split into the chunks as they arrived."""

    path: Path
    model: str
    status: int
    content_type: str
    content_encoding: str | None
    chunks: list[tuple[float, bytes]]  # (ms since the request was sent, bytes)
    scripted: bool
    request_id: str | None
    ending: str = "complete"
    request_hash: str | None = None  # None: a hand-written recording, matched on key and model


def load_recording(root: Path, task_id: str, attempt: int, turn: int, model: str | None = None) -> Recording:
    """Read one recording (the `model` variant when there is one); a missing or damaged one is a
    `CallFault`, never a guess."""
    sse, sidecar = recording_paths(root, task_id, attempt, turn, model)
    if not model or not sidecar.is_file():
        sse, sidecar = recording_paths(root, task_id, attempt, turn)
    if not sidecar.is_file() or not sse.is_file():
        raise CallFault(
            "replay_missing",
            f"no recording for task {task_id} attempt {attempt} turn {turn} in {root} "
            f"(looked for {sse.name} and {sidecar.name} in {sse.parent})",
        )
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        body = sse.read_bytes()
        marks = [(float(ms), int(n)) for ms, n in meta["chunks"]]
        model = str(meta["model"])
        ending = str(meta.get("ending", "complete"))
        if ending not in ENDINGS:
            raise ValueError(f"unknown ending {ending!r}")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CallFault("replay_mismatch", f"recording {sidecar} is damaged: {exc}") from None
    if sum(n for _, n in marks) != len(body):
        raise CallFault(
            "replay_mismatch",
            f"recording {sse} is damaged: its sidecar lists {sum(n for _, n in marks)} bytes, "
            f"the file holds {len(body)}",
        )
    chunks, offset = [], 0
    for ms, n in marks:
        chunks.append((ms, body[offset : offset + n]))
        offset += n
    return Recording(
        path=sse,
        model=model,
        status=int(meta.get("status", 200)),
        content_type=str(meta.get("content_type", "text/event-stream")),
        content_encoding=meta.get("content_encoding"),
        chunks=chunks,
        scripted=bool(meta.get("scripted", False)),
        request_id=meta.get("request_id"),
        ending=ending,
        request_hash=meta.get(HASH_KEY) if isinstance(meta.get(HASH_KEY), str) else None,
    )


def save_recording(
    root: Path,
    task_id: str,
    attempt: int,
    turn: int,
    *,
    model: str,
    chunks: list[tuple[float, bytes]],
    scripted: bool = False,
    status: int = 200,
    content_type: str = "text/event-stream",
    content_encoding: str | None = None,
    request_id: str | None = None,
    ending: str = "complete",
    request_hash: str | None = None,
) -> Path:
    """Write one recording (body first, sidecar last, each atomically); return the .sse path.

    A reader treats the sidecar as the mark of a complete recording, so a crash mid-write leaves
    at worst a stray body and never a sidecar that points at half of one.
    """
    sse, sidecar = recording_paths(root, task_id, attempt, turn)
    sse.parent.mkdir(parents=True, exist_ok=True)
    if not content_encoding:  # a compressed body cannot be searched; recordings ask for identity
        chunks = redact_chunks(chunks)
    meta: dict[str, Any] = {
        "model": model,
        "status": status,
        "content_type": content_type,
        "chunks": [[round(ms, 3), len(data)] for ms, data in chunks],
        "scripted": scripted,
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "request_id": request_id,
    }
    if content_encoding:
        meta["content_encoding"] = content_encoding
    if request_hash:
        meta[HASH_KEY] = request_hash
    if ending not in ENDINGS:
        raise ValueError(f"ending must be one of {', '.join(ENDINGS)}, got {ending!r}")
    if ending != "complete":
        meta["ending"] = ending
    _write_atomic(sse, b"".join(data for _, data in chunks))
    _write_atomic(sidecar, (json.dumps(meta, indent=1) + "\n").encode())
    return sse


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def has_recordings(root: Path) -> bool:
    """Whether `root` holds at least one recording (a sidecar in a task folder)."""
    root = Path(root)
    return root.is_dir() and any(root.glob("*/a*-t*.json"))


def folder_is_scripted(root: Path) -> bool:
    """Demo data is marked by `manifest.json` {"scripted": true}, or by its recordings' sidecars.

    The UI says so on screen: scripted replies are not a model's output and must never pass for it.
    """
    root = Path(root)
    manifest = root / MANIFEST
    if manifest.is_file():
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if isinstance(data, dict) and "scripted" in data:
            return bool(data["scripted"])
    for sidecar in root.glob("*/a*-t*.json"):
        try:
            if json.loads(sidecar.read_text(encoding="utf-8")).get("scripted"):
                return True
        except (OSError, ValueError, AttributeError):
            continue
    return False


def request_key(request: httpx2.Request) -> tuple[str, int, int] | None:
    """(task id, attempt, turn) from the `x-gearshift-*` headers, or None when they are absent."""
    task = request.headers.get(HEADER_TASK)
    attempt = request.headers.get(HEADER_ATTEMPT)
    turn = request.headers.get(HEADER_TURN)
    if task is None or attempt is None or turn is None:
        return None
    try:
        return unquote(task), int(attempt), int(turn)
    except ValueError:
        return None


def _request_model(request: httpx2.Request) -> str | None:
    try:
        model = json.loads(request.content).get("model")
    except (ValueError, AttributeError):
        return None
    return model if isinstance(model, str) else None


def is_instant(speed: float) -> bool:
    """Speed 0 or infinity means: no waiting at all."""
    return speed == 0 or math.isinf(speed)


async def paced(
    chunks: list[tuple[float, bytes]], speed: float, sleep: Sleep, ending: str = "complete"
) -> AsyncIterator[bytes]:
    """Yield chunks at their recorded times, scaled by 1/speed; end as the recording ended."""
    clock = 0.0
    instant = is_instant(speed)
    for n, (ms, data) in enumerate(chunks):
        if not instant and ms > clock:
            await sleep((ms - clock) / 1000.0 / speed)
        elif instant and n % 16 == 15:
            await asyncio.sleep(0)  # an instant replay still lets the UI and other tasks run
        clock = max(clock, ms)
        yield data
    if ending == "cut":
        raise httpx2.RemoteProtocolError("the recorded connection was cut here")


def replay_transport(root: Path, *, speed: float = 1.0, sleep: Sleep = asyncio.sleep) -> httpx2.MockTransport:
    """A transport that answers `POST /v1/messages` from recordings in `root`.

    A missing or mismatched recording raises `CallFault` inside the transport; the SDK wraps it
    in `APIConnectionError` (cause preserved), which the gateway unwraps. Run the client with
    `max_retries=0` so a missing file is not asked for three times.
    """
    if speed < 0 or math.isnan(speed):
        raise ValueError(f"replay speed must be ≥ 0 (0 or inf = instant), got {speed}")
    root = Path(root)

    async def handler(request: httpx2.Request) -> httpx2.Response:
        key = request_key(request)
        if key is None or request.url.path != "/v1/messages":
            raise CallFault(
                "replay_missing",
                f"replay answers only gearshift model calls (POST /v1/messages with "
                f"{HEADER_TASK}/{HEADER_ATTEMPT}/{HEADER_TURN}); got {request.method} "
                f"{request.url.path}",
            )
        task_id, attempt, turn = key
        wanted = _request_model(request)
        rec = await asyncio.to_thread(load_recording, root, task_id, attempt, turn, wanted)
        if wanted != rec.model:
            raise CallFault(
                "replay_mismatch",
                f"recording for task {task_id} attempt {attempt} turn {turn} ({rec.path}) was "
                f"made with {rec.model}, but this call asks for {wanted}",
            )
        if rec.request_hash is not None and rec.request_hash != body_hash(request.content):
            raise CallFault(
                "replay_missing",
                f"no recording for task {task_id} attempt {attempt} turn {turn} matches this request: "
                f"{rec.path.name} in {rec.path.parent} was recorded for another prompt, context or "
                "conversation (record it again, or run live)",
            )
        headers = {
            "content-type": rec.content_type,
            "request-id": rec.request_id or f"replay-{task_dir_name(task_id)}-a{attempt}-t{turn}",
            "x-should-retry": "false",
        }
        if rec.content_encoding:
            headers["content-encoding"] = rec.content_encoding
        body = paced(rec.chunks, speed, sleep, rec.ending)
        return httpx2.Response(rec.status, headers=headers, content=body)

    return httpx2.MockTransport(handler)


class _TeeStream(httpx2.AsyncByteStream):
    """Pass the body through untouched while noting each chunk, when it arrived, and how the
    body ended — so a recorded fault replays as the same fault, not as a clean short answer."""

    def __init__(
        self,
        inner: httpx2.AsyncByteStream,
        started: float,
        clock: Callable[[], float],
        save: Callable[[list[tuple[float, bytes]], str], None],
    ) -> None:
        self._inner = inner
        self._started = started
        self._clock = clock
        self._save = save
        self._chunks: list[tuple[float, bytes]] = []
        self._ending = "closed"  # the reader stopped early (an error event, a cancelled call)
        self._saved = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for data in self._inner:
                self._chunks.append(((self._clock() - self._started) * 1000.0, data))
                yield data
        except httpx2.TransportError:
            self._ending = "cut"
            raise
        self._ending = "complete"
        await self._finish()

    async def _finish(self) -> None:
        if not self._saved:
            self._saved = True
            await asyncio.to_thread(self._save, self._chunks, self._ending)

    async def aclose(self) -> None:
        try:
            await self._finish()
        finally:
            await self._inner.aclose()


class RecordingTransport(httpx2.AsyncBaseTransport):
    """Wraps the real transport and saves every gearshift model call's response under `root`.

    Retried responses overwrite each other, so what stays on disk is the answer the SDK used.
    """

    def __init__(
        self,
        root: Path,
        inner: httpx2.AsyncBaseTransport,
        *,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.root = Path(root)
        self._inner = inner
        self._clock = clock

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()  # already bytes for SDK requests; needed to read the model id
        started = self._clock()
        response = await self._inner.handle_async_request(request)
        key = request_key(request)
        model = _request_model(request)
        stream = response.stream
        if (
            key is None
            or model is None
            or request.url.path != "/v1/messages"
            or not isinstance(stream, httpx2.AsyncByteStream)
        ):
            return response
        task_id, attempt, turn = key

        def save(chunks: list[tuple[float, bytes]], ending: str) -> None:
            save_recording(
                self.root,
                task_id,
                attempt,
                turn,
                model=model,
                chunks=chunks,
                scripted=False,
                status=response.status_code,
                content_type=response.headers.get("content-type", "text/event-stream"),
                content_encoding=response.headers.get("content-encoding"),
                request_id=response.headers.get("request-id"),
                ending=ending,
                request_hash=body_hash(request.content),
            )

        return httpx2.Response(
            response.status_code,
            headers=response.headers,
            stream=_TeeStream(stream, started, self._clock, save),
            request=request,
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()
