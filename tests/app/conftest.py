"""Fixtures for Pilot tests: a tiny project, scripted recordings, and the app built on them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from gearshift.ui.app import GearshiftApp, make_app

from tests.app.project import config_for, gateway, make_tasks, write_project, write_recordings

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep the developer's own themes (and any API key) out of the tests."""
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    return home


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    return write_recordings(tmp_path / "recordings")


@pytest.fixture
def build(tmp_path: Path, recordings: Path) -> Callable[..., GearshiftApp]:
    """build("mul", "story", checks=..., alert=..., speed=..., force={...}, **app options)."""

    def _build(*task_ids: str, checks: str = "pytest", alert: float = 0.5, budget: float | None = None,
               speed: float = 0.0, force: dict[str, str] | None = None, **options: Any) -> GearshiftApp:
        root = write_project(tmp_path / "tinyproj", checks=checks, alert=alert, budget=budget)
        options.setdefault("watch", False)
        options.setdefault("user_themes_dir", tmp_path / "user-themes")
        return make_app(config_for(root), make_tasks(*task_ids, force=force), gateway(recordings, speed), **options)

    return _build
