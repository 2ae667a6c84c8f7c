"""A task's context as the project will be once the pending changes land, and the project's
import graph it is chosen from.

Headless without --auto-approve keeps approved changes unwritten (the session's overlay); a
later task must see them: a named file an earlier task created exists only in the overlay, a
named file it edited is sent as edited, one it deleted is not sent at all. Kept apart from the
session, which only hands over what is pending.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from gearshift.config import ContextConfig
from gearshift.context.graph import ImportGraph
from gearshift.context.select import NAMED, SelectedFile, Selection, select_context
from gearshift.models.pricing import estimate_tokens
from gearshift.tasks import Task


def select_over_pending(
    root: Path, config: ContextConfig, task: Task, pending: dict[str, str | None], graph: ImportGraph
) -> Selection:
    """`pending`: path → the text it will have (None: deleted) for every pending change."""
    created: dict[str, str] = {}
    on_disk: list[str] = []
    for entry in task.context_files:
        rel = Path(entry).as_posix().removeprefix("./")
        text = pending.get(rel)
        if text is not None and not (root / rel).exists():
            created[rel] = text
        else:
            on_disk.append(entry)
    selection = select_context(root, config, on_disk, task.prompt, graph=graph)
    if not pending:
        return selection
    files = [SelectedFile(path, NAMED, estimate_tokens(text), "full", text) for path, text in created.items()]
    for f in selection.files:
        if f.path not in pending:
            files.append(f)
        elif (text := pending[f.path]) is not None:  # a deleted one is not sent at all
            # sent as it will be, whole: its outline or stripped text on disk is out of date
            files.append(replace(f, text=text, tokens=estimate_tokens(text), mode="full"))
    # Named files always go (the model edits them); max_files caps what comes around them.
    cap = config.max_files
    room = max(cap - sum(f.reason == NAMED for f in files), 0)
    kept: list[SelectedFile] = []
    pruned = list(selection.pruned)
    for f in files:
        if f.reason == NAMED or room > 0:
            kept.append(f)
            room -= f.reason != NAMED
        else:
            pruned.append({"path": f.path, "reason": f"over max_files ({cap})"})
    return replace(selection, files=kept, pruned=pruned, tokens_sent=sum(f.tokens for f in kept))


class ProjectGraph:
    """The project's import graph for a session: built (or loaded from its cache) once, off the
    event loop when a task's run asks for it first (~160 ms cold on a large project), however
    many tasks ask at once; then kept current with the files the watcher saw change."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._graph: ImportGraph | None = None
        self._build: asyncio.Future[ImportGraph] | None = None  # the first build, on a thread
        self._changed_while_building: list[str] = []

    @property
    def graph(self) -> ImportGraph:
        """Loaded or built here, on the caller's thread (a test, a tool: no loop to keep free)."""
        if self._graph is None:
            self._graph = ImportGraph.load_or_build(self.root)
        return self._graph

    async def import_graph(self) -> ImportGraph:
        if self._graph is None:
            if self._build is None:
                self._build = asyncio.ensure_future(asyncio.to_thread(ImportGraph.load_or_build, self.root))
                self._changed_while_building = []
            build = self._build
            try:
                graph = await asyncio.shield(build)
            except Exception:
                if self._build is build:  # the next task tries again
                    self._build = None
                raise
            if self._graph is None:
                self._graph, self._build = graph, None
                if self._changed_while_building:  # saved while it was being built
                    graph.update(self._changed_while_building)
        return self._graph

    def files_changed(self, paths: list[str]) -> None:
        if self._graph is not None:
            self._graph.update(paths)
        elif self._build is not None:
            self._changed_while_building.extend(paths)
