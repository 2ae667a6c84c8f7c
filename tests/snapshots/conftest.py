"""Snapshot fixtures: the Pilot tests' project, recordings and app factory, made deterministic
(no timings, no cursor blink, no watcher, no user themes; run ids count per session)."""

from __future__ import annotations

from tests.app.conftest import build, no_user_config, recordings  # noqa: F401 — fixtures
