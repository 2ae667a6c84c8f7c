"""The intent record that makes applying (and undoing) a change all or nothing across a crash.

Writing a change is several `os.replace` calls, one per file; a process killed between two of
them would leave the project half changed. So before the first write, apply and undo save
`.gearshift/journal.json` durably: which operation, which task, and the stamp of the per-task
journal (`.gearshift/undo/ID.json`) that holds every file's before and after text. After the
last write the record is removed, durably. A record still present at the next start means a
write was interrupted; `edits.recovery` finishes or rolls it back from it.

Every write and the recovery hold an exclusive lock (`.gearshift/journal.lock`, flock), so a
second gearshift process on the same project never mistakes an apply in progress for a dead one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

INTENT_NAME = "journal.json"
LOCK_NAME = "journal.lock"


def intent_path(journal_dir: Path) -> Path:
    """`.gearshift/journal.json` for the undo journals in `.gearshift/undo/`."""
    return Path(journal_dir).parent / INTENT_NAME


@contextlib.contextmanager
def locked(journal_dir: Path) -> Iterator[None]:
    """Hold the project's apply lock (blocking: another process's apply takes milliseconds)."""
    folder = Path(journal_dir).parent
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def begin(journal_dir: Path, record: dict[str, Any]) -> None:
    """Save the intent durably; nothing in the project may be written before this returns."""
    from gearshift.edits.workspace import atomic_write_text

    path = intent_path(journal_dir)
    atomic_write_text(path, json.dumps(record, ensure_ascii=False) + "\n", durable=True)


def end(journal_dir: Path) -> None:
    """The operation is whole on disk: forget the intent (durably, so a crash cannot revive it)."""
    path = intent_path(journal_dir)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    _fsync_dir(path.parent)


def read(journal_dir: Path) -> dict[str, Any] | None:
    """The pending intent, None when there is none; ValueError when it is unreadable."""
    path = intent_path(journal_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} is unreadable ({exc})") from None
    if (
        not isinstance(data, dict)
        or data.get("op") not in ("apply", "undo")
        or not isinstance(data.get("task_id"), str)
    ):
        raise ValueError(f"{path} is not an apply journal")
    return data
