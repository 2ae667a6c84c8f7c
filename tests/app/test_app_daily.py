"""The app as a daily driver: following the running task, no key, a first run, labels."""

from __future__ import annotations

from pathlib import Path

import pytest
from gearshift import events as ev
from gearshift.models.client import ModelGateway
from gearshift.ui.app import NO_KEY, make_app
from gearshift.ui.panes.queue import TaskQueue

from tests.app.conftest import SIZE
from tests.app.project import ReplayGate, config_for, make_tasks, wait_for, write_project


async def test_during_run_all_the_panes_follow_the_running_task_until_the_cursor_pins_them(
    build, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    gate = ReplayGate(frames=12)
    gate.install(monkeypatch)
    app = build("missing", "story", speed=1000.0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        queue = app.query_one(TaskQueue)
        assert app.selected == "missing"
        await pilot.press("R")
        await wait_for(gate.paused.is_set, pilot)  # "missing" failed, "story" streams
        await wait_for(lambda: app.selected == "story", pilot)
        assert queue.selected == "story" and "following story" in str(queue.border_subtitle)

        await pilot.press("up")  # the user looks at the failed task: the view stays there
        await wait_for(lambda: app.selected == "missing", pilot)
        assert not app.following and "pinned" in str(queue.border_subtitle)

        await pilot.press("f")
        await wait_for(lambda: app.selected == "story", pilot)
        assert app.following and "following story" in str(queue.border_subtitle)
        gate.release()
        await wait_for(lambda: app.state.tasks["story"].status not in ("queued", "running", "validating"), pilot)
        await wait_for(lambda: not queue.border_subtitle, pilot)  # run all is over: no mark


async def test_f_outside_run_all_says_there_is_nothing_to_follow(build) -> None:  # type: ignore[no-untyped-def]
    app = build("story")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f")
        await pilot.pause()
        assert any("Nothing to follow" in n.message for n in app._notifications)


async def test_without_a_key_or_recordings_the_app_says_so_and_starts_nothing(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p")
    app = make_app(config_for(root), make_tasks("story", "mul"), ModelGateway(mode="live"), watch=False,
                   user_themes_dir=tmp_path / "themes")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert NO_KEY in app.sub_title
        for key in ("r", "R"):
            await pilot.press(key)
            await pilot.pause()
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert errors and all(m == "No API key: set ANTHROPIC_API_KEY or try gearshift demo" for m in errors)
        assert not [e for e in app.state.events if isinstance(e, ev.TaskRouted | ev.CallStarted | ev.CallFailed)]
        assert {r.status for r in app.session.records.values()} == {"queued"}
        assert app.ledger is not None and not list(app.ledger.calls(app.ledger.session))


async def test_a_folder_without_config_says_what_to_do_and_i_writes_one(tmp_path: Path) -> None:
    """The empty state names the next step; nothing is created in the folder until `i` writes
    gearshift.toml (and the example tasks.toml), which the app then uses at once."""
    from gearshift.config import load_config
    from gearshift.tasks import TASKS_FILE
    from gearshift.ui.panes.output import OutputPane
    from textual.widgets import Static

    root = tmp_path / "fresh"
    root.mkdir()
    (root / "app.py").write_text("x = 1\n")
    config = load_config(root)
    assert config.source == "(defaults)"
    app = make_app(config, [], ModelGateway(mode="live"), watch=False, user_themes_dir=tmp_path / "themes",
                   tasks_path=root / TASKS_FILE)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        shown = str(app.query_one(OutputPane).query_one(Static).render())
        assert "No gearshift.toml" in shown and "press i to write one" in shown and "a to add a task" in shown
        assert sorted(p.name for p in root.iterdir()) == ["app.py"]  # no .gearshift/ yet
        await pilot.press("i")
        await wait_for(lambda: app.config.source != "(defaults)", pilot)
        assert (root / "gearshift.toml").is_file() and (root / TASKS_FILE).is_file()
        assert "python_compile" in app.config.validation.checks
        await wait_for(lambda: bool(app.session.records), pilot)  # the example tasks, queued
        assert app.session.config is app.config
        await pilot.press("i")  # a second time: the file is there, nothing is overwritten
        await pilot.pause()
        assert any("Could not write the configuration" in n.message and "exists" in n.message for n in app._notifications)
    assert not (root / ".gearshift").exists()


async def test_the_palette_lists_each_action_once(build) -> None:  # type: ignore[no-untyped-def]
    app = build("story")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert len(titles) == len(set(titles))
        assert sum("quit" in t.lower() for t in titles) == 1
        assert sum("theme" in t.lower() for t in titles) == 1


async def test_the_spend_plot_is_empty_when_every_call_was_free(build) -> None:  # type: ignore[no-untyped-def]
    from textual.widgets import Sparkline

    app = build("story")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.state.spend.extend([0.0, 0.0, 0.0])
        app.query_one("#cost").show(app.state, None)  # type: ignore[attr-defined]
        assert app.query_one("#spend-plot", Sparkline).data == []
        app.state.spend.append(0.01)
        app.query_one("#cost").show(app.state, None)  # type: ignore[attr-defined]
        assert app.query_one("#spend-plot", Sparkline).data == [0.0, 0.0, 0.0, 0.01]


async def test_quitting_names_a_task_awaiting_approval_as_such(build) -> None:  # type: ignore[no-untyped-def]
    from gearshift.ui.screens.confirm import ConfirmScreen

    app = build("mul")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await wait_for(lambda: "mul" in app.approvals and app.state.tasks["mul"].awaiting_approval, pilot)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "waiting for your approval of an escalation (mul)" in app.screen.question
        assert "still running" not in app.screen.question
        await pilot.press("escape")


@pytest.mark.parametrize(("size", "kept", "dropped"), [((80, 24), {"q", "v", "a", "r", "f"}, {"t", "u"}), ((200, 60), {"q", "t", "u", "l"}, set())])
async def test_the_footer_keeps_what_matters_and_the_cost_gauges_stay_in_view(build, size, kept, dropped) -> None:  # type: ignore[no-untyped-def]
    from textual.widgets._footer import FooterKey

    app = build("story")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.pause()
        keys = {k.key for k in app.query(FooterKey)}
        assert kept <= keys and not (dropped & keys), keys
        footer = app.query_one("Footer")
        assert sum(k.region.width for k in app.query(FooterKey)) <= footer.region.width
        cost = app.query_one("#cost").region
        for gauge in ("#alert-gauge", "#budget-gauge"):
            region = app.query_one(gauge).region
            assert region.height == 1 and cost.contains_region(region), (gauge, region, cost)
