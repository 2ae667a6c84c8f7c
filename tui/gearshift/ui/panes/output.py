"""The output pane: the selected task's model stream, tool calls and staged diffs, in order.

Streaming text goes through `Markdown.get_stream` on an anchored scroll container, fed once per
app tick with the text coalesced since the last tick (perf-floors.md: per-token writes stall the
loop for hundreds of ms; per-refresh writes do not). The pane reconciles by segment sequence
number against the task's bounded `Output`: new segments are mounted, dropped ones removed, and
only the last text segment ever grows, so at most one stream is open at a time.

A Textual Markdown document is one widget per block, and every append reflows them all: a long
answer would make each tick cost hundreds of milliseconds. So a long text segment that can no
longer grow is frozen into a single Static holding a Rich Markdown renderable — one widget
however long it is; short ones stay Textual Markdown, which follows the theme. And the pane shows only the newest
PANE_CHARS characters of output (the state keeps more): every layout pass measures every child,
so what is mounted must stay small whatever the task has said.
"""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Markdown, Static
from textual.widgets.markdown import MarkdownStream

from gearshift.config import Config
from gearshift.ui.diffview import diff_content
from gearshift.ui.format import model_label, tier_variable
from gearshift.ui.state import Segment, TaskView

PANE_CHARS = 12_000


FLOOD_CHARS = 1_500  # new text in one tick beyond which the segment stops being Markdown
FREEZE_CHARS = 1_000  # a finished segment longer than this becomes one FrozenText widget


class FrozenText(Static):
    """A finished text segment: one widget, its height measured once per width.

    Every layout pass asks each child its height; for a Rich Markdown renderable that means
    rendering it again, which made each streamed append cost as much as the whole history.
    """

    def __init__(self, text: str, code_theme: str | None) -> None:
        # code_theme None: plain text (a segment that arrived as a flood, see OutputPane._grow).
        from rich.markdown import Markdown as RichMarkdown  # not needed for the first frame

        body = Content(text) if code_theme is None else RichMarkdown(text, code_theme=code_theme)
        super().__init__(body, classes="seg-text seg-frozen")
        self._heights: dict[int, int] = {}

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        height = self._heights.get(width)
        if height is None:
            height = self._heights[width] = super().get_content_height(container, viewport, width)
        return height


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
    OutputPane > .seg-flood { padding: 0 1; }
    OutputPane > .seg-tool { color: $text-muted; padding: 0 1; }
    OutputPane > .seg-tool.-fail { color: $text-error; }
    OutputPane > .seg-attempt { padding: 0 1; text-style: bold; background: $boost; }
    OutputPane > .seg-diff { border: round $panel-lighten-2; border-title-color: $text-muted; padding: 0 1; }
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
        self._widgets: dict[int, Widget] = {}
        self._written: dict[int, int] = {}  # text segment seq → characters written
        self._stream: MarkdownStream | None = None
        self._stream_seq: int | None = None
        self._flooded: set[int] = set()  # text segments shown as plain text

    def on_mount(self) -> None:
        self.anchor()

    def _frozen(self, text: str, plain: bool = False) -> Static:
        return FrozenText(text, None if plain else "monokai" if self.app.current_theme.dark else "default")

    def _widget_for(self, segment: Segment, live: bool = False) -> Widget:
        if segment.kind == "text":
            # The live (last) segment starts empty and is filled through its stream, so its
            # initial parse and the streamed appends can never race.
            if live:
                return Markdown("", classes="seg-text")
            return self._frozen(segment.text) if len(segment.text) > FREEZE_CHARS else Markdown(segment.text, classes="seg-text")
        if segment.kind == "diff":
            widget = Static(diff_content(segment.text), classes="seg-diff")
            widget.border_title = segment.title
            return widget
        if segment.kind == "attempt":
            model = segment.title
            text = segment.text.replace(model, model_label(self.config, model)) if model else segment.text
            return Static(Content.styled(f"── {text}", f"${tier_variable(self.config, model)}"), classes="seg-attempt")
        classes = f"seg-{segment.kind}" + ("" if segment.ok else " -fail")
        return Static(Content(segment.text), classes=classes)

    async def _stop_stream(self) -> None:
        if self._stream is not None:
            stream, self._stream, self._stream_seq = self._stream, None, None
            await stream.stop()

    async def show(self, t: TaskView | None) -> None:
        """Switch to another task: rebuild from its bounded output."""
        await self._stop_stream()
        self.task_id = None if t is None else t.id
        self._widgets.clear()
        self._written.clear()
        self._flooded.clear()
        await self.remove_children()
        if t is None:
            await self.mount(Static("No task selected.", classes="placeholder"))
            return
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
        segments = visible(everything)
        await self._note_hidden(len(everything) - len(segments) + t.output.dropped)
        first = segments[0].seq
        stale = [seq for seq in self._widgets if seq < first]
        for seq in stale:
            await self._widgets.pop(seq).remove()
            self._written.pop(seq, None)
            if seq == self._stream_seq:
                await self._stop_stream()
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
        """Swap text segments that stopped growing from Markdown (many widgets) to one Static."""
        last_seq = segments[-1].seq
        for segment in segments:
            widget = self._widgets.get(segment.seq)
            if segment.kind != "text" or segment.seq == last_seq or widget is None or isinstance(widget, FrozenText):
                continue
            if isinstance(widget, Markdown) and len(segment.text) <= FREEZE_CHARS:
                continue  # a short answer stays a themed Markdown: few blocks, cheap to lay out
            if segment.seq == self._stream_seq:
                await self._stop_stream()
            frozen = self._frozen(segment.text, plain=segment.seq in self._flooded)
            await self.mount(frozen, before=widget)
            await widget.remove()
            self._widgets[segment.seq] = frozen

    async def _grow(self, segment: Segment) -> None:
        """Feed the live segment's new text to its Markdown stream.

        Markdown mounts a widget per block, a few ms each: fine at a model's 50–150 tokens/s,
        but an instant replay can bring hundreds of blocks a second. When one tick brings more
        than FLOOD_CHARS, the segment is shown as plain text instead (one Static updated per
        tick) — the loop stays responsive and nothing is lost.
        """
        written = self._written.get(segment.seq, 0)
        widget = self._widgets[segment.seq]
        if segment.seq not in self._flooded and len(segment.text) - written > FLOOD_CHARS and isinstance(widget, Markdown):
            if self._stream_seq == segment.seq:
                await self._stop_stream()
            plain = Static(Content(segment.text), classes="seg-text seg-flood")
            await self.mount(plain, before=widget)
            await widget.remove()
            self._widgets[segment.seq] = plain
            self._flooded.add(segment.seq)
            self._written[segment.seq] = len(segment.text)
            return
        if segment.seq in self._flooded:
            if written < len(segment.text):
                self._widgets[segment.seq].update(Content(segment.text))  # type: ignore[attr-defined]
                self._written[segment.seq] = len(segment.text)
            return
        if written >= len(segment.text) and self._stream_seq == segment.seq:
            return
        if self._stream_seq != segment.seq:
            await self._stop_stream()
            widget = self._widgets[segment.seq]
            assert isinstance(widget, Markdown)
            self._stream = Markdown.get_stream(widget)
            self._stream_seq = segment.seq
        assert self._stream is not None
        fresh = segment.text[written:]
        self._written[segment.seq] = len(segment.text)
        if fresh:
            await self._stream.write(fresh)

    def caught_up(self, t: TaskView) -> bool:
        """Whether every character of `t`'s newest segment has been handed to its widget."""
        if self.task_id != t.id or not t.output.segments:
            return False
        last = t.output.segments[-1]
        return last.seq in self._widgets and (last.kind != "text" or self._written.get(last.seq) == len(last.text))

    async def close(self) -> None:
        await self._stop_stream()
