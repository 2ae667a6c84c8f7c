"""Text arriving faster than Markdown can lay it out: TailText, the pane's flood mode, settling
back to Markdown, and the state telling text-only news apart from everything else."""

from __future__ import annotations

import gc

from gearshift import events as ev
from gearshift.ui.panes.output import FLOOD_CHARS, OutputPane
from gearshift.ui.panes.tail import TailText
from gearshift.ui.state import UIState
from gearshift.ui.stream import MAX_SEGMENT_CHARS
from textual.app import App, ComposeResult
from textual.content import Content
from textual.widgets import Markdown

from tests.app.conftest import SIZE
from tests.app.project import wait_for

WIDTH = 30  # TailText's content width below


class OneTail(App[None]):
    CSS = f"TailText {{ width: {WIDTH}; }}"

    def compose(self) -> ComposeResult:
        yield TailText()


def rendered(tail: TailText) -> list[str]:
    return [tail.render_line(y).text.rstrip() for y in range(tail.line_count)]


async def test_tail_text_appends_wrap_like_the_whole_text() -> None:
    """Wrapping only the new text gives the lines a wrap of the whole text gives, whatever the
    cut points (mid-word, on and around newlines, blank lines, a word longer than the width)."""
    pieces = ["Every tick wri", "tes what it gathered once", ", so the loop\n", "\nstays", " free.\n\n- a list item",
              "\n- another", " item with a_very_long_identifier_that_cannot_fit_anywhere", " and more\n", "tail"]
    app = OneTail()
    async with app.run_test(size=(80, 24)) as pilot:
        tail = app.query_one(TailText)
        text = ""
        for piece in pieces:
            tail.append(piece)
            text += piece
            await pilot.pause()
            expected = [line.plain.rstrip() for line in Content(text).wrap(WIDTH)]
            assert rendered(tail) == expected
            assert tail.size.height == len(expected)  # the layout saw every new line
        assert tail.text == text


async def test_a_flood_is_shown_plain_then_handed_back_to_markdown(build) -> None:  # type: ignore[no-untyped-def]
    """More than FLOOD_CHARS in one tick: the live segment becomes a TailText; once the flood is
    over it is a Markdown stream again, holding every character, and later text still streams."""
    app = build("story")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        pane = app.query_one(OutputPane)
        story = app.state.tasks["story"]
        paragraph = "A burst of text, as an instant replay brings it. " * 4 + "\n\n"
        burst = paragraph * (FLOOD_CHARS // len(paragraph) + 2)
        for i in range(0, len(burst), 4):
            app.emit_event(ev.TextDelta(task_id="story", attempt=1, text=burst[i : i + 4]))
        await wait_for(lambda: pane.caught_up(story), pilot)
        assert isinstance(pane.children[-1], TailText)
        assert not pane.settled
        await wait_for(lambda: pane.settled, pilot)
        live = pane.children[-1]
        assert isinstance(live, Markdown)
        await wait_for(lambda: live.source == burst, pilot)
        app.emit_event(ev.TextDelta(task_id="story", attempt=1, text="And then, calmly."))
        await wait_for(lambda: live.source == burst + "And then, calmly.", pilot)
        assert pane.settled and not pane.query(TailText)


async def test_the_app_tunes_the_collector_after_its_first_frame_and_restores_it(build) -> None:  # type: ignore[no-untyped-def]
    before = gc.get_threshold()
    app = build("story")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] > before[0]
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_text_only_news_leaves_the_queue_and_meters_alone() -> None:
    s = UIState()
    s.apply(ev.TaskQueued(task_id="t", prompt="p", scope="single-file"))
    s.take_changes()
    s.apply(ev.TextDelta(task_id="t", attempt=1, text="hello"))
    changes = s.take_changes()
    assert changes.text == {"t"} and not changes.tasks and not changes.queue and changes.any()
    assert s.tasks["t"].output.plain() == "hello"
    assert not [e for e in s.events if isinstance(e, ev.TextDelta)]  # text lives in the Output only
    s.apply(ev.ToolCall(task_id="t", attempt=1, command="view", path="a.py", ok=True, summary=""))
    assert s.take_changes().tasks == {"t"}


def test_one_huge_delta_is_cut_into_bounded_segments() -> None:
    """A tick of an instant replay can bring more than a segment holds: it fills the last text
    segment, then continues in new ones, none longer than MAX_SEGMENT_CHARS."""
    s = UIState()
    s.apply(ev.TaskQueued(task_id="t", prompt="p", scope="single-file"))
    s.apply(ev.TextDelta(task_id="t", attempt=1, text="x" * 100))
    big = "".join(chr(ord("a") + i % 26) for i in range(MAX_SEGMENT_CHARS * 2 + 500))
    s.apply(ev.TextDelta(task_id="t", attempt=1, text=big))
    out = s.tasks["t"].output
    assert [len(seg.text) for seg in out.segments] == [MAX_SEGMENT_CHARS, MAX_SEGMENT_CHARS, 600]
    assert out.plain() == "x" * 100 + big
    assert out.received == 100 + len(big) == out.chars
