"""The output pane: the selected task's model stream, tool calls and staged diffs, in order.

Streaming text goes through `Markdown.get_stream` on an anchored scroll container, fed once per
app tick with the text coalesced since the last tick (perf-floors.md: per-token writes stall the
loop for hundreds of ms; per-refresh writes do not). The pane reconciles by segment sequence
number against the task's bounded `Output`: new segments are mounted, dropped ones removed, and
only the last text segment ever grows, so at most one stream is open at a time.
"""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Markdown, Static
from textual.widgets.markdown import MarkdownStream

from gearshift.config import Config
from gearshift.ui.diffview import diff_content
from gearshift.ui.format import model_label, tier_variable
from gearshift.ui.state import Segment, TaskView


class OutputPane(VerticalScroll):
    DEFAULT_CSS = """
    OutputPane { height: 1fr; }
    OutputPane > Markdown { margin: 0 0; padding: 0 1; }
    OutputPane > .seg-tool { color: $text-muted; padding: 0 1; }
    OutputPane > .seg-tool.-fail { color: $text-error; }
    OutputPane > .seg-attempt { padding: 0 1; text-style: bold; background: $boost; }
    OutputPane > .seg-diff { border: round $panel-lighten-2; border-title-color: $text-muted; padding: 0 1; }
    OutputPane > .seg-notice { color: $text-accent; padding: 0 1; }
    OutputPane > .seg-error { color: $text-error; padding: 0 1; text-style: bold; }
    OutputPane > .placeholder { color: $text-muted; padding: 1 2; }
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

    def on_mount(self) -> None:
        self.anchor()

    def _widget_for(self, segment: Segment, live: bool = False) -> Widget:
        if segment.kind == "text":
            # The live (last) segment starts empty and is filled through its stream, so its
            # initial parse and the streamed appends can never race.
            return Markdown("" if live else segment.text, classes="seg-text")
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
        segments = list(t.output.segments)
        if not segments:
            return
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
        if new_widgets:
            await self.mount_all(new_widgets)
        last = segments[-1]
        if last.kind == "text":
            await self._grow(last)

    async def _grow(self, segment: Segment) -> None:
        written = self._written.get(segment.seq, 0)
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

    async def close(self) -> None:
        await self._stop_stream()
