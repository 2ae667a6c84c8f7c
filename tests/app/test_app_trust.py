"""Project trust in the app: the project's own commands are shown once in a modal, and until
the user trusts them neither the watcher nor a task runs any of them (the check shows as
"untrusted, not run"); after "Trust" the next save runs them.

Each project here runs code of its own that touches a marker file (see tests/support/hostile.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gearshift import events as ev
from gearshift import trust
from gearshift.config import load_config
from gearshift.ui.app import make_app
from gearshift.ui.screens.trust import TrustScreen
from textual.widgets import Static

from tests.app.conftest import SIZE
from tests.app.project import gateway, wait_for
from tests.support.hostile import PATHS, hostile_project


def watch_runs(app: Any) -> list[ev.ValidationFinished]:
    return [e for e in app.state.events if isinstance(e, ev.ValidationFinished) and e.reason == "watch"]


def checks_of(app: Any, run_id: str) -> dict[str, ev.CheckFinished]:
    return {e.check: e for e in app.state.events if isinstance(e, ev.CheckFinished) and e.run_id == run_id}


async def save_and_wait(app: Any, pilot: Any, root: Path, n: int) -> ev.ValidationFinished:
    calc = root / "calc.py"
    calc.write_text(calc.read_text() + f"\n\nSAVED_{n} = {n}\n")
    await wait_for(lambda: len(watch_runs(app)) >= n, pilot)
    return watch_runs(app)[n - 1]


def asking(app: Any) -> bool:
    return isinstance(app.screen, TrustScreen) and bool(app.screen.query("#commands"))


def app_for(root: Path, recordings: Path, tmp_path: Path) -> Any:
    config = trust.checked(load_config(root))  # what launch() does
    return make_app(config, [], gateway(recordings), watch=True, user_themes_dir=tmp_path / "themes")


@pytest.mark.parametrize("path", PATHS)
async def test_nothing_untrusted_runs_until_the_user_trusts_it(
    path: str, tmp_path: Path, recordings: Path
) -> None:
    marker = tmp_path / "ran"
    root = hostile_project(tmp_path / "p", path, marker)
    app = app_for(root, recordings, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: asking(app), pilot)
        shown = str(app.screen.query_one("#commands", Static).render())
        expected = {
            "command": f"command setup_db: touch {marker}",
            "python": "tools/py",
            "venv": ".venv/bin/python",
        }
        assert expected[path] in shown
        assert "untrusted" in app.sub_title
        await wait_for(lambda: app.watcher is not None and app.watcher.ready.is_set(), pilot)  # type: ignore[attr-defined]
        first = await save_and_wait(app, pilot, root, 1)
        assert not marker.exists()
        if path == "command":
            not_run = checks_of(app, first.run_id)["setup_db"]
            assert not not_run.passed and not_run.error.startswith("untrusted, not run")
        else:  # built-in checks still run, with gearshift's own Python
            assert checks_of(app, first.run_id)["python_compile"].passed
        await pilot.press("t")
        await wait_for(lambda: not isinstance(app.screen, TrustScreen), pilot)
        assert trust.verdict(load_config(root)).trusted  # recorded, like `gearshift trust`
        assert "untrusted" not in app.sub_title
        second = await save_and_wait(app, pilot, root, 2)
        assert marker.exists()
        assert all(c.passed and not c.error for c in checks_of(app, second.run_id).values())


async def test_not_now_keeps_them_off_and_records_nothing(tmp_path: Path, recordings: Path) -> None:
    marker = tmp_path / "ran"
    root = hostile_project(tmp_path / "p", "venv", marker)
    app = app_for(root, recordings, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: asking(app), pilot)
        await pilot.press("n")
        await wait_for(lambda: not isinstance(app.screen, TrustScreen), pilot)
        await wait_for(lambda: app.watcher is not None and app.watcher.ready.is_set(), pilot)  # type: ignore[attr-defined]
        run = await save_and_wait(app, pilot, root, 1)
        assert checks_of(app, run.run_id)["python_compile"].passed
    assert not marker.exists()
    assert not trust.store_path().exists()


async def test_a_trusted_project_is_not_asked(tmp_path: Path, recordings: Path) -> None:
    root = hostile_project(tmp_path / "p", "command", tmp_path / "ran")
    trust.record(load_config(root))
    app = app_for(root, recordings, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        assert not isinstance(app.screen, TrustScreen)
        assert "untrusted" not in app.sub_title
