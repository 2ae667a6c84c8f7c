"""The watcher: saves re-run the affected checks; a burst of changes is one run."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from gearshift import events as ev
from gearshift.config import load_config
from gearshift.validation.checks import resolve_checks
from gearshift.watch import GitIgnored, ProjectWatcher, affected, is_ignored


def project(root: Path) -> Path:
    (root / "gearshift.toml").write_text('[validation]\nchecks = ["python_compile"]\n')
    (root / "mod.py").write_text("x = 1\n")
    return root


async def until(predicate, limit_s: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not predicate():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def watching(
    root: Path, **options: int
) -> AsyncIterator[tuple[ProjectWatcher, list[ev.Event], list[list[str]]]]:
    """A running watcher of `root` (once its OS watch is in place), its events and its batches."""
    events: list[ev.Event] = []
    changed: list[list[str]] = []
    watcher = ProjectWatcher(load_config(root), events.append, on_change=changed.append, **options)
    task = asyncio.create_task(watcher.run())
    try:
        await until(watcher.ready.is_set)
        yield watcher, events, changed
    finally:
        watcher.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def test_ignored_paths_and_affected_checks(tmp_path: Path) -> None:
    assert is_ignored(".gearshift/stages/t-1/mod.py")
    assert (
        is_ignored("node_modules/x/index.js")
        and is_ignored(".venv/lib/a.py")
        and is_ignored("pkg/__pycache__/a.pyc")
    )
    assert not is_ignored("pkg/mod.py")
    (tmp_path / "gearshift.toml").write_text(
        '[validation]\nchecks = ["python_compile", "pytest", "typescript_compile"]\n'
    )
    specs = resolve_checks(load_config(tmp_path), tmp_path)
    assert [s.name for s in affected(specs, ["a.py"])] == ["python_compile", "pytest"]
    assert [s.name for s in affected(specs, ["src/a.ts"])] == ["typescript_compile"]
    assert affected(specs, ["README.md"]) == []
    assert [s.name for s in affected(specs, ["ruff.toml"])] == ["pytest"]  # lint config: python checks
    (tmp_path / "gearshift.toml").write_text(
        '[validation]\nchecks = ["pytest", "lint"]\n[validation.commands.lint]\nrun = "true"\nkind = "syntax"\n'
    )
    specs = resolve_checks(load_config(tmp_path), tmp_path)
    assert [s.name for s in affected(specs, ["notes.txt"])] == ["lint"]  # a custom command runs on any change
    assert affected(specs, ["tasks.toml", "gearshift.toml"]) == []  # but not on gearshift's own files


async def test_a_save_reruns_and_a_burst_is_one_run(tmp_path: Path) -> None:
    root = project(tmp_path)
    async with watching(root, settle_ms=300) as (watcher, events, changed):
        (root / "mod.py").write_text("x = (\n")
        await until(lambda: any(isinstance(e, ev.ValidationFinished) for e in events))
        finished = [e for e in events if isinstance(e, ev.ValidationFinished)]
        assert finished[0].reason == "watch" and finished[0].outcome == "fail-syntax"
        assert ["mod.py"] in changed
        # Stage writes happen under .gearshift/: never a run.
        (root / ".gearshift" / "stages").mkdir(parents=True)
        (root / ".gearshift" / "stages" / "s.py").write_text("y = (\n")
        # A burst of 200 new files (a checkout): one run once it settles.
        started_before = watcher.runs_started
        (root / "pkg").mkdir()
        for i in range(200):
            (root / "pkg" / f"m{i}.py").write_text(f"v{i} = {i}\n")
        (root / "mod.py").write_text("x = 2\n")
        await until(lambda: watcher.runs_finished >= 2)
        await asyncio.sleep(0.5)
        assert watcher.runs_started - started_before == 1
        last = [e for e in events if isinstance(e, ev.ValidationFinished)][-1]
        assert last.outcome == "pass"
        assert not any(".gearshift" in p for batch in changed for p in batch)


def test_a_changed_folder_affects_every_check(tmp_path: Path) -> None:
    (tmp_path / "gearshift.toml").write_text(
        '[validation]\nchecks = ["python_compile", "pytest", "typescript_compile"]\n'
    )
    specs = resolve_checks(load_config(tmp_path), tmp_path)
    assert affected(specs, ["pkg", "pkg2"]) == []  # by suffix alone: nothing
    names = ["python_compile", "pytest", "typescript_compile"]
    assert [s.name for s in affected(specs, ["pkg", "pkg2"], folders={"pkg", "pkg2"})] == names
    assert [s.name for s in affected(specs, ["notes.md", "src"], folders={"src"})] == names


async def test_renaming_a_folder_runs_the_checks(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "pkg" / "sub" / "a.py").write_text("x = 1\n")
    async with watching(root) as (watcher, events, changed):
        (root / "pkg").rename(root / "pkg2")  # reported as two folder names, no file
        await until(lambda: watcher.runs_finished >= 1)
        assert ["pkg", "pkg2"] in changed
        # a subfolder of a folder moved in is known too: renaming it runs the checks again
        (root / "pkg2" / "sub").rename(root / "pkg2" / "sub2")
        await until(lambda: watcher.runs_finished >= 2)
        assert ["pkg2/sub", "pkg2/sub2"] in changed
        started = [e for e in events if isinstance(e, ev.ValidationStarted)]
        assert [e.reason for e in started] == ["watch", "watch"]


def test_gitignored_paths(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("generated/\n*.log\n/out.py\ndata/**/*.csv\n!keep.log\n")
    ignored = GitIgnored(tmp_path)
    assert ignored("generated/out.py", False) and ignored("src/generated/deep/x.py", False)
    assert ignored("generated", True) and not ignored("generated", False)  # a folder-only pattern
    assert ignored("run.log", False) and ignored("pkg/run.log", False)
    assert ignored("out.py", False) and not ignored("pkg/out.py", False)  # anchored
    assert ignored("data/a/b.csv", False)
    assert not ignored("keep.log", False)  # a negation is honoured: never miss a tracked file
    assert not ignored("pkg/mod.py", False) and not ignored("pkg", True)
    assert not GitIgnored(tmp_path / "nowhere")("generated/out.py", False)  # no .gitignore


async def test_gitignored_writes_start_no_run(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / ".gitignore").write_text("generated/\n")
    async with watching(root) as (watcher, events, changed):
        (root / "generated").mkdir()
        (root / "generated" / "out.py").write_text("x = (\n")  # broken, but git-ignored
        await asyncio.sleep(1.0)
        assert watcher.runs_started == 0 and changed == []
        (root / "mod.py").write_text("x = 2\n")  # a tracked file still runs the checks
        await until(lambda: watcher.runs_finished >= 1)
        assert changed == [["mod.py"]]
        (root / ".gitignore").write_text("")  # read again: generated/ is the project's now
        await until(lambda: [".gitignore"] in changed)
        (root / "generated" / "out.py").write_text("x = (\n\n")
        await until(lambda: any("generated/out.py" in batch for batch in changed))
