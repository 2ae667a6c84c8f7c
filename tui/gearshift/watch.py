"""The project watcher: every save re-runs the checks it affects, streamed like any other run.

watchfiles groups changes until `step` ms pass without a new one (capped at `debounce` ms). A
small `step` delivers a single save in ~15 ms, but a long burst (a `git checkout` of hundreds of
files) can then arrive as a few batches. So the watcher answers small batches at once and lets
large ones settle: a batch of more than `burst_files` files waits until nothing has changed for
`settle_ms` before it starts one run. Whatever happens, a newer change cancels the run in flight
— its results would describe files that no longer exist — and the log shows it as cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable
from pathlib import Path

from gearshift.config import Config
from gearshift.events import EventSink
from gearshift.validation.checks import CheckSpec, resolve_checks
from gearshift.validation.runner import run_validation

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


def affected(specs: list[CheckSpec], changed: list[str]) -> list[CheckSpec]:
    """The checks a change can affect; custom commands run on any change but gearshift's own files."""
    changed = [path for path in changed if Path(path).name not in OWN_FILES]
    if not changed:
        return []
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
    ) -> None:
        self.config = config
        self.root = config.root
        self.emit = emit
        self.on_change = on_change
        self.step_ms = step_ms
        self.debounce_ms = debounce_ms
        self.burst_files = burst_files
        self.settle_ms = settle_ms
        self.stop_event = stop_event or asyncio.Event()
        self.specs = resolve_checks(config, self.root) if config.validation.enabled else []
        self._run: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self.runs_started = 0
        self.runs_finished = 0
        self.ready = asyncio.Event()  # set once the OS watch is in place

    def _filter(self, _change: object, path: str) -> bool:
        try:
            rel = Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return False
        return not is_ignored(rel)

    async def run(self) -> None:
        from watchfiles import awatch

        pending: set[str] = set()
        settle: asyncio.Task[None] | None = None
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
        specs = affected(self.specs, changed)
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
