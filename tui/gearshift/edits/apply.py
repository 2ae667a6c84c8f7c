"""Writing an approved change into the user's files, and taking it back.

Applying is the one moment gearshift touches the user's project, so it is careful in this order:
check every file still holds the text the change was made from (the user may have edited it
since staging) and refuse the whole change before writing anything if one does not; write a
journal of every file's before/after text (and, before that, the intent record of
`edits.intent`); then replace each file atomically (temp file in the same folder, fsync,
`os.replace`, permission bits kept). The journal is what makes `undo` work after a restart; the
intent record is what lets the next start finish or roll back an apply or undo that a crash
interrupted between two files (`edits.recovery`), so the project never stays half changed.

A task id applied again (the same tasks.toml run twice) moves the older journal to
`superseded/`, so `undo` always takes back the most recent application of that id.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gearshift.edits import intent
from gearshift.edits.intent import locked
from gearshift.edits.workspace import FileChange, atomic_write_text, read_text_file, resolve_inside

JOURNAL_VERSION = 1
_ENTRY_KEYS = frozenset({"path", "before", "after", "mode", "created_dirs"})
_TASK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class ApplyConflict(Exception):
    """A file no longer holds the text the change expects (the user edited it meanwhile)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}; nothing was written")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class AppliedChange:
    task_id: str
    files: list[str]
    journal: Path


def _journal_path(journal_dir: Path, task_id: str) -> Path:
    if not isinstance(task_id, str) or not _TASK_ID.match(task_id):
        raise ValueError(f"task id {task_id!r} cannot name a journal file")
    return Path(journal_dir) / f"{task_id}.json"


def current(target: Path) -> tuple[bool, str | None]:
    """(readable as text, text or None when absent)."""
    if target.is_dir():
        return False, None
    try:
        return True, read_text_file(target)
    except UnicodeDecodeError:
        return False, None


def _check(target: Path, rel: str, expected: str | None, since: str) -> bool:
    """True when the file holds `expected`; ApplyConflict when it holds something else."""
    readable, text = current(target)
    if readable and text == expected:
        return True
    if not readable:
        raise ApplyConflict(rel, f"is no longer a text file {since}")
    if expected is None:
        raise ApplyConflict(rel, f"was created {since}")
    if text is None:
        raise ApplyConflict(rel, f"was deleted {since}")
    raise ApplyConflict(rel, f"was edited {since}")


def _missing_dirs(project: Path, folder: Path) -> list[str]:
    """Folders between the project root and `folder` that do not exist yet, outermost first."""
    missing: list[str] = []
    while folder != project and not folder.exists():
        missing.append(folder.relative_to(project).as_posix())
        folder = folder.parent
    return missing[::-1]


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n", durable=True)


def put(project: Path, rel: str, text: str | None, mode: int | None) -> None:
    target = resolve_inside(project, rel)
    if text is None:
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, text, mode=mode, durable=True)


def remove_dirs(project: Path, dirs: Iterable[str]) -> None:
    for rel in reversed(list(dirs)):
        with contextlib.suppress(OSError):  # not empty any more: the user put something there
            (project / rel).rmdir()


def apply_changes(project: Path, changes: list[FileChange], journal_dir: Path, task_id: str) -> AppliedChange:
    """Write `changes` into the project, all or nothing, journaled for `undo`.

    Raises ApplyConflict (nothing written) when a file no longer holds the change's `before`,
    PathRefused for a path outside the project, and OSError (after restoring what was already
    written) when the disk refuses a write.
    """
    project = Path(project).absolute()
    journal = _journal_path(journal_dir, task_id)
    entries: list[dict[str, Any]] = []
    for change in changes:
        target = resolve_inside(project, change.path)
        rel = target.relative_to(project).as_posix()
        if any(entry["path"] == rel for entry in entries):
            raise ValueError(f"{rel} appears twice in the change")
        _check(target, rel, change.before, "since it was staged")
        mode = stat.S_IMODE(target.stat().st_mode) if change.before is not None else None
        created = _missing_dirs(project, target.parent) if change.after is not None else []
        entries.append(
            dict(path=rel, before=change.before, after=change.after, mode=mode, created_dirs=created)
        )
    stamp = time.time_ns()
    with locked(journal_dir):
        superseded = None
        if journal.exists():
            superseded = journal.parent / "superseded" / f"{task_id}-{stamp}.json"
        intent.begin(
            journal_dir,
            {"op": "apply", "task_id": task_id, "stamp": stamp, "superseded": superseded and str(superseded)},
        )
        if superseded is not None:
            superseded.parent.mkdir(parents=True, exist_ok=True)
            os.replace(journal, superseded)
        record = {
            "version": JOURNAL_VERSION,
            "task_id": task_id,
            "project": str(project),
            "applied_at_ns": stamp,
            "files": entries,
        }
        _write_json(journal, record)
        written: list[dict[str, Any]] = []
        try:
            for entry in entries:
                written.append(entry)
                put(project, entry["path"], entry["after"], entry["mode"])
        except OSError:
            for entry in reversed(written):
                with contextlib.suppress(OSError):
                    put(project, entry["path"], entry["before"], entry["mode"])
                    remove_dirs(project, entry["created_dirs"])
            journal.unlink()
            if superseded is not None:
                os.replace(superseded, journal)
            intent.end(journal_dir)
            raise
        intent.end(journal_dir)
    return AppliedChange(task_id, [entry["path"] for entry in entries], journal)


def load(journal: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(journal.read_text(encoding="utf-8"))
        files = data["files"]
        for entry in files:
            missing = _ENTRY_KEYS - entry.keys()
            if missing:
                raise KeyError(", ".join(sorted(missing)))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"journal {journal} is unreadable or damaged: {exc}") from None
    return list(files)


def undo(project: Path, journal_dir: Path, task_id: str) -> list[str]:
    """Put back the files an applied task changed; returns the paths restored.

    Refuses (ApplyConflict, nothing written) if any file changed since the task was applied.
    Files the task created are removed, with the folders it created if they are empty again.
    The journal moves to `undone/`.
    """
    project = Path(project).absolute()
    journal = _journal_path(journal_dir, task_id)
    if not journal.exists():
        raise ValueError(f"no applied task {task_id!r} in {journal_dir}")
    restore: list[dict[str, Any]] = []
    for entry in load(journal):
        target = resolve_inside(project, entry["path"])
        if current(target) == (True, entry["before"]):
            continue  # an interrupted apply never wrote it: nothing to take back
        _check(target, entry["path"], entry["after"], f"since task {task_id} was applied")
        restore.append(entry)
    with locked(journal_dir):
        intent.begin(journal_dir, {"op": "undo", "task_id": task_id, "stamp": stamp_of(journal)})
        put_back(project, restore)
        retire(journal, "undone")
        intent.end(journal_dir)
    return [entry["path"] for entry in restore]


def put_back(project: Path, entries: Iterable[dict[str, Any]]) -> None:
    """Write each entry's `before` again, removing the folders a created file brought along."""
    for entry in entries:
        put(project, entry["path"], entry["before"], entry["mode"])
        if entry["before"] is None:
            remove_dirs(project, entry["created_dirs"])


def retire(journal: Path, where: str) -> None:
    """Move a task's journal out of the undoable set (to `undone/` or `rolled-back/`)."""
    done = journal.parent / where / f"{journal.stem}-{time.time_ns()}.json"
    done.parent.mkdir(parents=True, exist_ok=True)
    os.replace(journal, done)


def stamp_of(journal: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        return int(json.loads(journal.read_text(encoding="utf-8"))["applied_at_ns"])
    return None


def applied_tasks(journal_dir: Path) -> list[str]:
    """Task ids that can be undone, oldest application first."""
    folder = Path(journal_dir)
    if not folder.is_dir():
        return []
    found: list[tuple[int, str]] = []
    for journal in folder.glob("*.json"):
        when = stamp_of(journal)
        if when is None:
            when = journal.stat().st_mtime_ns
        found.append((when, journal.stem))
    return [task_id for _, task_id in sorted(found)]
