"""The copy-on-write stage: the model's edits in a layer of their own, the project untouched.

Why: the hard-linked stage (workspace.Stage) shares inodes with the user's files, so a check
that opens a project file in place writes into the user's copy. Here nothing is shared: a
stage is a folder holding only the files the model wrote (whole copies) plus a set of the files
it deleted; every read falls through to the layers below (the session's pending layer, then the
project). Checks see the merged tree through an overlay mounted by the sandbox
(validation/sandbox.py) at the project's own path, with a throwaway layer on top, so whatever
they write vanishes by construction, not by detection afterwards.

Creating a stage is a `mkdir`, whatever the project's size; a clone copies only the edits.

`PendingLayer` holds the changes approved but not written to the project (headless without
--auto-approve): it is laid once per session and grows by each accepted task's own changes, so
the cost per task does not grow with the number of tasks before it.

Stage folders live outside the project (`stages_home()`, in the user's cache folder), so the
project's own tools (`ruff check .`, pytest's collection, a watcher) never see them.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

from gearshift.edits.workspace import (
    FileChange,
    Stage,
    StagedEdits,
    atomic_write_text,
    list_folder,
    read_text_file,
    resolve_model_path,
    stage_folder,
)
from gearshift.validation.sandbox import Layers

_OWNER = re.compile(r"-(\d+)-\d+$")  # stage names end in -PID-N


def stages_home(project: Path) -> Path:
    """Where the copy-on-write stages of `project` live: the user's cache folder, outside the tree."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    real = os.path.realpath(project)
    digest = hashlib.sha256(real.encode()).hexdigest()[:12]
    return Path(cache, "gearshift", "stages", f"{Path(real).name}-{digest}")


def sweep_dead(stages_dir: Path) -> list[str]:
    """Remove the stages of processes that no longer run (a crash, a kill -9); returns their names."""
    removed: list[str] = []
    try:
        entries = list(os.scandir(stages_dir))
    except FileNotFoundError:
        return removed
    for entry in entries:
        match = _OWNER.search(entry.name)
        if match is None or _alive(int(match.group(1))):
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            Path(entry.path).unlink(missing_ok=True)
        removed.append(entry.name)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Layer:
    """A folder of whole files plus the relative paths deleted at this level."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.deleted: set[str] = set()

    def holds(self, key: str) -> bool:
        return key in self.deleted or (self.root / key).is_file()

    def read(self, key: str) -> str | None:
        return None if key in self.deleted else read_text_file(self.root / key)

    def put(self, key: str, text: str | None, *, below: str | None) -> None:
        """Record `text` for `key` (None: deleted; a deletion of nothing is no mark)."""
        target = self.root / key
        if text is None:
            target.unlink(missing_ok=True)
            if below is not None:
                self.deleted.add(key)
            else:
                self.deleted.discard(key)
            return
        self.deleted.discard(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(target, text)

    def drop(self, key: str) -> None:
        """Forget `key` at this level: reads fall through again."""
        (self.root / key).unlink(missing_ok=True)
        self.deleted.discard(key)


class PendingLayer(_Layer):
    """The session's approved, unwritten changes, laid once and grown task by task."""

    def __init__(self, project: Path, root: Path) -> None:
        super().__init__(root)
        self.project = project
        self.task_ids: list[str] = []

    @classmethod
    def create(cls, project: Path, root: Path) -> PendingLayer:
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        return cls(Path(project).absolute(), root)

    def add(self, task_id: str, changes: Iterable[FileChange]) -> None:
        for change in changes:
            on_disk = read_text_file(self.project / change.path)
            if change.after == on_disk and change.path not in self.deleted:
                self.drop(change.path)
            else:
                self.put(change.path, change.after, below=on_disk)
        self.task_ids.append(task_id)

    def discard(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class CowStage(StagedEdits):
    """A copy-on-write staged copy of the project: same API as workspace.Stage."""

    shares_inodes = False  # nothing a check does can reach the user's files through it

    def __init__(self, project: Path, root: Path, base: PendingLayer | None = None) -> None:
        self.project = project
        self.root = root  # the edits layer
        self.base = base
        self._own = _Layer(root)
        self._overlay: tuple[FileChange, ...] = ()
        self._base: dict[str, str | None] = {}  # text at first touch: the change's `before`
        self._written: set[str] = set()

    def __repr__(self) -> str:
        return f"CowStage(project={str(self.project)!r}, root={str(self.root)!r})"

    @property
    def workdir(self) -> Path:
        """Where checks run: the project's own path, which the sandbox overlays with this stage."""
        return self.project

    @classmethod
    def create(
        cls,
        project: Path,
        stages_dir: Path,
        name: str,
        overlay: Iterable[FileChange] = (),
        *,
        base: PendingLayer | None = None,
    ) -> CowStage:
        """An empty edits layer at `stages_dir/name` over `base` (or the project alone).

        `overlay` changes are laid in this stage's layer as its starting point (not as edits).
        """
        project, root = stage_folder(project, stages_dir, name)
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        stage = cls(project, root, base)
        stage._lay_overlay(overlay)
        return stage

    def layers(self) -> Layers:
        """The tree checks see: the project, the pending layer, this stage's edits."""
        deleted = set(self._own.deleted)
        stack = [self.root]
        if self.base is not None:
            stack.insert(0, self.base.root)
            # a pending deletion stays deleted unless this stage wrote the file again
            deleted |= {k for k in self.base.deleted if not (self.root / k).is_file()}
        return Layers(self.project, tuple(stack), frozenset(deleted))

    # -- paths ---------------------------------------------------------------------------------

    def resolve(self, path: str) -> Path:
        """The project location for a model-supplied path (relative, or absolute inside the
        project or the stage), or PathRefused: symlinks are judged in the project itself."""
        return resolve_model_path(path, self.project, stage=self.root, project=self.project)

    def rel(self, path: str) -> str:
        """Posix path relative to the project root ("." for the root itself)."""
        return Path(os.path.relpath(self.resolve(path), self.project)).as_posix()

    # -- content -------------------------------------------------------------------------------

    def _below(self, key: str) -> str | None:
        if self.base is not None and self.base.holds(key):
            return self.base.read(key)
        return read_text_file(self.project / key)

    def _read(self, key: str) -> str | None:
        return self._own.read(key) if self._own.holds(key) else self._below(key)

    _current = _read

    def _lay(self, key: str, text: str | None) -> None:
        self._own.put(key, text, below=self._below(key))

    def _is_dir(self, key: str) -> bool:
        if key == "." or (self.root / key).is_dir():
            return True
        return (self.project / key).is_dir() or (self.base is not None and (self.base.root / key).is_dir())

    def is_dir(self, rel: str) -> bool:
        return self._is_dir(self.rel(rel))

    def exists(self, rel: str) -> bool:
        key = self.rel(rel)
        return self._is_dir(key) or self._read_exists(key)

    def _read_exists(self, key: str) -> bool:
        if self._own.holds(key):
            return key not in self._own.deleted
        if self.base is not None and self.base.holds(key):
            return key not in self.base.deleted
        return (self.project / key).exists()

    def listdir(self, rel: str) -> list[tuple[str, bool]]:
        """(path relative to the root, is a folder) of a folder's entries in the merged view."""
        key = self.rel(rel)
        merged = list_folder(self.project / key, key)
        for layer in (self.base, self._own):
            if layer is not None:
                merged.update(list_folder(layer.root / key, key))
        return sorted((k, d) for k, d in merged.items() if d or self._read_exists(k))

    def read_text(self, rel: str) -> str:
        """A staged file's exact text (UTF-8; raises FileNotFoundError / UnicodeDecodeError)."""
        key = self.rel(rel)
        text = self._read(key) if not self._is_dir(key) else None
        if text is None:
            raise FileNotFoundError(f"no such file in the project: {key}")
        self._base.setdefault(key, text)
        return text

    # -- lifecycle -----------------------------------------------------------------------------

    def clone(self, name: str) -> CowStage:
        """A new stage (same stages folder, same base) starting from this one's state: copies
        only this stage's layer."""
        other = CowStage.create(self.project, self.root.parent, name, self._overlay, base=self.base)
        self._copy_edits_to(other)
        return other

    def reset(self) -> None:
        """Undo every write: back to the layers below (and the overlay, if one was laid)."""
        laid = {c.path: c.after for c in self._overlay}
        for key in sorted(self._written):
            if key in laid:
                self._own.put(key, laid[key], below=self._below(key))
            else:
                self._own.drop(key)
        self._written.clear()

    def discard(self) -> None:
        """Delete the edits layer; the project was never written."""
        shutil.rmtree(self.root, ignore_errors=True)
        self._written.clear()


AnyStage = Stage | CowStage  # what the engine stages into: copy-on-write, or hard-linked (fallback)
