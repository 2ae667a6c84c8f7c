"""The demo says where its scratch copy lives: in the app on start, and on the terminal after it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gearshift import demo
from gearshift.ui import launch as launch_module

from tests.app.conftest import SIZE


async def test_a_start_notice_is_shown_once_as_a_notification(build) -> None:  # type: ignore[no-untyped-def]
    app = build("story", notice="Demo on a scratch copy: /tmp/x/python-shop")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        messages = [n.message for n in app._notifications]
    assert messages.count("Demo on a scratch copy: /tmp/x/python-shop") == 1


async def test_without_a_notice_nothing_is_announced(build) -> None:  # type: ignore[no-untyped-def]
    app = build("story")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not [n for n in app._notifications if n.title == "gearshift"]


def test_the_demo_names_its_scratch_copy_in_the_app_and_after_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    seen: dict[str, Any] = {}

    def fake_launch(project: Path, **kwargs: Any) -> int:
        seen.update(project=project, **kwargs)
        return 0

    monkeypatch.setattr(launch_module, "launch", fake_launch)
    monkeypatch.setattr(demo.tempfile, "mkdtemp", lambda prefix: str(tmp_path))
    assert demo.open_demo("python", speed=0.0) == 0
    project = seen["project"]
    assert project == tmp_path / "python-shop" and (project / "tasks.toml").is_file()
    assert str(project) in seen["notice"]
    assert seen["replay"] == str(project / "gearshift-recordings")
    err = capsys.readouterr().err
    assert f"stays at {project}" in err
