"""Copies of the context engine's fixture trees, so each test may edit files and write caches."""

from __future__ import annotations

import shutil
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "context"


def copy_tree(name: str, dest: Path, extra: dict[str, str] | None = None) -> Path:
    """A fresh copy of `tests/fixtures/context/<name>` under `dest`, returned resolved.

    `extra` adds files git would not keep in the fixture (virtualenvs, build output, node_modules).
    """
    target = dest / name
    shutil.copytree(FIXTURES / name, target)
    for rel, text in (extra or {}).items():
        write(target, rel, text)
    return target.resolve()


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
