"""Suite-wide setup: the TypeScript sample's node_modules, so its real validators run in CI.

The README's test command is the only thing CI runs; installing the sample's pinned, locked
dependencies here (once, with `npm ci`, only when they are missing) keeps that command whole.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TS_SAMPLE = REPO / "sample-projects" / "typescript-bookings"


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("GEARSHIFT_SKIP_NPM") or (TS_SAMPLE / "node_modules").is_dir():
        return
    if not (TS_SAMPLE / "package-lock.json").is_file():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise pytest.UsageError(f"npm is needed to install {TS_SAMPLE}'s validators (node 20+ with npm)")
    proc = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"], cwd=TS_SAMPLE, capture_output=True, text=True, timeout=900
    )
    if proc.returncode != 0:
        raise pytest.UsageError(f"`npm ci` failed in {TS_SAMPLE}:\n{proc.stderr[-2000:]}")
