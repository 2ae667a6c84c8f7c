"""The staged copy of a project: where the model's edits land and where the validators run.

Why hard links: a task may take several attempts, each wanting a fresh or cloned copy of the
project, and copying a 10,000-file tree per attempt costs seconds. A stage is built from real
directories whose files are hard links to the project's files (`os.link`), falling back to a
copy when linking fails (another device, a filesystem without links). Caches and VCS data are
skipped; heavy dependency folders are symlinked so validators still find them.

The risk of sharing inodes, and what keeps it small:
- Every file the editor writes is replaced atomically (temp file + `os.replace`), which gives the
  stage its own inode: the user's file is never written through a stage.
- Tool caches (`__pycache__`, `.pytest_cache`, `.mypy_cache`, `.ruff_cache`, `.tox`) are not staged,
  so validators create fresh files there instead of rewriting linked ones.
- Files that tools commonly rewrite in place (`.coverage`, `*.tsbuildinfo`, `.eslintcache`,
  SQLite databases, logs) are copied, not linked.
- What remains: a validator or test that opens an existing project file for writing in place
  (`open(path, "w")`, `ruff --fix`, a formatter, a snapshot update) changes the user's file too.
  Validators must run in report mode; `Stage.shared_files` / `written_in_place` let the session
  detect such a write after each run and say so. Writes inside the symlinked
  `node_modules`/`.venv`/`venv` (e.g. a bundler's cache) land in the project's folder, as they
  would for a local run.

Because a linked file shares content with the project, the stage captures a file's text the first
time it reads or writes it; that is the `before` of the change, so a later apply can tell whether
the user edited the file in the meantime.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gearshift.edits.hunks import unified_diff
from gearshift.edits.linkcopy import LINKED_DIRS, SKIPPED_DIRS, populate

# What a file system takes (Linux: PATH_MAX 4096 bytes, NAME_MAX 255 bytes a name).
MAX_PATH_BYTES, MAX_NAME_BYTES = 4096, 255


def path_problem(path: str) -> str:
    """Why `path` can never name a file ('' when it can), said before it reaches the file system."""
    if "\x00" in path:
        return "a path without NUL characters"
    try:
        encoded = path.encode("utf-8")
    except UnicodeEncodeError:
        return "a path of valid Unicode characters"
    if len(encoded) > MAX_PATH_BYTES:
        return f"a path of at most {MAX_PATH_BYTES} bytes"
    if any(len(part.encode("utf-8")) > MAX_NAME_BYTES for part in path.replace("\\", "/").split("/")):
        return f"a path whose every name is at most {MAX_NAME_BYTES} bytes"
    return ""


IGNORED_DIRS = SKIPPED_DIRS | LINKED_DIRS


class PathRefused(Exception):
    """A path the model may not touch: outside the project, or in a folder gearshift ignores."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"path {path!r} refused: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class FileChange:
    """One file's change: posix path relative to the project root; None = the file is absent."""

    path: str
    before: str | None
    after: str | None


def resolve_inside(root: Path, rel: str, *, shown: str | None = None) -> Path:
    """`root / rel`, refusing '..' escapes, ignored folders and symlinks that lead out of `root`.

    Returns the real location (a symlink inside the root is followed) expressed under `root`, so
    an atomic replace rewrites the link's target instead of replacing the link.
    """
    shown = rel if shown is None else shown
    if "\x00" in rel:
        raise PathRefused(shown, "it contains a NUL byte")
    pure = PurePosixPath(rel.replace(os.sep, "/"))
    if pure.is_absolute():
        raise PathRefused(shown, "expected a path relative to the project root")
    parts: list[str] = []
    for part in pure.parts:
        if part != "..":
            parts.append(part)
        elif parts:
            parts.pop()
        else:
            raise PathRefused(shown, "'..' leads outside the project")
    _refuse_ignored(parts, shown)
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(real_root, *parts))
    if real != real_root and not real.startswith(real_root + os.sep):
        raise PathRefused(shown, f"a symlink leads outside the project (to {real})")
    inner = os.path.relpath(real, real_root)
    if inner == ".":
        return Path(root)
    _refuse_ignored(inner.split(os.sep), shown)
    return Path(root, inner)


def resolve_model_path(path: str, target: Path, *, stage: Path, project: Path) -> Path:
    """A model-supplied path (relative, or absolute inside the project or the stage) under
    `target`, or PathRefused. Both kinds of stage resolve through here; they differ only in
    where a path lands (the hard-linked copy, or the project a copy-on-write stage reads)."""
    if not isinstance(path, str) or not path.strip():
        raise PathRefused(str(path), "the path is empty")
    if "\x00" in path:
        raise PathRefused(path, "it contains a NUL byte")
    if not os.path.isabs(path):
        return resolve_inside(target, path)
    normal = os.path.normpath(path)
    for base in (stage, project):
        for form in (str(base), os.path.realpath(base)):
            if normal == form or normal.startswith(form.rstrip(os.sep) + os.sep):
                return resolve_inside(target, os.path.relpath(normal, form), shown=path)
    raise PathRefused(path, f"it is outside the project root {project}")


def _refuse_ignored(parts: Iterable[str], shown: str) -> None:
    for part in parts:
        if part in IGNORED_DIRS:
            raise PathRefused(shown, f"it is inside {part}/, which gearshift neither stages nor edits")


def atomic_write_text(path: Path, text: str, *, mode: int | None = None, durable: bool = False) -> None:
    """Write `text` (UTF-8, newlines as given) via a temp file in the same folder and `os.replace`.

    Keeps the existing file's permission bits unless `mode` is given; a new file gets 0o666 less
    the umask. `durable` fsyncs the file and its folder (for the user's files, not for stages).
    """
    if mode is None:
        with contextlib.suppress(FileNotFoundError):
            mode = stat.S_IMODE(os.stat(path).st_mode)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.gearshift-tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if durable:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def read_text_file(path: Path) -> str | None:
    """A file's exact text (UTF-8, newlines untouched), or None when it does not exist."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    return data.decode("utf-8")


def _remove_tree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)  # never follows symlinks, so linked dependency folders survive


def list_folder(folder: Path, rel: str) -> dict[str, bool]:
    """{posix path under the root: is a real folder (not a symlink)} for `folder`'s entries."""
    prefix = "" if rel == "." else rel.rstrip("/") + "/"
    try:
        with os.scandir(folder) as entries:
            return {prefix + e.name: e.is_dir(follow_symlinks=False) for e in entries}
    except (FileNotFoundError, NotADirectoryError):
        return {}


def stage_folder(project: Path, stages_dir: Path, name: str) -> tuple[Path, Path]:
    """The absolute project and the stage's folder `stages_dir/name`, both stages' arguments
    checked alike: the project must be a folder, the name a plain folder name."""
    project = Path(project).absolute()
    if not project.is_dir():
        raise NotADirectoryError(f"project folder not found: {project}")
    if not name or name in (".", "..") or "/" in name or os.sep in name or "\x00" in name:
        raise ValueError(f"stage name must be a plain folder name, got {name!r}")
    return project, Path(stages_dir).absolute() / name


class StagedEdits:
    """What both stages (hard-linked here, copy-on-write in cowstage.py) keep of their edits —
    the files written, each one's text when the stage first touched it (the change's `before`) —
    and the change that follows. A stage says how it reads a file now (`_current`) and how it
    lays a text (None: deleted) into itself (`_lay`)."""

    _overlay: tuple[FileChange, ...]
    _base: dict[str, str | None]
    _written: set[str]

    def rel(self, path: str) -> str:
        raise NotImplementedError

    def _current(self, key: str) -> str | None:
        raise NotImplementedError

    def _lay(self, key: str, text: str | None) -> None:
        raise NotImplementedError

    def _is_dir(self, key: str) -> bool:
        raise NotImplementedError

    def write_text(self, rel: str, text: str) -> None:
        """Write a staged file; the project's own file is never opened for writing."""
        if not isinstance(text, str):
            raise TypeError(f"text must be str, not {type(text).__name__}")
        key = self.rel(rel)
        if self._is_dir(key):
            raise IsADirectoryError(f"{key} is a directory")
        self._edit(key, text)

    def remove(self, rel: str) -> None:
        """Delete a staged file (the project's file stays: the change records the deletion)."""
        self._edit(self.rel(rel), None)

    def _edit(self, key: str, text: str | None) -> None:
        if key not in self._base:  # its text at first touch: the change's `before`
            self._base[key] = self._current(key)
        self._lay(key, text)
        self._written.add(key)

    def _lay_overlay(self, overlay: Iterable[FileChange]) -> None:
        """Approved changes not yet written to the project become the stage's starting point
        (not its edits): changes are measured from there."""
        self._overlay = tuple(overlay)
        for change in self._overlay:
            rel = self.rel(change.path)
            self._base[rel] = change.after
            self._lay(rel, change.after)

    def changes(self) -> list[FileChange]:
        """Written files whose text differs from their base, sorted by path.

        `before` is the file's text when the stage first touched it (the project's text, or the
        overlay's when one was laid), so task N+1's change holds only its own edits.
        """
        out: list[FileChange] = []
        for key in sorted(self._written):
            after = self._current(key)
            before = self._base.get(key)
            if after != before:
                out.append(FileChange(key, before, after))
        return out

    def diff(self) -> str:
        """Unified diff (a/… b/… headers) from the base to the stage, for every change."""
        return "".join(unified_diff(c.path, c.before, c.after) for c in self.changes())

    def _copy_edits_to(self, other: StagedEdits) -> None:
        """`other` (a new stage) starts from this one's state: its edits and their bases."""
        for key in sorted(self._written):
            other._base[key] = self._base.get(key)
            other._lay(key, self._current(key))
            other._written.add(key)


class Stage(StagedEdits):
    """A hard-linked staged copy of the project (the fallback where no sandbox can start)."""

    shares_inodes = True  # unchanged files are the user's: a check writing in place reaches them

    def __init__(self, project: Path, root: Path, overlay: Iterable[FileChange] = ()) -> None:
        self.project = project
        self.root = root
        self._overlay = tuple(overlay)
        self._base: dict[str, str | None] = {}  # text at first touch: the change's `before`
        self._written: set[str] = set()

    def __repr__(self) -> str:
        return f"Stage(project={str(self.project)!r}, root={str(self.root)!r})"

    @classmethod
    def create(cls, project: Path, stages_dir: Path, name: str, overlay: Iterable[FileChange] = ()) -> Stage:
        """Stage `project` at `stages_dir/name` (replacing a stale stage of that name).

        `overlay` is laid on top: approved changes not yet written to the project, so the stage
        starts where the project will be once they are applied. Changes are measured from there.
        """
        project, root = stage_folder(project, stages_dir, name)
        stages_dir = root.parent
        stages_dir.mkdir(parents=True, exist_ok=True)
        _remove_tree(root)
        root.mkdir()
        try:
            real_project = os.path.realpath(project)
            populate(real_project, str(root), frozenset({os.path.realpath(stages_dir)}))
            stage = cls(project, root)
            stage._lay_overlay(overlay)
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        return stage

    # -- files shared with the project ------------------------------------------------------------

    def shared_files(self) -> dict[str, tuple[int, int, int]]:
        """(inode, mtime, size) of every stage file still hard-linked to the project's: taken
        before and after validation, it tells whether a check wrote into one in place."""
        out: dict[str, tuple[int, int, int]] = {}
        for top, _dirs, files in os.walk(self.root):  # symlinked dependency folders not followed
            for name in files:
                path = os.path.join(top, name)
                with contextlib.suppress(OSError):
                    st = os.lstat(path)
                    if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
                        out[os.path.relpath(path, self.root)] = (st.st_ino, st.st_mtime_ns, st.st_size)
        return out

    def written_in_place(self, before: dict[str, tuple[int, int, int]]) -> list[str]:
        """Project files whose shared content changed since `before` (a check wrote into them)."""
        after = self.shared_files()
        return sorted(
            rel for rel, was in before.items() if rel in after and after[rel][0] == was[0] and after[rel] != was
        )

    @property
    def workdir(self) -> Path:
        """Where checks run: the staged copy itself."""
        return self.root

    # -- paths ---------------------------------------------------------------------------------

    def is_dir(self, rel: str) -> bool:
        return self.resolve(rel).is_dir()

    def exists(self, rel: str) -> bool:
        return self.resolve(rel).exists()

    def listdir(self, rel: str) -> list[tuple[str, bool]]:
        """(path relative to the root, is a folder) of a staged folder's entries, sorted."""
        return sorted(list_folder(self.resolve(rel), self.rel(rel)).items())

    def resolve(self, path: str) -> Path:
        """The stage location for a model-supplied path, or PathRefused.

        Accepts paths relative to the project root, absolute paths inside the project root
        (mapped into the stage) and absolute paths inside the stage.
        """
        return resolve_model_path(path, self.root, stage=self.root, project=self.project)

    def rel(self, path: str) -> str:
        """Posix path relative to the root ("." for the root itself)."""
        return Path(os.path.relpath(self.resolve(path), self.root)).as_posix()

    # -- content -------------------------------------------------------------------------------

    def read_text(self, rel: str) -> str:
        """A staged file's exact text (UTF-8; raises FileNotFoundError / UnicodeDecodeError)."""
        key = self.rel(rel)
        text = read_text_file(self.root / key)
        if text is None:
            raise FileNotFoundError(f"no such file in the project: {key}")
        self._base.setdefault(key, text)
        return text

    def _is_dir(self, key: str) -> bool:
        return key == "." or (self.root / key).is_dir()

    def _lay(self, key: str, text: str | None) -> None:
        """Atomically (a new inode): the hard link to the user's file is replaced, never written."""
        target = self.root / key
        if text is None:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(target, text)

    def _current(self, key: str) -> str | None:
        return read_text_file(self.root / key)

    # -- lifecycle -----------------------------------------------------------------------------

    def clone(self, name: str) -> Stage:
        """A new stage (in the same stages folder) starting from this one's state."""
        other = Stage.create(self.project, self.root.parent, name, self._overlay)
        self._copy_edits_to(other)
        return other

    def reset(self) -> None:
        """Undo every write: back to the project's state (with the overlay, if any).

        Files that validators created are left alone; only what the stage wrote is restored.
        """
        for key in sorted(self._written):
            self._lay(key, self._base.get(key))
        self._written.clear()

    def discard(self) -> None:
        """Delete the staged copy; the project's files (linked or not) are untouched."""
        _remove_tree(self.root)
        self._written.clear()
