"""The app says where checks run unsandboxed: a header badge and a notification; with
validation.sandbox = "required" and no sandbox, it says so and runs no check."""

from __future__ import annotations

from pathlib import Path

import pytest
from gearshift import events as ev
from gearshift.ui.app import make_app

from tests.app.conftest import SIZE
from tests.app.project import config_for, gateway, make_tasks, wait_for, write_project
from tests.engine.test_validation_sandbox import broken_bwrap


async def test_a_fallback_shows_the_unsandboxed_badge(
    build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    broken_bwrap(tmp_path, monkeypatch)
    app = build("mul")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.sub_title.startswith("⚠ checks unsandboxed · tinyproj")
        (note,) = [n for n in app._notifications if n.title == "Sandbox"]
        assert "uid map: Permission denied" in note.message and note.severity == "warning"
        assert app.state.sandbox == "unavailable"


async def test_required_without_a_sandbox_runs_no_check(
    tmp_path: Path, recordings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken_bwrap(tmp_path, monkeypatch)
    root = write_project(tmp_path / "tinyproj")
    config = root / "gearshift.toml"
    config.write_text(config.read_text().replace("[validation]\n", '[validation]\nsandbox = "required"\n'))
    app = make_app(
        config_for(root),
        make_tasks("mul"),
        gateway(recordings, 0.0),
        watch=False,
        user_themes_dir=tmp_path / "t",
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.sub_title.startswith("⚠ checks refused: no sandbox · tinyproj")
        (note,) = [n for n in app._notifications if n.title == "Sandbox"]
        assert 'validation.sandbox is "required"' in note.message and note.severity == "error"
        await pilot.press("r")
        await wait_for(lambda: app.state.tasks["mul"].status == "failed", pilot)
        assert not [e for e in app.state.events if isinstance(e, ev.ValidationStarted)]
        assert not [e for e in app.state.events if isinstance(e, ev.CallFinished)]  # no model call either
