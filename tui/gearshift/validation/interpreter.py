"""Which interpreter runs the python checks, and whether it is the project's own code.

By default the python checks run with the project's `.venv` interpreter (so syntax and imports
are judged by the project's Python), or the one `validation.python` names. Either may be a file
committed to the project — code nobody has reviewed — so it runs only when the project's config
is trusted (see trust.py); otherwise the interpreter running gearshift stands in.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from gearshift.config import Config

PYTHON_CHECKS = frozenset({"python_compile", "ruff", "mypy", "pytest"})


def project_python(config: Config) -> str:
    """The interpreter that runs the python checks: `configured_python`, unless that is the
    project's own and its config is not trusted — then the interpreter running gearshift."""
    python = configured_python(config)
    if not config.trusted and python_is_project_code(config.root, python):
        return sys.executable
    return python


def python_is_project_code(root: Path, python: str) -> bool:
    """Whether running `python` runs a file inside the project (a committed .venv, a script
    named by validation.python, a symlink into the project, or a bare name that PATH finds
    there), which only a trusted config may do."""
    path = python if (os.sep in python or "/" in python) else shutil.which(python)
    if not path:
        return False
    candidate = Path(path) if Path(path).is_absolute() else root / path
    return any(p == root or root in p.parents for p in (candidate.absolute(), candidate.resolve()))


def configured_python(config: Config) -> str:
    """config.validation.python, else the project's .venv interpreter, else our own."""
    configured = config.validation.python
    if configured:
        if os.sep in configured or "/" in configured:
            path = Path(configured).expanduser()
            return str(path if path.is_absolute() else config.root / path)
        return configured
    venv = config.root / ".venv" / "bin" / "python"
    if venv.exists():
        return str(venv)
    return sys.executable
