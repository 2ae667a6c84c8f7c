"""At every start: finish or roll back an apply or undo that a crash interrupted, and sweep temp files.

The rule, said to the user in one line:
- an interrupted **apply** is completed (rolled forward) when its journal was saved, since the
  journal holds every file's new text durably and each file holds its old or its new text;
  when the journal was not saved yet, nothing had been written and there is nothing to undo
  ("rolled back"). When a file meanwhile holds neither text (someone edited it), the files
  already written are put back instead and that file is left as it is: never half a change.
- an interrupted **undo** is completed the same way (the old texts are in the journal).

Then `.NAME.xxxxxxxx.gearshift-tmp` files (left when a process died between writing a temp file
and renaming it) are removed from the project, outside the folders gearshift never writes in.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from gearshift.edits import intent
from gearshift.edits.apply import current, load, put, put_back, remove_dirs, retire, stamp_of
from gearshift.edits.intent import locked
from gearshift.edits.linkcopy import LINKED_DIRS, SKIPPED_DIRS
from gearshift.edits.workspace import resolve_inside

TEMP_FILE = re.compile(r"^\..+\.[0-9a-f]{8}\.gearshift-tmp$")
_NOT_SWEPT = (SKIPPED_DIRS - {".gearshift"}) | LINKED_DIRS


def recover(project: Path, journal_dir: Path, *, sweep: bool = True) -> list[str]:
    """Bring the project back to a whole state; one line per thing done, for the user.

    `sweep=False` leaves the temp-file sweep (a walk of the tree: ~40 ms for 10,000 files) to a
    later `sweep_project` call, so the app can do it after its first frame.
    """
    project = Path(project).absolute()
    said: list[str] = []
    if not Path(journal_dir).parent.exists():  # no apply ever began: nothing to finish, and
        return sweep_project(project, journal_dir) if sweep else said  # no .gearshift/ is made
    with locked(journal_dir):
        try:
            pending = intent.read(journal_dir)
        except ValueError as exc:
            said.append(f"an interrupted apply could not be examined: {exc}; check your files (git diff)")
            os.replace(
                intent.intent_path(journal_dir), intent.intent_path(journal_dir).with_suffix(".damaged")
            )
            pending = None
        if pending is not None:
            said.append(_finish(project, Path(journal_dir), pending))
            intent.end(journal_dir)
    if sweep:
        said.extend(sweep_project(project, journal_dir))
    return said


def sweep_project(project: Path, journal_dir: Path) -> list[str]:
    """Remove stray temp files (under the apply lock: an apply's own temp file is never taken)."""
    if Path(journal_dir).parent.exists():
        with locked(journal_dir):
            swept = sweep_temp_files(Path(project).absolute())
    else:  # no apply ever began here (it takes the lock first), and no .gearshift/ is created
        swept = sweep_temp_files(Path(project).absolute())
    if not swept:
        return []
    shown = ", ".join(swept[:3]) + (", …" if len(swept) > 3 else "")
    return [f"removed {len(swept)} temp file(s) left by an interrupted write ({shown})"]


def _finish(project: Path, journal_dir: Path, pending: dict[str, Any]) -> str:
    op, task_id = pending["op"], pending["task_id"]
    journal = journal_dir / f"{task_id}.json"
    try:
        saved = journal.exists() if op == "undo" else _stamp_matches(journal, pending.get("stamp"))
        entries = load(journal) if saved else None
    except ValueError:
        entries = None
    if entries is None and op == "undo":  # the journal was moved to undone/: only the record was left
        return f"an interrupted undo of task {task_id} was completed"
    if entries is None:  # the journal was never saved: no project file had been written
        _restore_superseded(op, pending, journal)
        return f"an interrupted {op} of task {task_id} was rolled back (none of its files had been written)"
    new, old = ("after", "before") if op == "apply" else ("before", "after")
    states = {entry["path"]: _state(project, entry, new, old) for entry in entries}
    edited = sorted(path for path, state in states.items() if state == "other")
    if not edited:
        for entry in entries:
            if states[entry["path"]] == "old":
                put(project, entry["path"], entry[new], entry["mode"])
            if op == "undo" and entry["before"] is None:  # its folders, even if the file was gone
                remove_dirs(project, entry["created_dirs"])
        if op == "undo":
            retire(journal, "undone")
        return f"an interrupted {op} of task {task_id} was completed ({len(entries)} file(s))"
    if op == "apply":
        put_back(project, [e for e in entries if states[e["path"]] == "new"])
        retire(journal, "rolled-back")
        _restore_superseded(op, pending, journal)
        return (
            f"an interrupted apply of task {task_id} was rolled back; {', '.join(edited)} changed since "
            "and was left as it is"
        )
    return (
        f"an interrupted undo of task {task_id} could not be completed: {', '.join(edited)} changed since; "
        "the rest was left as it was (press u again after checking those files)"
    )


def _restore_superseded(op: str, pending: dict[str, Any], journal: Path) -> None:
    """The earlier application of this task id, set aside by the apply, is undoable again."""
    superseded = pending.get("superseded")
    if op == "apply" and superseded and Path(superseded).exists() and not journal.exists():
        os.replace(superseded, journal)


def _stamp_matches(journal: Path, stamp: object) -> bool:
    return journal.exists() and stamp is not None and stamp_of(journal) == stamp


def _state(project: Path, entry: dict[str, Any], new: str, old: str) -> str:
    """ "new" / "old" when the file holds that side's text, "other" when it holds neither."""
    text = current(resolve_inside(project, entry["path"]))
    if text == (True, entry[new]):
        return "new"
    if text == (True, entry[old]):
        return "old"
    return "other"


def sweep_temp_files(project: Path) -> list[str]:
    """Remove gearshift's temp files from the project (and `.gearshift/`, stages aside)."""
    removed: list[str] = []
    stages = os.path.join(project, ".gearshift", "stages")  # the stages' own sweep is elsewhere
    stack = [str(project)]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in _NOT_SWEPT and entry.path != stages:
                    stack.append(entry.path)
            elif TEMP_FILE.match(entry.name) and entry.is_file(follow_symlinks=False):
                try:
                    os.unlink(entry.path)
                except OSError:
                    continue
                removed.append(os.path.relpath(entry.path, project))
    return sorted(removed)
