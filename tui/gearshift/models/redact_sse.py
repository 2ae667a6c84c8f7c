"""Redaction of a recorded Messages API stream, where a secret the model echoed arrives split
across several deltas (`"I saw sk-ant"`, `"-api03-…"`), so no single chunk holds it whole.

Each content block's deltas (text, tool input JSON, thinking) are joined and redacted; when
that changes them, the block's first delta carries the whole redacted text and the rest carry
none. The replay then streams the same answer, redacted, with each event at the moment the
chunk that ended it arrived.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from itertools import accumulate
from typing import Any

from gearshift.redact import active, redact

DELTA_FIELDS = {"text_delta": "text", "input_json_delta": "partial_json", "thinking_delta": "thinking"}


def redact_chunks(chunks: list[tuple[float, bytes]]) -> list[tuple[float, bytes]]:
    """`chunks` (arrival ms, bytes) with every secret redacted; unchanged when none is there."""
    if not active() or not chunks:
        return chunks
    body = b"".join(data for _, data in chunks).decode("utf-8", "surrogateescape")
    frames = body.split("\n\n")  # SSE events; the last piece is what follows the final blank line
    parsed: list[tuple[list[str], int | None, Any]] = []
    groups: dict[tuple[int, str], list[int]] = {}
    for i, frame in enumerate(frames):
        lines = frame.split("\n")
        data_at = next((n for n, line in enumerate(lines) if line.startswith("data:")), None)
        obj: Any = None
        if data_at is not None:
            try:
                obj = json.loads(lines[data_at][5:])
            except json.JSONDecodeError:
                obj = None
        parsed.append((lines, data_at, obj))
        delta: Any = (
            obj.get("delta") if isinstance(obj, dict) and obj.get("type") == "content_block_delta" else None
        )
        name = DELTA_FIELDS.get(str(delta.get("type"))) if isinstance(delta, dict) else None
        if name is not None and isinstance(delta.get(name), str):
            groups.setdefault((obj.get("index", 0), name), []).append(i)
    changed = False
    for (_, name), members in groups.items():
        joined = "".join(parsed[i][2]["delta"][name] for i in members)
        cleaned = redact(joined)
        if cleaned != joined:
            changed = True
            for n, i in enumerate(members):
                parsed[i][2]["delta"][name] = cleaned if n == 0 else ""
    if not changed and redact(body) == body:
        return chunks
    out_frames = []
    for lines, data_at, obj in parsed:
        if data_at is not None and obj is not None:
            lines = [*lines[:data_at], "data: " + json.dumps(obj, ensure_ascii=False), *lines[data_at + 1 :]]
        out_frames.append(redact("\n".join(lines)))
    # each rebuilt frame arrives when the original chunk holding its end did
    ends = list(accumulate(len(data) for _, data in chunks))
    out: list[tuple[float, bytes]] = []
    offset = 0
    for n, frame in enumerate(out_frames):
        original = len(frames[n].encode("utf-8", "surrogateescape")) + (2 if n < len(frames) - 1 else 0)
        offset += original
        ms = chunks[min(bisect_left(ends, offset), len(chunks) - 1)][0]
        text = frame + ("\n\n" if n < len(out_frames) - 1 else "")
        if text:
            out.append((ms, text.encode("utf-8", "surrogateescape")))
    return out
