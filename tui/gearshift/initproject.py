"""`gearshift init`: a starting `gearshift.toml` with the validators this project already uses.

Detection reads only manifests and config files (pyproject, package.json, tool configs); it runs
nothing, so it is safe on any checkout.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

import tomli_w

from gearshift.config import (
    CONFIG_FILE,
    DEFAULT_MODELS,
    ContextConfig,
    CostTrackingConfig,
    RoutingConfig,
    SessionConfig,
    ValidationConfig,
)
from gearshift.tasks import TASKS_FILE


def _pyproject(root: Path) -> dict[str, Any]:
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
        return {}


def _package_json(root: Path) -> dict[str, Any]:
    path = root / "package.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, OSError):
        return {}
    return data if isinstance(data, dict) else {}


def detect_checks(root: Path) -> list[str]:
    checks: list[str] = []
    py = _pyproject(root)
    tool = py.get("tool", {})
    deps = " ".join(
        [*py.get("project", {}).get("dependencies", [])]
        + [d for group in py.get("project", {}).get("optional-dependencies", {}).values() for d in group]
        + [d for group in py.get("dependency-groups", {}).values() for d in group if isinstance(d, str)]
    )
    has_python = (
        bool(py) or (root / "setup.py").is_file() or any(root.glob("*.py")) or any(root.glob("*/__init__.py"))
    )
    if has_python:
        checks.append("python_compile")
        if (
            "ruff" in tool
            or (root / "ruff.toml").is_file()
            or (root / ".ruff.toml").is_file()
            or "ruff" in deps
        ):
            checks.append("ruff")
        if (
            "mypy" in tool
            or (root / "mypy.ini").is_file()
            or (root / ".mypy.ini").is_file()
            or "mypy" in deps
        ):
            checks.append("mypy")
        if (
            "pytest" in tool
            or (root / "pytest.ini").is_file()
            or (root / "conftest.py").is_file()
            or (root / "tests").is_dir()
            or "pytest" in deps
        ):
            checks.append("pytest")
    pkg = _package_json(root)
    if pkg:
        node_deps = {**pkg.get("dependencies", {}), **pkg.get("devDependencies", {})}
        if "typescript" in node_deps or (root / "tsconfig.json").is_file():
            checks.append("typescript_compile")
        eslint_configs = (
            "eslint.config.js",
            "eslint.config.mjs",
            "eslint.config.cjs",
            "eslint.config.ts",
            ".eslintrc.json",
            ".eslintrc.js",
            ".eslintrc.cjs",
        )
        if "eslint" in node_deps or any((root / c).is_file() for c in eslint_configs):
            checks.append("eslint_strict")
        if "vitest" in node_deps:
            checks.append("vitest_run")
    return checks


def _section(cls: Any, **override: Any) -> dict[str, Any]:
    values = {f.name: getattr(cls(), f.name) for f in fields(cls)}
    values.update(override)
    return {
        k: list(v) if isinstance(v, tuple) else v
        for k, v in values.items()
        if v is not None and v != {} and v != ""
    }


def starting_config(root: Path) -> dict[str, Any]:
    return {
        "routing": _section(RoutingConfig),
        "validation": _section(ValidationConfig, checks=detect_checks(root)),
        "context": _section(ContextConfig),
        "cost_tracking": _section(CostTrackingConfig),
        "session": _section(SessionConfig),
        "models": {name: dict(spec) for name, spec in DEFAULT_MODELS.items()},
    }


EXAMPLE_TASKS = {
    "task": [
        {
            "id": "example",
            "prompt": "Describe the change you want here.",
            "scope": "single-file",
            "context_files": [],
            "tags": {"task_type": "feature", "team": "me", "feature_branch": "main"},
        }
    ]
}


GITIGNORE_ENTRY = ".gearshift/"
_GITIGNORE_SAME = {".gearshift", ".gearshift/", "/.gearshift", "/.gearshift/"}


def in_git_repository(root: Path) -> bool:
    """A `.git` folder (or a worktree's `.git` file) in `root` or one of its parents."""
    return any((folder / ".git").exists() for folder in (root.resolve(), *root.resolve().parents))


def ignore_run_data(root: Path) -> Path | None:
    """Append `.gearshift/` to the project's .gitignore unless it is listed; the file, if it changed."""
    path = root / ".gitignore"
    data = path.read_bytes() if path.is_file() else b""
    lines = data.decode("utf-8", errors="replace").splitlines()
    if any(line.strip() in _GITIGNORE_SAME for line in lines):
        return None
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    if data and not data.endswith(b"\n"):
        data += newline
    path.write_bytes(data + GITIGNORE_ENTRY.encode() + newline)
    return path


def init_project(root: Path, *, force: bool = False) -> list[Path]:
    """Write gearshift.toml (and an example tasks.toml if there is none); returns what was written.

    In a git repository `.gearshift/` (the ledger and run data) is also added to the project's
    .gitignore, which is then among the files returned.
    """
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such project folder")
    target = root / CONFIG_FILE
    if target.exists() and not force:
        raise FileExistsError(f"{target} exists; pass --force to overwrite it")
    tool = _pyproject(root).get("tool")
    if isinstance(tool, dict) and "gearshift" in tool and not force:
        raise FileExistsError(
            f"{root / 'pyproject.toml'} already configures gearshift in [tool.gearshift]; "
            f"a {CONFIG_FILE} would override it — pass --force to write one anyway"
        )
    written = []
    target.write_text(
        "# gearshift configuration — written by `gearshift init`; see the README for every key.\n"
        + tomli_w.dumps(starting_config(root))
    )
    written.append(target)
    tasks = root / TASKS_FILE
    if not tasks.exists():
        tasks.write_text(tomli_w.dumps(EXAMPLE_TASKS))
        written.append(tasks)
    if in_git_repository(root) and (ignored := ignore_run_data(root)) is not None:
        written.append(ignored)
    return written
