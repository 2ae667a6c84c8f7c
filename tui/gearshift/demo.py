"""`gearshift demo`: the whole product on a sample project, offline, in a scratch copy.

Approving a change in the demo writes files; doing that in the repository's own sample would
dirty the checkout, so the sample is copied to a scratch folder first (its `node_modules`, if
installed, is linked rather than copied).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

SAMPLES = {"python": "python-shop", "typescript": "typescript-bookings"}
_SKIP = shutil.ignore_patterns(
    ".gearshift", "node_modules", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"
)


def samples_dir() -> Path:
    """The repository's sample-projects folder (the demo runs from a checkout)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "sample-projects"
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        "sample-projects/ not found: run the demo from a clone of the gearshift repository"
    )


def sample_path(name: str) -> Path:
    folder = SAMPLES.get(name, name)
    path = samples_dir() / folder
    if not path.is_dir():
        known = ", ".join(SAMPLES)
        raise FileNotFoundError(f"no sample project {name!r} (known: {known})")
    return path


def scratch_copy(sample: Path, into: Path | None = None) -> Path:
    """Copy `sample` to a fresh scratch folder and link its node_modules; returns the copy."""
    base = into or Path(tempfile.mkdtemp(prefix="gearshift-demo-"))
    target = base / sample.name
    shutil.copytree(sample, target, ignore=_SKIP, symlinks=True)
    modules = sample / "node_modules"
    if modules.is_dir():
        (target / "node_modules").symlink_to(modules, target_is_directory=True)
    return target


def open_demo(name: str, *, speed: float = 1.0) -> int:
    from gearshift.startup import RECORDINGS_DIR, UsageError

    try:
        sample = sample_path(name)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    if (sample / "package.json").is_file() and not (sample / "node_modules").is_dir():
        raise UsageError(f"{sample}: node_modules is missing — run `npm ci` in that folder first")
    project = scratch_copy(sample)
    print(f"gearshift demo: working on a scratch copy at {project}", file=sys.stderr)
    from gearshift.ui.launch import launch

    notice = f"Demo on a scratch copy: {project} — approved changes land there, not in the repository."
    # The scratch copy is gearshift's own sample: trusted for this run, nothing recorded.
    code = launch(project, replay=str(project / RECORDINGS_DIR), speed=speed, notice=notice, trust_once=True)
    print(f"gearshift demo: the scratch copy (with any changes you approved) stays at {project}", file=sys.stderr)
    return code
