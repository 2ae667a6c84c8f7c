"""Shared test helpers: the loopback Messages API server and catalogue model specs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gearshift.config import ModelSpec, config_from_mapping

from tests.support.messages_server import CapturedRequest, MessagesServer, Reply

__all__ = ["CapturedRequest", "MessagesServer", "Reply", "model_spec"]


def model_spec(name: str = "sonnet-4-6", **overrides: Any) -> ModelSpec:
    """A catalogue entry as the config loader builds it; `overrides` as in a [models.NAME] table."""
    raw = {"models": {name: overrides}} if overrides else {}
    return config_from_mapping(Path.cwd(), "(test)", raw).model(name)
