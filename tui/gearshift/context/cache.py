"""The graph's cache on disk: one marshalled snapshot plus an append-only journal.

Rewriting the snapshot of a large tree takes tens of milliseconds — more than an update may
take — so an update appends just its records to the journal, and the next load replays the
journal over the snapshot and folds both into a new snapshot. Nothing read from here is
trusted on its own: a record is used only when its mtime and size match the file on disk, so
a torn write, a stale journal or another process's cache costs a re-parse, never a wrong graph.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import sys
from pathlib import Path
from typing import Any

CACHE_NAME = "context-graph.marshal"
JOURNAL_SUFFIX = ".journal"
VERSION = 5  # bump whenever a record's shape or meaning changes


def journal_path(cache_path: Path) -> Path:
    return cache_path.with_name(cache_path.name + JOURNAL_SUFFIX)


def read(path: Path, root: Path) -> tuple[dict[str, tuple[Any, ...]], int]:
    """The cached records with the journal replayed over them, and how many entries it had."""
    try:
        data = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return {}, 0
    if (
        not isinstance(data, dict)
        or data.get("version") != VERSION
        or data.get("python") != list(sys.version_info[:2])
        or data.get("root") != str(root)
        or not isinstance(data.get("files"), dict)
    ):
        return {}, 0
    files: dict[str, tuple[Any, ...]] = data["files"]
    entries = 0
    try:
        with open(journal_path(path), "rb") as fh:
            while True:
                entry = marshal.load(fh)
                entries += 1
                for rel, rec in entry.items():
                    if rec is None:
                        files.pop(rel, None)
                    else:
                        files[rel] = rec
    except (OSError, EOFError, ValueError, TypeError, AttributeError):
        pass  # no journal, or a torn last entry: what was read stands
    return files, entries


def write(path: Path, root: Path, records: dict[str, tuple[Any, ...]]) -> None:
    """Replace the snapshot atomically and drop the journal it now contains. Raises OSError."""
    data = {"version": VERSION, "python": list(sys.version_info[:2]), "root": str(root), "files": records}
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(marshal.dumps(data))
        os.replace(tmp, path)
        journal_path(path).unlink(missing_ok=True)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def append(path: Path, entry: dict[str, tuple[Any, ...] | None]) -> None:
    """Add one journal entry ({rel: record, or None for a deleted file}). Raises OSError."""
    with open(journal_path(path), "ab") as fh:
        fh.write(marshal.dumps(entry))
