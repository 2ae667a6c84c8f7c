"""The hard-linked stage's copy of a project: what is linked, copied, symlinked or left out.

A hard link shares the file with the user's project, so it is only used where nothing writes
in place: files tools rewrite in place (coverage data, caches, databases) are copied, heavy
dependency folders are symlinked, tool caches and gearshift's own folder are left out. Kept
apart from workspace.Stage, which only asks for the tree to be filled.
"""

from __future__ import annotations

import errno
import os
import shutil

SKIPPED_DIRS = frozenset(
    {".git", ".gearshift", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox"}
)
LINKED_DIRS = frozenset({"node_modules", ".venv", "venv"})
_COPY_NAMES = frozenset({".coverage", ".eslintcache"})
_COPY_SUFFIXES = (".tsbuildinfo", ".db", ".sqlite", ".sqlite3", ".log")


class _Placer:
    """Puts one project file into the stage: a hard link while the filesystem allows it."""

    def __init__(self) -> None:
        self.linking = True

    def place(self, src: str, dst: str, name: str) -> None:
        if self.linking and not _copied_not_linked(name):
            try:
                os.link(src, dst)
                return
            except OSError as exc:
                # Another device or no link support: stop trying. Anything else (too many links,
                # protected_hardlinks refusing a file we do not own): copy this file only.
                if exc.errno in (errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP):
                    self.linking = False
        shutil.copy2(src, dst)


def _copied_not_linked(name: str) -> bool:
    """Files tools rewrite in place: a link would let them write into the user's copy."""
    return name in _COPY_NAMES or name.endswith(_COPY_SUFFIXES) or name.startswith(".coverage.")


def populate(src_root: str, dst_root: str, skip: frozenset[str]) -> None:
    """Fill `dst_root` with the project at `src_root`: folders made, files hard-linked (copied
    where a link would be unsafe or is refused), dependency folders symlinked, `skip` left out."""
    placer = _Placer()
    stack = [(src_root, dst_root)]
    while stack:
        src_dir, dst_dir = stack.pop()
        with os.scandir(src_dir) as entries:
            for entry in entries:
                name, dst = entry.name, os.path.join(dst_dir, entry.name)
                if name in SKIPPED_DIRS or entry.path in skip:
                    continue
                if entry.is_symlink():
                    os.symlink(_symlink_target(entry.path, src_root, dst_root), dst)
                elif entry.is_dir(follow_symlinks=False):
                    if name in LINKED_DIRS:
                        os.symlink(entry.path, dst, target_is_directory=True)
                    else:
                        os.mkdir(dst)
                        stack.append((entry.path, dst))
                elif entry.is_file(follow_symlinks=False):
                    placer.place(entry.path, dst, name)
                # sockets, FIFOs and devices are not source: left out


def _symlink_target(link: str, src_root: str, dst_root: str) -> str:
    """Keep links inside the project pointing inside the stage, and links out pointing out."""
    target = os.readlink(link)
    absolute = os.path.normpath(os.path.join(os.path.dirname(link), target))
    inside = absolute == src_root or absolute.startswith(src_root + os.sep)
    if os.path.isabs(target):
        return dst_root + absolute[len(src_root) :] if inside else target
    return target if inside else absolute
