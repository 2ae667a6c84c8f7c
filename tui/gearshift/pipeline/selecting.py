"""A task's context as the project will be once the pending changes land.

Headless without --auto-approve keeps approved changes unwritten (the session's overlay); a
later task must see them: a named file an earlier task created exists only in the overlay, a
named file it edited is sent as edited, one it deleted is not sent at all. Kept apart from the
session, which only hands over what is pending.
"""

from __future__ import annotations

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

