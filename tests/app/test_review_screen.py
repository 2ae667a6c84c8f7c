"""The review screen on its own: given a `ChangeUnderReview` of plain values, no Session.

It shows the change file by file and hunk by hunk, and each key becomes one of the view's
commands with exactly the hunks the user accepted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gearshift.edits.apply import AppliedChange
from gearshift.edits.workspace import FileChange
from gearshift.ui import themes
from gearshift.ui.screens.review import ChangeUnderReview, ReviewScreen
from gearshift.validation.findings import ValidationResult
from textual.app import App
from textual.widgets import Static

from tests.app.conftest import SIZE

BEFORE = "".join(f"line {n}\n" for n in range(1, 31))
AFTER = BEFORE.replace("line 2\n", "line two\n").replace("line 28\n", "line twenty-eight\n")


class Calls:
    """A fake change: records what the screen asked for, answers checks with `outcome`."""

    def __init__(self, outcome: str = "pass") -> None:
        self.outcome = outcome
        self.checked: list[dict[str, set[int]]] = []
        self.applied: list[dict[str, set[int]] | None] = []
        self.rejected = 0

    def view(self) -> ChangeUnderReview:
        async def check(accepted: dict[str, set[int]]) -> ValidationResult:
            self.checked.append(accepted)
            return ValidationResult("v9", self.outcome)  # type: ignore[arg-type]

        def apply(accepted: dict[str, set[int]] | None) -> AppliedChange:
            self.applied.append(accepted)
            return AppliedChange("t", ["a.py"], Path("journal"))

        def reject() -> None:
            self.rejected += 1

        changes = [FileChange("a.py", BEFORE, AFTER), FileChange("new.py", None, "x = 1\n")]
        return ChangeUnderReview(
            "t", changes, latest_run=lambda: None, check=check, apply=apply, reject=reject
        )


class Host(App[None]):
    """A bare app with gearshift's theme variables, hosting only the review screen."""

    def __init__(self, change: ChangeUnderReview) -> None:
        super().__init__()
        self.change = change
        self.results: list[bool | None] = []

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return themes.variable_defaults(self.current_theme)

    def on_mount(self) -> None:
        self.push_screen(ReviewScreen(self.change, {}), self.results.append)


def _open(calls: Calls) -> tuple[Host, Any]:
    host = Host(calls.view())
    return host, host.run_test(size=SIZE)


async def test_it_shows_every_file_and_hunk_and_rejects_through_the_view() -> None:
    calls = Calls()
    host, running = _open(calls)
    async with running as pilot:
        await pilot.pause()
        screen = host.screen
        assert isinstance(screen, ReviewScreen)
        titles = [str(v.border_title) for v in screen.hunk_views()]
        assert titles == [
            "a.py · hunk 1/2 · ✓ accept",
            "a.py · hunk 2/2 · ✓ accept",
            "new.py · hunk 1/1 · ✓ accept",
        ]
        summary = str(screen.query_one("#review-summary", Static).render())
        assert "Review t — 2 files, 3 hunks" in summary and "No validation yet" in summary
        await pilot.press("x")
        await pilot.pause()
    assert calls.rejected == 1 and calls.applied == [] and host.results == [True]


async def test_all_hunks_apply_unchecked_a_selection_is_checked_first() -> None:
    calls = Calls()
    host, running = _open(calls)
    async with running as pilot:
        await pilot.pause()
        await pilot.press("down", "space", "enter")  # hunk 2 of a.py rejected
        for _ in range(50):
            if host.results:
                break
            await pilot.pause(0.02)
    assert calls.checked == [{"a.py": {0}, "new.py": {0}}]
    assert calls.applied == [{"a.py": {0}, "new.py": {0}}] and host.results == [True]

    whole = Calls()
    host, running = _open(whole)
    async with running as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
    assert whole.checked == [] and whole.applied == [None] and host.results == [True]


async def test_a_failing_selection_is_applied_only_when_asked_again() -> None:
    calls = Calls(outcome="fail-logic")
    host, running = _open(calls)
    async with running as pilot:
        await pilot.pause()
        await pilot.press("space", "enter")  # hunk 1 of a.py rejected
        note = host.screen.query_one("#review-error", Static)
        for _ in range(50):
            if "fails its checks" in str(note.render()):
                break
            await pilot.pause(0.02)
        assert "fails its checks (fail-logic" in str(note.render())
        assert calls.applied == [] and host.results == []
        await pilot.press("enter")
        await pilot.pause()
    assert calls.checked == [{"a.py": {1}, "new.py": {0}}]
    assert calls.applied == [{"a.py": {1}, "new.py": {0}}] and host.results == [True]
