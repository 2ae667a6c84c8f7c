"""The engine type-checks: mypy finds nothing in `gearshift` outside the Textual app.

The engine's vocabulary is typed as literals (`vocab.py`: fault kinds, outcomes, who decided an
escalation …); a plain `str` slipping into an event or a fault is what this catches before a
consumer gets a value it has no branch for. The app (`gearshift/ui`) is left out: its mixins
type their host app through a pattern mypy cannot follow yet.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "tui" / "gearshift"


def test_mypy_finds_nothing_in_the_engine(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--cache-dir",
            str(tmp_path / "cache"),
            str(PACKAGE),
            "--exclude",
            "gearshift/ui/",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Success: no issues found" in run.stdout
    checked = int(run.stdout.split(" in ")[1].split()[0])
    assert checked >= 80  # the whole engine, not an empty selection


def test_mypy_would_say_so(tmp_path: Path) -> None:
    """The check can fail: a module handing a plain str where a literal is due is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from gearshift.models.call import CallFault\n"
        "def f(kind: str) -> CallFault:\n"
        "    return CallFault(kind, 'x')\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"), str(bad)],
        capture_output=True,
        text=True,
        timeout=600,
        env={"MYPYPATH": str(PACKAGE.parent), "PATH": ""},
    )
    assert run.returncode == 1 and "[arg-type]" in run.stdout, run.stdout + run.stderr
