"""Which files are the project's source: a walk that skips what is not.

Skipped: hidden folders (.git, .gearshift, .venv, caches), dependencies (node_modules,
site-packages, any folder holding a `pyvenv.cfg`), build output (build/, dist/ unless they are a
Python package), and whatever the project's top-level `.gitignore` ignores — a subset of its
syntax: globs, anchored and unanchored patterns, folder-only patterns; negations (`!`) and
nested .gitignore files are not read, which can only index less, never more.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import re
from pathlib import Path

from gearshift.context.resolve import JS_SUFFIXES, PY_SUFFIXES
from gearshift.context.tsconfig import CONFIG_NAMES

SOURCE_SUFFIXES = PY_SUFFIXES + JS_SUFFIXES
SKIP_DIRS = frozenset({"node_modules", "__pycache__", "site-packages", "bower_components"})
OUTPUT_DIRS = frozenset({"build", "dist"})


class Ignore:
    """The top-level .gitignore, compiled to four regexes (by what they match against)."""

    def __init__(self, root: Path) -> None:
        groups: dict[tuple[bool, bool], list[str]] = {}
        try:
            lines = (root / ".gitignore").read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines = []
        for line in lines:
            pattern = line.strip()
            if not pattern or pattern.startswith(("#", "!")):
                continue
            dir_only = pattern.endswith("/")
            pattern = pattern.rstrip("/")
            if pattern.startswith("**/"):
                pattern = pattern[3:]
            anchored = "/" in pattern
            pattern = pattern.lstrip("/")
            if pattern:
                groups.setdefault((anchored, dir_only), []).append(fnmatch.translate(pattern))
        self._rx = {key: re.compile("|".join(parts)) for key, parts in groups.items()}

    def __call__(self, rel: str, name: str, is_dir: bool) -> bool:
        for (anchored, dir_only), rx in self._rx.items():
            if dir_only and not is_dir:
                continue
            if rx.match(rel if anchored else name):
                return True
        return False


def indexable(rel: str) -> bool:
    return rel.endswith(SOURCE_SUFFIXES)


def _skip_dir(name: str) -> bool:
    return name.startswith(".") or name in SKIP_DIRS


def skipped(root: Path, rel: str, ignore: Ignore, is_dir: bool = False) -> bool:
    """Is this path one the walk would not index (for paths a watcher reports)?"""
    parts = rel.split("/")
    folders = parts if is_dir else parts[:-1]
    for k, part in enumerate(folders):
        here = root.joinpath(*parts[: k + 1])
        sub = "/".join(parts[: k + 1])
        if _skip_dir(part) or ignore(sub, part, True) or (here / "pyvenv.cfg").exists():
            return True
        if part in OUTPUT_DIRS and not (here / "__init__.py").exists():
            return True
    return not is_dir and ignore(rel, parts[-1], False)


def walk(root: Path, ignore: Ignore, under: str = "") -> tuple[dict[str, tuple[int, int]], list[str]]:
    """Source files {rel: (mtime_ns, size)} and tsconfig/jsconfig files below `root`/`under`."""
    found: dict[str, tuple[int, int]] = {}
    configs: list[str] = []
    stack = [under]
    while stack:
        rel_dir = stack.pop()
        try:
            with os.scandir(root / rel_dir if rel_dir else root) as it:
                entries = list(it)
        except OSError:
            continue
        if rel_dir and any(e.name == "pyvenv.cfg" for e in entries):
            continue  # a virtualenv
        prefix = f"{rel_dir}/" if rel_dir else ""
        for entry in entries:
            name = entry.name
            rel = prefix + name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if _skip_dir(name) or ignore(rel, name, True):
                        continue
                    if name in OUTPUT_DIRS:
                        with contextlib.suppress(OSError):
                            if not os.path.exists(os.path.join(entry.path, "__init__.py")):
                                continue
                    stack.append(rel)
                elif name.endswith(SOURCE_SUFFIXES):
                    if not ignore(rel, name, False):
                        st = entry.stat()
                        found[rel] = (st.st_mtime_ns, st.st_size)
                elif name in CONFIG_NAMES:
                    configs.append(rel)
            except OSError:
                continue
    return found, configs
