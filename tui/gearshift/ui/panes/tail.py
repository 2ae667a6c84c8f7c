"""`TailText`: streamed text shown as plain wrapped lines while it arrives faster than Markdown.

A Static re-wraps and re-renders its whole text on every update (perf-floors.md: updating a
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


class TailText(Widget):
    DEFAULT_CSS = "TailText { height: auto; }"

    def __init__(self, text: str = "", *, classes: str = "") -> None:
        super().__init__(classes=classes)
        # (Names chosen not to shadow Widget / MessagePump internals such as `_closed`.)
        self._whole = text
        self._wrap_width = 0  # the width the lines below were wrapped at (0: not yet)
        self._finished: list[Content] = []  # wrapped lines of the text up to its last newline
        self._finished_upto = 0  # characters of the text those lines cover
        self._pending_lines: list[Content] = []  # wrapped lines of the text after the last newline
        self._line_strips: dict[int, Strip] = {}
        self._strip_key: object = None  # the visual style the cached strips were made with

    @property
    def text(self) -> str:
        return self._whole

    @property
    def line_count(self) -> int:
        return len(self._finished) + len(self._pending_lines)

    def append(self, text: str) -> None:
        if not text:
            return
        self._whole += text
        if not self._wrap_width:
            self.refresh(layout=True)
            return
        before = self.line_count
        first_changed = len(self._finished)
        self._wrap_new()
        after = self.line_count
        for y in range(first_changed, max(before, after)):
            self._line_strips.pop(y, None)
        changed = Region(0, first_changed, self._wrap_width, max(before, after) - first_changed)
        self.refresh(changed, layout=after != before)

    def _wrap_new(self) -> None:
        """Wrap finished lines once, and the open line again."""
        text, width = self._whole, self._wrap_width
        cut = text.rfind("\n") + 1
        if cut > self._finished_upto:
            for line in text[self._finished_upto : cut - 1].split("\n"):
                self._finished.extend(Content(line).wrap(width))
            self._finished_upto = cut
        self._pending_lines = Content(text[cut:]).wrap(width)  # [""] after a newline, as a Static shows it

    def _rewrap(self, width: int) -> None:
        self._wrap_width = width
        self._finished, self._finished_upto, self._pending_lines = [], 0, []
        self._line_strips.clear()
        self._wrap_new()

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if width != self._wrap_width and width > 0:
            self._rewrap(width)
        return self.line_count

    def render_line(self, y: int) -> Strip:
        style = self.visual_style
        if style != self._strip_key:  # the theme changed: every cached strip is stale
            self._line_strips.clear()
            self._strip_key = style
        strip = self._line_strips.get(y)
        if strip is not None:
            return strip
        width = self._wrap_width or self.content_region.width
        finished = len(self._finished)
        if y < finished:
            line = self._finished[y]
        elif y - finished < len(self._pending_lines):
            line = self._pending_lines[y - finished]
        else:
            return Strip.blank(width, style.rich_style)
        strip = Strip(line.render_segments(style), line.cell_length).adjust_cell_length(width, style.rich_style)
        self._line_strips[y] = strip
        return strip
