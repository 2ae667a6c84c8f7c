"""The engine never imports Textual: both consumers stand on it, the headless one without a screen."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import gearshift

ENGINE = sorted(
    m.name
    for m in pkgutil.walk_packages(gearshift.__path__, "gearshift.")
    if not m.name.startswith("gearshift.ui") and m.name != "gearshift.__main__"
)


def test_engine_modules_exist() -> None:
    for required in (
        "gearshift.pipeline.session",
        "gearshift.models.client",
        "gearshift.validation.runner",
        "gearshift.edits.workspace",
        "gearshift.routing.policy",
        "gearshift.ledger",
        "gearshift.headless",
    ):
        assert required in ENGINE


def test_importing_the_engine_does_not_import_textual() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in ENGINE)
        + "print('textual' in sys.modules, 'rich' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.split() == ["False", "False"], out.stdout + out.stderr


def test_commands_without_model_calls_do_not_import_the_sdk(tmp_path: Path) -> None:
    code = (
        "import sys\nfrom gearshift import cli\n"
        f"cli.main(['init', {str(tmp_path)!r}])\n"
        "print('anthropic' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "False"
