"""A/B assignment for `[routing.experiment]`: which threshold a task is routed with.

The arm is a pure function of the task id — SHA-256 of a fixed label and the id, read as a
fraction in [0, 1) — so a task lands in the same arm in every run, process and machine (Python's
`hash()` is salted per process and would not). Arm "b" takes the experiment's threshold with
probability `share`; arm "a" keeps `routing.complexity_threshold`.
"""

from __future__ import annotations

import hashlib

from gearshift.config import RoutingConfig

ARMS = ("a", "b")
_LABEL = b"gearshift-threshold-experiment\0"


def bucket(task_id: str) -> float:
    """The task's fixed position in [0, 1)."""
    digest = hashlib.sha256(_LABEL + task_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(task_id: str, share: float) -> str:
    return "b" if bucket(task_id) < share else "a"


def threshold_for(task_id: str, routing: RoutingConfig) -> tuple[float, str | None]:
    """The threshold that routes this task, and its arm (None when no experiment runs)."""
    experiment = routing.experiment
    if experiment is None:
        return routing.complexity_threshold, None
    arm = assign(task_id, experiment.share)
    return (experiment.threshold if arm == "b" else routing.complexity_threshold), arm
