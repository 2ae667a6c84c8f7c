"""A task's output as the app keeps it, and the coalescing of text deltas before it gets there.

Pure Python (no Textual): the state model and its tests use it as plain data. Bounded, because
the app may stay open for hours; the output pane reconciles against it by sequence number.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gearshift import events as ev

MAX_OUTPUT_CHARS = 200_000
MAX_SEGMENT_CHARS = 4_000
MAX_SEGMENTS = 300


def coalesce(events: Iterable[ev.Event]) -> list[ev.Event]:
    """Merge each task's text deltas into one per tick, keeping every other event in place.

    A delta is merged into the previous delta of the same task and attempt only while no other
    event of that task came in between, so text never jumps over the tool call it preceded.
    Writing per token costs ~100× more than writing per refresh (docs/performance.md).
    """
    out: list[ev.Event] = []
    parts: dict[int, list[str]] = {}  # index in out → texts to join
    open_delta: dict[tuple[str, int], int] = {}
    for event in events:
        if isinstance(event, ev.TextDelta):
            key = (event.task_id, event.attempt)
            index = open_delta.get(key)
            if index is not None:
                parts[index].append(event.text)
                continue
            open_delta[key] = len(out)
            parts[len(out)] = [event.text]
            out.append(event)
            continue
        task_id = getattr(event, "task_id", None)
        if task_id is not None:
            for key in [k for k in open_delta if k[0] == task_id]:
                del open_delta[key]
        out.append(event)
    for index, texts in parts.items():
        if len(texts) > 1:
            first = out[index]
            assert isinstance(first, ev.TextDelta)
            out[index] = dataclasses.replace(first, text="".join(texts))
    return out


@dataclass
class Segment:
    """One piece of a task's output pane: streamed text, a tool line, a staged diff, a notice."""

    seq: int
    kind: str  # text | tool | diff | attempt | notice | error | findings
    text: str
    ok: bool = True
    title: str = ""
    tier: str = ""
    data: Any = None  # structured content (a review's findings) for segments that are not text


class Output:
    """A task's output, in order, bounded by characters and by number of segments.

    Text is appended to the last text segment until it reaches MAX_SEGMENT_CHARS, and no text
    segment is longer, so trimming always drops whole, bounded segments from the front and a pane
    can reconcile by sequence number.
    """

    def __init__(self, seqs: itertools.count[int]) -> None:
        self._seqs = seqs
        self.segments: deque[Segment] = deque()
        self.chars = 0
        self.dropped = 0
        self.received = 0  # text characters ever added, trimmed or not: how fast text comes in

    def add_text(self, text: str) -> None:
        """Append streamed text: to the last text segment up to MAX_SEGMENT_CHARS, then in new
        segments of at most that size (one tick of an instant replay can bring far more)."""
        if not text:
            return
        self.received += len(text)
        last = self.segments[-1] if self.segments else None
        if last is not None and last.kind == "text" and len(last.text) < MAX_SEGMENT_CHARS:
            room = MAX_SEGMENT_CHARS - len(last.text)
            last.text += text[:room]
            self.chars += len(text[:room])
            text = text[room:]
        for start in range(0, len(text), MAX_SEGMENT_CHARS):
            self.add("text", text[start : start + MAX_SEGMENT_CHARS])
        self._trim()

    def add(
        self, kind: str, text: str, *, ok: bool = True, title: str = "", tier: str = "", data: Any = None
    ) -> Segment:
        segment = Segment(next(self._seqs), kind, text, ok=ok, title=title, tier=tier, data=data)
        self.segments.append(segment)
        self.chars += len(text)
        self._trim()
        return segment

    def _trim(self) -> None:
        while len(self.segments) > 1 and (self.chars > MAX_OUTPUT_CHARS or len(self.segments) > MAX_SEGMENTS):
            old = self.segments.popleft()
            self.chars -= len(old.text)
            self.dropped += 1

    def plain(self) -> str:
        return "".join(s.text for s in self.segments if s.kind == "text")
