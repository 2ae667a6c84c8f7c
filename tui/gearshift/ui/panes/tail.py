"""`TailText`: streamed text shown as plain wrapped lines while it arrives faster than Markdown.

A Static re-wraps and re-renders its whole text on every update (docs/performance.md: updating a
Static with the whole text absorbs ~3k chunks/s with ~800 ms stalls; with the tail only, ~35k).
This widget keeps the lines it has already wrapped: an append wraps again only the text after the
last newline, and only the lines on screen are ever turned into strips (Textual's Line API), so
the cost of an append is the size of the append, not of the segment.
"""

from __future__ import annotations

from textual.content import Content
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget


class _Wrapped:
    """The text wrapped at one width: finished lines kept, the open (last) line wrapped again."""

    __slots__ = ("width", "finished", "upto", "pending", "seen")

    def __init__(self, width: int) -> None:
        self.width = width
        self.finished: list[Content] = []  # wrapped lines of the text up to its last newline
        self.upto = 0  # characters of the text those lines cover
        self.pending: list[Content] = []  # wrapped lines of the text after the last newline
        self.seen = -1  # length of the text this was last brought up to date with

    def __len__(self) -> int:
        return len(self.finished) + len(self.pending)

    def update(self, text: str) -> int:
        """Catch up with `text` (which only ever grows); returns the first line that changed."""
        first = len(self.finished)
        cut = text.rfind("\n") + 1
        if cut > self.upto:
            for line in text[self.upto : cut - 1].split("\n"):
                self.finished.extend(Content(line).wrap(self.width))
            self.upto = cut
        self.pending = Content(text[cut:]).wrap(self.width)  # [""] after a newline, as a Static shows it
        self.seen = len(text)
        return first

    def line(self, y: int) -> Content | None:
        finished = len(self.finished)
        if y < finished:
            return self.finished[y]
        return self.pending[y - finished] if y - finished < len(self.pending) else None


class TailText(Widget):
    DEFAULT_CSS = "TailText { height: auto; }"

    def __init__(self, text: str = "", *, classes: str = "") -> None:
        super().__init__(classes=classes)
        # (Names chosen not to shadow Widget / MessagePump internals such as `_closed`.)
        self._whole = text
        # One wrapping per width a layout pass asked about (a pass may ask with and without the
        # scrollbar), each kept up to date incrementally; `_shown` is the one last laid out.
        self._wrapped: dict[int, _Wrapped] = {}
        self._shown: _Wrapped | None = None
        self._line_strips: dict[int, Strip] = {}
        self._strip_key: object = None  # the (visual style, width) the cached strips were made with

    @property
    def text(self) -> str:
        return self._whole

    @property
    def line_count(self) -> int:
        return 0 if self._shown is None else len(self._shown)

    def append(self, text: str) -> None:
        if not text:
            return
        self._whole += text
        shown = self._shown
        if shown is None:
            self.refresh(layout=True)
            return
        before = len(shown)
        first_changed = shown.update(self._whole)
        after = len(shown)
        for y in range(first_changed, max(before, after)):
            self._line_strips.pop(y, None)
        changed = Region(0, first_changed, shown.width, max(before, after) - first_changed)
        self.refresh(changed, layout=after != before)

    def _wrapping(self, width: int) -> _Wrapped:
        wrapped = self._wrapped.get(width)
        if wrapped is None:
            if len(self._wrapped) >= 3:
                del self._wrapped[next(iter(self._wrapped))]
            wrapped = self._wrapped[width] = _Wrapped(width)
        if wrapped.seen != len(self._whole):
            wrapped.update(self._whole)
        return wrapped

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if width <= 0:
            return self.line_count
        self._shown = self._wrapping(width)
        return len(self._shown)

    def render_line(self, y: int) -> Strip:
        style = self.visual_style
        shown = self._shown
        width = shown.width if shown is not None else self.content_region.width
        if (style, width) != self._strip_key:  # the theme or the width changed: cached strips are stale
            self._line_strips.clear()
            self._strip_key = (style, width)
        strip = self._line_strips.get(y)
        if strip is not None:
            return strip
        line = None if shown is None else shown.line(y)
        if line is None:
            return Strip.blank(width, style.rich_style)
        strip = Strip(line.render_segments(style), line.cell_length).adjust_cell_length(width, style.rich_style)
        self._line_strips[y] = strip
        return strip
