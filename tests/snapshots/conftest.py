"""Snapshot fixtures: the Pilot tests' project, recordings and app factory, made deterministic
(no timings, no cursor blink, no watcher, no user themes, run ids from v1)."""

from __future__ import annotations

import itertools

import pytest
from gearshift.pipeline import journey

from tests.app.conftest import build, no_user_config, recordings  # noqa: F401 — fixtures


@pytest.fixture(autouse=True)
def fresh_run_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Validation run ids come from a process-wide counter; each picture starts it at v1."""
    monkeypatch.setattr(journey, "_run_ids", itertools.count(1))
