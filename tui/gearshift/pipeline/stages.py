"""Where a session's stages come from: the project as it will be once the pending changes land.

Approved changes not yet written (headless without --auto-approve) are the starting point of
every later stage. Copy-on-write stages (sandboxed checks) sit on one pending layer, laid once
and grown by each newly accepted task; hard-linked stages (the fallback) get the changes laid
into their copy. The maker's bookkeeping runs on the caller's side, so only the stage's files
are made on a thread (pipeline/offloop.py).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

from gearshift.edits.cowstage import AnyStage, CowStage, PendingLayer, stages_home, sweep_dead
from gearshift.edits.workspace import FileChange, Stage
from gearshift.pipeline.record import TaskRecord
from gearshift.validation.sandbox import SandboxStatus


class StageMaker:
    def __init__(self, root: Path, sandbox: SandboxStatus) -> None:
        self.root = root
        self.sandbox = sandbox
        # Copy-on-write stages live outside the tree; hard-linked ones must share its filesystem.
        self.stages_dir = stages_home(root) if sandbox.active else root / ".gearshift" / "stages"
        for folder in {self.stages_dir, root / ".gearshift" / "stages"}:
            sweep_dead(folder)  # stages of processes that died without cleaning up
        self._layer: PendingLayer | None = None
        self._laid: list[TaskRecord] = []  # the pending records the layer holds, in order
        self._names = itertools.count(1)

    def maker(self, name: str, pending: list[TaskRecord], changes: list[FileChange]) -> Callable[[], AnyStage]:
        """What makes a stage named after `name` over the project, the `pending` records'
        changes and then `changes` (a selection of hunks under review, say)."""
        unique = f"{name}-{os.getpid()}-{next(self._names)}"
        if self.sandbox.active:
            return partial(CowStage.create, self.root, self.stages_dir, unique, changes, base=self._base(pending))
        overlay = [c for record in pending for c in record.changes]
        return partial(Stage.create, self.root, self.stages_dir, unique, overlay=[*overlay, *changes])

    def _base(self, pending: list[TaskRecord]) -> PendingLayer | None:
        """The pending changes as one layer under every stage: laid once, then grown by each
        newly accepted task only (rebuilt only if a laid task stopped being pending)."""
        if not pending:
            return None
        laid = self._laid
        if (
            self._layer is None
            or pending[: len(laid)] != laid
            or any(a is not b for a, b in zip(pending, laid, strict=False))
        ):
            if self._layer is not None:
                self._layer.discard()
            folder = self.stages_dir / f"pending-{os.getpid()}-{next(self._names)}"
            self._layer, self._laid = PendingLayer.create(self.root, folder), []
        for record in pending[len(self._laid) :]:
            self._layer.add(record.task.id, record.changes)
            self._laid.append(record)
        return self._layer

    def close(self) -> None:
        """Remove the pending layer from disk."""
        if self._layer is not None:
            self._layer.discard()
            self._layer, self._laid = None, []
