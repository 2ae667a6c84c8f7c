"""The output pane: the selected task's model stream, tool calls and staged diffs, in order.

Streaming text goes through `Markdown.get_stream` on an anchored scroll container, fed once per
app tick with the text coalesced since the last tick (docs/performance.md: per-token writes stall the
loop for hundreds of ms; per-refresh writes do not). The pane reconciles by segment sequence
number against the task's bounded `Output`: new segments are mounted, dropped ones removed, and
only the last text segment ever grows, so at most one stream is open at a time.

A Textual Markdown document is one widget per block, and every append reflows them all: fine at
a model's 50–150 tokens/s, hopeless for an instant replay bringing thousands of characters per
tick. So when a tick brings more than FLOOD_CHARS the pane is *flooding*: text segments are shown
as `TailText` (plain lines, wrapped once, only the new text wrapped per tick) and nothing is
parsed as Markdown; SETTLE_S after the last such tick each of them is handed to Markdown once,
newest first, one per app tick (`settle_due` / `settle_step`) so the loop never stalls. A long text segment that can no
longer grow is frozen into a single Static holding a Rich Markdown renderable — one widget
however long it is; short ones stay Textual Markdown, which follows the theme. And the pane
shows only the newest PANE_CHARS characters of output (the state keeps more): every layout pass
measures every child, so what is mounted must stay small whatever the task has said.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from textual.containers import VerticalScroll
from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Static

from gearshift.config import Config
from gearshift.ui.format import model_label, tier_variable
from gearshift.ui.panes.tail import TailText
from gearshift.ui.state import Segment, TaskView

if TYPE_CHECKING:  # Markdown and its parser are imported on first use, not before the first frame
    from textual.widgets import Markdown
    from textual.widgets.markdown import MarkdownStream

PANE_CHARS = 12_000
FLOOD_CHARS = 1_500  # new text in one tick beyond which the pane stops parsing Markdown
FREEZE_CHARS = 1_000  # a finished segment longer than this becomes one FrozenText widget
SETTLE_S = 0.25  # a flood is over once no tick brought more than FLOOD_CHARS for this long
SETTLE_STEP_S = 0.03  # at least this long between two segments handed to Markdown after a flood


def _markdown(text: str = "") -> Markdown:
    from textual.widgets import Markdown

    return Markdown(text, classes="seg-text")


class FrozenText(Static):
    """A finished text segment: one widget, its height measured once per width.

    Every layout pass asks each child its height; for a Rich Markdown renderable that means
    rendering it again, which made each streamed append cost as much as the whole history.
    """

    def __init__(self, text: str, code_theme: str) -> None:
        from rich.markdown import Markdown as RichMarkdown  # not needed for the first frame

        super().__init__(RichMarkdown(text, code_theme=code_theme), classes="seg-text seg-frozen")
        self._heights: dict[int, int] = {}

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        height = self._heights.get(width)
        if height is None:
            height = self._heights[width] = super().get_content_height(container, viewport, width)
        return height


def release_removed_widgets() -> None:
    """Let widgets this pane removed be freed.

    Textual 8.2's `StylesCache.get_inner_outer` is an `lru_cache` on an instance method (its first
    parameter is named `cls` but is the instance), so it keeps the last 1,024 StylesCaches alive —
    and with them every line those widgets ever rendered. A flood mounts and removes dozens of
    widgets a second, so RSS grew ~3 MB per 100k deltas until the cache was full; clearing it
    (a pure cache: it only costs recomputing two styles per widget) after removals keeps RSS flat.
    """
    from textual._styles_cache import StylesCache

    clear = getattr(StylesCache.get_inner_outer, "cache_clear", None)
    if clear is not None:
        clear()


def visible(segments: list[Segment], budget: int = PANE_CHARS) -> list[Segment]:
    """The newest segments whose text fits `budget` (always at least the last one)."""
    out: list[Segment] = []
    used = 0
    for segment in reversed(segments):
        if out and used + len(segment.text) > budget:
            break
        out.append(segment)
        used += len(segment.text)
    out.reverse()
    return out


class OutputPane(VerticalScroll):
    DEFAULT_CSS = """
    OutputPane { height: 1fr; }
    OutputPane > Markdown { margin: 0 0; padding: 0 1; }
    OutputPane > .seg-frozen { padding: 0 1; margin-bottom: 1; }
    OutputPane > TailText { padding: 0 1; }
    OutputPane > .seg-tool { color: $text-muted; padding: 0 1; }
    OutputPane > .seg-tool.-fail { color: $text-error; }
    OutputPane > .seg-attempt { padding: 0 1; text-style: bold; background: $boost; }
    OutputPane > .seg-diff { border: round $pane-border; border-title-color: $text-muted; padding: 0 1; }
    OutputPane > .seg-notice { color: $text-accent; padding: 0 1; }
    OutputPane > .seg-error { color: $text-error; padding: 0 1; text-style: bold; }
    OutputPane > .placeholder { color: $text-muted; padding: 1 2; }
    OutputPane > .seg-hidden { color: $text-muted; padding: 0 1; text-style: italic; }
    """

    def __init__(self, config: Config, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.config = config
        self.border_title = "Output"
        self.task_id: str | None = None
        self.empty = "No task selected."  # the app says what to do next (write a config, add a task)
        self._widgets: dict[int, Widget] = {}
        self._written: dict[int, int] = {}  # text segment seq → characters handed to its widget
        self._stream: MarkdownStream | None = None
        self._stream_seq: int | None = None
        self._received = 0  # the shown task's Output.received at the last sync
        self._flooding = False
        self._settle_at = 0.0  # monotonic time of the next settle step (or of the flood's end)

    def on_mount(self) -> None:
        self.anchor()

    @property
    def settled(self) -> bool:
        """No flood going on and every text segment in its final (Markdown) form."""
        return not self._flooding and not any(isinstance(w, TailText) for w in self._widgets.values())

    def _final(self, segment: Segment) -> Widget:
        if len(segment.text) > FREEZE_CHARS:
            return FrozenText(segment.text, "monokai" if self.app.current_theme.dark else "default")
        return _markdown(segment.text)

    def _widget_for(self, segment: Segment, live: bool = False) -> Widget:
        if segment.kind == "text":
            if self._flooding:
                return TailText("" if live else segment.text, classes="seg-text")
            # The live (last) segment starts empty and is filled through its stream, so its
            # initial parse and the streamed appends can never race.
            return _markdown() if live else self._final(segment)
        if segment.kind == "diff":
            from gearshift.ui.diffview import diff_content  # pygments: not for the first frame

            widget = Static(diff_content(segment.text), classes="seg-diff")
            widget.border_title = segment.title
            return widget
        if segment.kind == "findings":
            from gearshift.ui.panes.findings import FindingsList

            return FindingsList(segment.text, segment.data or [], self.config.root, ok=segment.ok)
        if segment.kind == "attempt":
            model = segment.title
            text = segment.text.replace(model, model_label(self.config, model)) if model else segment.text
            return Static(Content.styled(f"── {text}", f"${tier_variable(self.config, model)}"), classes="seg-attempt")
        classes = f"seg-{segment.kind}" + ("" if segment.ok else " -fail")
        return Static(Content(segment.text), classes=classes)

    async def _stop_stream(self) -> None:
        """Close the open stream, and let an append it already started finish its mounts.

        `MarkdownStream.stop` does not wait for an append in flight (it is shielded); removing
        the widget under it would leave that append's mount tasks waiting forever for blocks
        that never mount, holding the widget and its blocks.
        """
        if self._stream is not None:
            stream, self._stream, self._stream_seq = self._stream, None, None
            await stream.stop()
            # The shielded append runs as a task of its own: give it a turn to take the lock
            # before we wait on it, or we could pass first and remove the widget under it.
            for _ in range(3):
                await asyncio.sleep(0)
            async with stream.markdown_widget.lock:
                pass

    async def _swap(self, seq: int, widget: Widget) -> None:
        old = self._widgets[seq]
        if seq == self._stream_seq:
            await self._stop_stream()
        await self.mount(widget, before=old)
        await old.remove()
        self._widgets[seq] = widget
        release_removed_widgets()

    # The app calls show / sync / settle_step under its paint lock, one at a time. (They must not
    # wait on a lock of their own inside a message handler: removing a widget needs this pane's
    # message pump, so a pump blocked on such a lock deadlocks the removal.)

    async def show(self, t: TaskView | None) -> None:
        """Switch to another task: rebuild from its bounded output."""
        await self._stop_stream()
        self._flooding = False
        self.task_id = None if t is None else t.id
        self._widgets.clear()
        self._written.clear()
        await self.remove_children()
        release_removed_widgets()
        if t is None:
            await self.mount(Static(self.empty, classes="placeholder"))
            return
        self._received = t.output.received
        if not t.output.segments:
            await self.mount(Static(Content(f"{t.id}: {t.prompt}"), classes="placeholder"))
        await self.sync(t)
        self.anchor()

    async def sync(self, t: TaskView) -> None:
        """Catch up with new output of the task already shown."""
        if t.id != self.task_id:
            await self.show(t)
            return
        everything = list(t.output.segments)
        if not everything:
            return
        if t.output.received - self._received > FLOOD_CHARS:
            self._flooding = True
            self._settle_at = time.monotonic() + SETTLE_S
        self._received = t.output.received
        segments = visible(everything)
        await self._note_hidden(len(everything) - len(segments) + t.output.dropped)
        first = segments[0].seq
        stale = [seq for seq in self._widgets if seq < first]
        for seq in stale:
            if seq == self._stream_seq:
                await self._stop_stream()
            await self._widgets.pop(seq).remove()
            self._written.pop(seq, None)
        if stale:
            release_removed_widgets()
        new_widgets: list[Widget] = []
        last_seq = segments[-1].seq
        for segment in segments:
            if segment.seq in self._widgets:
                continue
            if not new_widgets and not self._widgets:
                for placeholder in self.query(".placeholder"):
                    await placeholder.remove()
            live = segment.seq == last_seq
            widget = self._widget_for(segment, live)
            self._widgets[segment.seq] = widget
            new_widgets.append(widget)
            if segment.kind == "text":
                self._written[segment.seq] = 0 if live else len(segment.text)
        await self._freeze(segments)
        if new_widgets:
            await self.mount_all(new_widgets)
        last = segments[-1]
        if last.kind == "text":
            await self._grow(last)

    async def _note_hidden(self, hidden: int) -> None:
        notes = self.query(".seg-hidden")
        if not hidden:
            for note in notes:
                await note.remove()
            return
        text = f"… {hidden} earlier part{'s' if hidden != 1 else ''} of this output not shown"
        if notes:
            notes.first(Static).update(text)
        else:
            await self.mount(Static(text, classes="seg-hidden"), before=0 if self.children else None)

    async def _freeze(self, segments: list[Segment]) -> None:
        """Swap long text segments that stopped growing from Markdown (many widgets) to one Static.

        TailText segments are left to `_settle`, which converts them one at a time.
        """
        last_seq = segments[-1].seq
        for segment in segments:
            widget = self._widgets.get(segment.seq)
            if segment.kind != "text" or segment.seq == last_seq or widget is None or isinstance(widget, FrozenText):
                continue
            if not isinstance(widget, TailText) and len(segment.text) > FREEZE_CHARS:
                await self._swap(segment.seq, self._final(segment))

    async def _grow(self, segment: Segment) -> None:
        """Hand the live segment's new text to its widget: a TailText, or a Markdown stream."""
        seq = segment.seq
        written = self._written.get(seq, 0)
        widget = self._widgets[seq]
        fresh = segment.text[written:]
        self._written[seq] = len(segment.text)
        if isinstance(widget, TailText):
            widget.append(fresh)
            return
        if self._flooding:  # caught mid-stream by a flood: everything so far, plain, from here on
            await self._swap(seq, TailText(segment.text, classes="seg-text"))
            return
        if self._stream_seq != seq:
            await self._open_stream(seq)
        if fresh:
            assert self._stream is not None
            await self._stream.write(fresh)

    async def _open_stream(self, seq: int) -> None:
        from textual.widgets import Markdown

        await self._stop_stream()
        widget = self._widgets[seq]
        assert isinstance(widget, Markdown)
        self._stream = Markdown.get_stream(widget)
        self._stream_seq = seq

    # -- floods ---------------------------------------------------------------------------------

    def settle_due(self) -> bool:
        """Whether a flood is over (or still being settled) and a segment is ready to convert."""
        if time.monotonic() < self._settle_at:
            return False
        return self._flooding or any(isinstance(w, TailText) for w in self._widgets.values())

    async def settle_step(self) -> None:
        """Hand one TailText segment, the newest, to Markdown (the app calls this while due)."""
        self._flooding = False
        self._settle_at = time.monotonic() + SETTLE_STEP_S
        plain = [seq for seq, w in self._widgets.items() if isinstance(w, TailText)]
        if not plain:
            return
        seq = max(plain)
        text = self._widgets[seq].text  # type: ignore[attr-defined]
        if seq == max(self._widgets):  # the live segment: a stream, for what comes next
            await self._swap(seq, _markdown())
            await self._open_stream(seq)
            assert self._stream is not None
            await self._stream.write(text)
        else:
            await self._swap(seq, self._final(Segment(seq, "text", text)))

    def caught_up(self, t: TaskView) -> bool:
        """Whether every character of `t`'s newest segment has been handed to its widget."""
        if self.task_id != t.id or not t.output.segments:
            return False
        last = t.output.segments[-1]
        return last.seq in self._widgets and (last.kind != "text" or self._written.get(last.seq) == len(last.text))

    async def close(self) -> None:
        await self._stop_stream()
