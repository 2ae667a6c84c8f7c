"""A review task in the app: routed by score (the app is not a batch run), its findings listed
in the output pane with a severity badge, and Enter on one shows the project's lines."""

from __future__ import annotations

from pathlib import Path

from gearshift.tasks import Task
from gearshift.ui.app import make_app
from gearshift.ui.panes.findings import FindingsList
from gearshift.ui.screens.finding import FindingScreen
from textual.widgets import OptionList, Static

from tests.app.conftest import SIZE
from tests.app.project import SONNET, _save, _text, _usage, config_for, gateway, wait_for, write_project

FINDING = {
    "file": "calc.py",
    "start_line": 8,
    "end_line": 9,
    "severity": "error",
    "rule": "wrong-operator",
    "message": "sub is documented as subtraction; check callers that pass negative numbers.",
    "suggested_fix": "def sub(a, b):\n    return a - b",
}
REVIEW = Task(id="review", prompt="Review calc.py for bugs.", context_files=("calc.py",), kind="review")


def review_recordings(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    use = {"type": "tool_use", "name": "record_finding", "input": FINDING}
    _save(folder, "review", 1, 1, SONNET, [_text("Reviewing.\n"), use], _usage(900, 80, write=1200), "tool_use")
    _save(folder, "review", 1, 2, SONNET, [_text("One error.")], _usage(200, 10, read=1200), "end_turn")
    return folder


async def test_a_review_routes_by_score_in_the_app_and_lists_its_findings(tmp_path: Path) -> None:
    root = write_project(tmp_path / "tinyproj")
    before = (root / "calc.py").read_text()
    app = make_app(
        config_for(root), [REVIEW], gateway(review_recordings(tmp_path / "rec")), watch=False,
        user_themes_dir=tmp_path / "themes",
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await wait_for(lambda: app.state.tasks["review"].status == "approved", pilot)
        t = app.state.tasks["review"]
        assert t.kind == "review" and t.route == [SONNET]
        assert t.routed is not None and t.routed["rule"] == "below-threshold"
        assert [f["start_line"] for f in t.review_findings] == [8]
        await wait_for(lambda: bool(app.query(FindingsList)), pilot)
        listing = app.query_one(FindingsList)
        head = str(listing.query_one(".findings-head", Static).render())
        assert "1 error" in head
        options = listing.query_one(OptionList)
        line = str(options.get_option_at_index(0).prompt)
        assert "ERROR" in line and "calc.py:8-9" in line and "wrong-operator" in line
        options.focus()
        options.highlighted = 0
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, FindingScreen), pilot)
        shown = app.screen
        assert isinstance(shown, FindingScreen)
        assert shown.syntax is not None
        assert "def sub(a, b):\n    return a - b" in shown.syntax.code
        assert shown.syntax.highlight_lines == {8, 9} and shown.syntax.start_line == 4
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, FindingScreen)
    assert (root / "calc.py").read_text() == before  # a review writes nothing

