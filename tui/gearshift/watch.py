"""The project watcher: every save re-runs the checks it affects, streamed like any other run.

watchfiles groups changes until `step` ms pass without a new one (capped at `debounce` ms). A
small `step` delivers a single save in ~15 ms, but a long burst (a `git checkout` of hundreds of
files) can then arrive as a few batches. So the watcher answers small batches at once and lets
large ones settle: a batch of more than `burst_files` files waits until nothing has changed for
`settle_ms` before it starts one run. Whatever happens, a newer change cancels the run in flight
— its results would describe files that no longer exist — and the log shows it as cancelled.

Renaming, moving or deleting a folder is reported as the folder alone (`pkg` deleted, `pkg2`
added), not as the files in it, so a changed folder counts as touching every kind of file: every
check runs. A deleted path is no longer on disk to ask, so the watcher keeps the set of the
project's folders (walked once at start, then kept up to date from the changes it sees).

What the project's top-level .gitignore ignores is ignored here too (generated code, build
output, data): writing a git-ignored `generated/out.py` starts no run. The matcher is the context
engine's (see `context.tree.Ignore`); as it skips negations (`!keep.py`), a path one of them
names is watched, so a file git tracks is never missed. An edited .gitignore is read again.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import itertools
import os
import re
from collections.abc import Callable, Collection
from pathlib import Path

from gearshift import redact
from gearshift.config import Config
from gearshift.context.tree import Ignore
from gearshift.events import EventSink
from gearshift.validation.checks import CheckSpec, resolve_checks
from gearshift.validation.runner import run_validation
from gearshift.validation.sandbox import Confinement, Layers, SandboxStatus, choose

IGNORED_DIRS = {
    ".git",
    ".hg",
    ".svn",
    ".gearshift",
    ".venv",
    "venv",
    "env",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".tox",
    ".nox",
    "build",
    "dist",
    ".idea",
    ".vscode",
    ".hypothesis",
    "coverage",
    ".next",
    ".cache",
}
PYTHON_FILES = (
    ".py",
    ".pyi",
    "pyproject.toml",
    "setup.cfg",
    "mypy.ini",
    "pytest.ini",
    "conftest.py",
    "ruff.toml",
    "tox.ini",
)
# gearshift's own files: adding a task (the app appends to tasks.toml) is no reason to validate.
OWN_FILES = ("gearshift.toml", "tasks.toml")
NODE_FILES = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts", "package.json", "tsconfig.json")
CHECK_FILES: dict[str, tuple[str, ...]] = {
    "python_compile": (".py",),
    "ruff": PYTHON_FILES,
    "mypy": PYTHON_FILES,
    "pytest": PYTHON_FILES,
    "typescript_compile": NODE_FILES,
    "eslint_strict": NODE_FILES,
    "vitest_run": NODE_FILES,
}


def is_ignored(rel: str) -> bool:
    # The last part counts too: creating `.gearshift/` itself is no reason to validate.
    return any(part in IGNORED_DIRS for part in Path(rel).parts) or rel.endswith((".swp", "~", ".tmp"))


class GitIgnored:
    """Does the project's .gitignore ignore this path (the path itself or a folder above it)?"""

    def __init__(self, root: Path) -> None:
        self._ignore = Ignore(root)
        try:
            lines = (root / ".gitignore").read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines = []
        kept = [line.strip()[1:].strip("/") for line in lines if line.strip().startswith("!")]
        kept = [pattern.removeprefix("**/") for pattern in kept if pattern]
        self._kept = re.compile("|".join(map(fnmatch.translate, kept))) if kept else None

    def __call__(self, rel: str, is_dir: bool) -> bool:
        parts = rel.split("/")
        if self._kept is not None and (self._kept.match(rel) or self._kept.match(parts[-1])):
            return False  # re-included by a negation: better one run too many than one missed
        for k in range(len(parts) - 1):
            if self._ignore("/".join(parts[: k + 1]), parts[k], True):
                return True
        return self._ignore(rel, parts[-1], is_dir)


def affected(specs: list[CheckSpec], changed: list[str], folders: Collection[str] = ()) -> list[CheckSpec]:
    """The checks a change can affect; custom commands run on any change but gearshift's own files.

    `folders` are the changed paths that are (or were) folders: the files in them changed too,
    whatever their kind, so they affect every check.
    """
    changed = [path for path in changed if Path(path).name not in OWN_FILES]
    if not changed:
        return []
    if any(path in folders for path in changed):
        return list(specs)
    out = []
    for spec in specs:
        suffixes = CHECK_FILES.get(spec.name)
        if suffixes is None or any(path.endswith(suffixes) for path in changed):
            out.append(spec)
    return out


class ProjectWatcher:
    def __init__(
        self,
        config: Config,
        emit: EventSink,
        *,
        on_change: Callable[[list[str]], None] | None = None,
        step_ms: int = 10,
        debounce_ms: int = 400,
        burst_files: int = 20,
        settle_ms: int = 150,
        stop_event: asyncio.Event | None = None,
        sandbox: SandboxStatus | None = None,
    ) -> None:
        self.config = config
        # The watcher's checks run on the real project: sandboxed, their writes vanish.
        self.sandbox = sandbox if sandbox is not None else choose(config.validation.sandbox)
        self.root = config.root
        self.emit = redact.sink(emit)
        self.on_change = on_change
        self.step_ms = step_ms
        self.debounce_ms = debounce_ms
        self.burst_files = burst_files
        self.settle_ms = settle_ms
        self.stop_event = stop_event or asyncio.Event()
        self.specs = self._specs(config)
        self._run: asyncio.Task[None] | None = None
        self._dirs: set[str] = set()  # the project's folders (not below ignored ones)
        self._changed_dirs: set[str] = set()  # changed paths that are or were folders, not yet run
        self.gitignored = GitIgnored(self.root)
        self._ids = itertools.count(1)
        self.runs_started = 0
        self.runs_finished = 0
        self.ready = asyncio.Event()  # set once the OS watch is in place

    def _filter(self, _change: object, path: str) -> bool:
        try:
            rel = Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return False
        if is_ignored(rel):
            return False
        full = self.root / rel
        if rel in self._dirs or full.is_dir():
            return not self.gitignored(rel, True)
        # gone, and maybe a folder we never knew (a git-ignored one is not walked into)
        return not self.gitignored(rel, False) and (full.exists() or not self.gitignored(rel, True))

    def _scan_dirs(self, under: str = "") -> set[str]:
        """The folders below `under` (the root when empty), skipping the ignored ones."""
        found: set[str] = set()
        stack = [under]
        while stack:
            rel_dir = stack.pop()
            try:
                with os.scandir(self.root / rel_dir if rel_dir else self.root) as it:
                    entries = [e for e in it if e.is_dir(follow_symlinks=False)]
            except OSError:
                continue
            for entry in entries:
                rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                if not is_ignored(rel):
                    found.add(rel)  # a git-ignored folder too: deleting it is ignored as a folder
                    if not self.gitignored(rel, True):
                        stack.append(rel)
        return found

    def _note_folders(self, batch: Collection[tuple[object, str]]) -> list[str]:
        """Keep the folder set current with a batch; the batch's paths that are or were folders."""
        folders = []
        for _change, path in batch:
            rel = Path(path).relative_to(self.root).as_posix()
            if (self.root / rel).is_dir():
                if rel not in self._dirs:
                    self._dirs.add(rel)
                    self._dirs |= self._scan_dirs(rel)  # moved in with its subfolders
                folders.append(rel)
            elif rel in self._dirs:  # deleted or moved away
                prefix = rel + "/"
                self._dirs = {d for d in self._dirs if d != rel and not d.startswith(prefix)}
                folders.append(rel)
        return folders

    def use_config(self, config: Config) -> None:
        """Run the next changes' checks as `config` says (the user trusted the project's own)."""
        self.config = config
        self.specs = self._specs(config)

    def _specs(self, config: Config) -> list[CheckSpec]:
        runnable = config.validation.enabled and not self.sandbox.refused
        return resolve_checks(config, self.root) if runnable else []

    async def run(self) -> None:
        from watchfiles import awatch

        pending: set[str] = set()
        settle: asyncio.Task[None] | None = None
        self._dirs = await asyncio.to_thread(self._scan_dirs)
        try:
            async for batch in awatch(
                self.root,
                watch_filter=self._filter,
                step=self.step_ms,
                debounce=self.debounce_ms,
                stop_event=self.stop_event,
                yield_on_timeout=True,
                rust_timeout=200,
            ):
                self.ready.set()
                if not batch:
                    continue
                paths = sorted({Path(p).relative_to(self.root).as_posix() for _, p in batch})
                self._changed_dirs.update(self._note_folders(batch))
                if ".gitignore" in paths:
                    self.gitignored = GitIgnored(self.root)
                if self.on_change is not None:
                    self.on_change(paths)
                pending.update(paths)
                if settle is not None:
                    settle.cancel()
                if len(pending) > self.burst_files:
                    settle = asyncio.create_task(self._settle_then_run(pending))
                else:
                    self._start(sorted(pending))
                    pending = set()
                    settle = None
        finally:
            if settle is not None:
                settle.cancel()
            await self.cancel_run()

    async def _settle_then_run(self, pending: set[str]) -> None:
        await asyncio.sleep(self.settle_ms / 1000)
        changed = sorted(pending)
        pending.clear()
        self._start(changed)

    def _start(self, changed: list[str]) -> None:
        folders = self._changed_dirs.intersection(changed)
        self._changed_dirs -= folders
        specs = affected(self.specs, changed, folders)
        if not specs:
            return
        if self._run is not None and not self._run.done():
            self._run.cancel()  # stale: the runner reports it as cancelled
        self.runs_started += 1
        self._run = asyncio.create_task(self._validate(specs, changed))

    async def _validate(self, specs: list[CheckSpec], changed: list[str]) -> None:
        await run_validation(
            specs,
            self.root,
            self.emit,
            run_id=f"w{next(self._ids)}",
            task_id=None,
            reason="watch",
            changed=changed,
            project=self.root,
            confinement=Confinement(self.sandbox.bwrap, Layers(self.root)) if self.sandbox.bwrap else None,
        )
        self.runs_finished += 1

    async def cancel_run(self) -> None:
        run = self._run
        if run is not None and not run.done():
            run.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await run

    def stop(self) -> None:
        self.stop_event.set()
