"""Blocking work of a task's run happens on a thread, not on the event loop the app paints on.

A hard-linked stage links every project file and the first import graph parses the project;
each is recorded here on the thread it ran on — no timing, so a loaded machine cannot flake it.
"""

from __future__ import annotations

import asyncio
import threading
import unittest.mock
from pathlib import Path

import pytest
from gearshift import events as ev
from gearshift.config import load_config
from gearshift.context.graph import ImportGraph
from gearshift.edits.cowstage import CowStage
from gearshift.edits.workspace import Stage
from gearshift.models.client import ModelGateway
from gearshift.pipeline.offloop import off_loop
from gearshift.pipeline.session import Session
from gearshift.tasks import Task

from tests.engine.pipeline_project import make_project
from tests.support.messages_server import MessagesServer, Reply


def record_threads(monkeypatch: pytest.MonkeyPatch, owner: type, name: str) -> list[bool]:
    """Wrap `owner.name` (a classmethod) to note, per call, whether it ran on the main thread."""
    on_main: list[bool] = []
    original = getattr(owner, name).__func__

    def wrapped(cls, *args, **kwargs):  # type: ignore[no-untyped-def]
        on_main.append(threading.current_thread() is threading.main_thread())
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(owner, name, classmethod(wrapped))
    return on_main


async def test_a_task_run_builds_its_graph_and_stage_off_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    graphs = record_threads(monkeypatch, ImportGraph, "load_or_build")
    stages = record_threads(monkeypatch, Stage, "create")
    cow_stages = record_threads(monkeypatch, CowStage, "create")
    project = make_project(tmp_path / "p")
    server = MessagesServer([Reply.text("Nothing to change.")])
    with server:
        gateway = ModelGateway(api_key="test-key", base_url=server.url, max_retries=0)
        events: list[ev.Event] = []
        session = Session(load_config(project), gateway, emit=events.append)
        try:
            session.add(Task(id="t", prompt="Look at calc.py", context_files=("calc.py",)))
            await session.run("t")
        finally:
            session.close()
            await gateway.aclose()
    assert any(isinstance(e, ev.ContextSelected) for e in events)
    assert graphs == [False]
    made = stages + cow_stages
    assert made and not any(made), made  # every stage of the run, whichever kind, on a thread


async def test_tasks_asking_at_once_share_one_graph_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    graphs = record_threads(monkeypatch, ImportGraph, "load_or_build")
    project = make_project(tmp_path / "p")
    session = Session(load_config(project), ModelGateway(api_key="k"), emit=lambda e: None)
    try:
        first, second = await asyncio.gather(session.context.import_graph(), session.context.import_graph())
        assert first is second is session.graph
        assert graphs == [False]
    finally:
        session.close()


async def test_a_file_saved_while_the_graph_is_built_is_not_lost(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    session = Session(load_config(project), ModelGateway(api_key="k"), emit=lambda e: None)
    read, release = threading.Event(), threading.Event()
    original = ImportGraph.load_or_build

    def slow(root: Path) -> ImportGraph:
        graph = original(root)  # it read the project as it was
        read.set()
        release.wait(10)
        return graph

    try:
        with unittest.mock.patch.object(ImportGraph, "load_or_build", slow):
            building = asyncio.ensure_future(session.context.import_graph())
            await asyncio.to_thread(read.wait, 10)  # the thread has read the project
            (project / "extra.py").write_text("import calc\n")
            session.files_changed(["extra.py"])  # what the watcher says meanwhile
            release.set()
            graph = await building
        assert "extra.py" in graph.files
    finally:
        session.close()


async def test_what_a_cancelled_caller_left_on_the_thread_is_undone() -> None:
    started, release = threading.Event(), threading.Event()
    undone: list[str] = []

    def work() -> str:
        started.set()
        release.wait(10)
        return "stage"

    job = asyncio.ensure_future(off_loop(work, undo=undone.append))
    await asyncio.to_thread(started.wait, 10)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    release.set()
    for _ in range(100):
        if undone:
            break
        await asyncio.sleep(0.01)
    assert undone == ["stage"]
