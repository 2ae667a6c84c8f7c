"""Tasks: what the user asks for, read from `tasks.toml` or added from the TUI.

A task file is a list of `[[task]]` tables. Reading it is strict for the same reason the config
is: a misspelt key silently ignored would route or validate a task differently from what its
author meant.
"""

from __future__ import annotations

import errno
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gearshift.config import SCOPES, ConfigError, read_toml
from gearshift.edits.workspace import path_problem
from gearshift.vocab import ForcedModel

TASKS_FILE = "tasks.toml"
# "edit": the model changes code through the editor tool. "review": it may only view files and
# answers with structured findings (see gearshift.review); nothing is written.
KINDS = ("edit", "review")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Task:
    id: str
    prompt: str
    scope: str = "single-file"
    context_files: tuple[str, ...] = ()
    requires_validation: bool = True
    interactive: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    # The user forced a model for this task (None: routing decides).
    force: ForcedModel | None = None
    kind: str = "edit"
    # For reviews: an empty review is a failed attempt unless the author allowed a clean one.
    expect_findings: bool = True

    @property
    def is_review(self) -> bool:
        return self.kind == "review"

    def forced(self, which: ForcedModel | None) -> Task:
        return replace(self, force=which)


_KEYS = {
    "id": str,
    "prompt": str,
    "scope": str,
    "context_files": list,
    "requires_validation": bool,
    "interactive": bool,
    "tags": dict,
    "force": str,
    "kind": str,
    "expect_findings": bool,
}


def task_label(task_id: str) -> str:
    """How an error names a task once its id is known: by the id the user wrote."""
    return f'task "{task_id}"'


def task_from_mapping(raw: dict[str, Any], source: str, where: str, *, by_id: bool = False) -> Task:
    """Check one `[[task]]` table and build a Task; errors name the file and `where.key`.

    With `by_id`, errors past the id's own checks name the task by its id (`task "fix-1".scope`),
    which is how the user finds it in the file; `where` (a 1-based position) is used only when
    the id itself is the problem.
    """
    if not isinstance(raw, dict):  # `task = [1]` or `task = ["..."]` instead of [[task]] tables
        raise ConfigError(source, where, "a [[task]] table with id and prompt", raw)
    if "id" not in raw:
        raise ConfigError(source, f"{where}.id", "a string (this key is required)")
    if not isinstance(raw["id"], str):
        raise ConfigError(source, f"{where}.id", "a str", raw["id"])
    if not _ID.match(raw["id"]):
        raise ConfigError(source, f"{where}.id", "letters, digits, '.', '_' or '-' (at most 64)", raw["id"])
    if by_id:
        where = task_label(raw["id"])
    for key in raw:
        if key not in _KEYS:
            raise ConfigError(source, f"{where}.{key}", f"one of the task keys ({', '.join(_KEYS)})")
    for key, tp in _KEYS.items():
        if key in raw and not (
            isinstance(raw[key], tp) and not (tp is not bool and isinstance(raw[key], bool))
        ):
            raise ConfigError(source, f"{where}.{key}", f"a {tp.__name__}", raw[key])
    if "prompt" not in raw:
        raise ConfigError(source, f"{where}.prompt", "a string (this key is required)")
    if not raw["prompt"].strip():
        raise ConfigError(source, f"{where}.prompt", "a non-empty prompt", raw["prompt"])
    scope = raw.get("scope", "single-file")
    if scope not in SCOPES:
        raise ConfigError(source, f"{where}.scope", f"one of {', '.join(SCOPES)}", scope)
    files = raw.get("context_files", [])
    for i, f in enumerate(files):
        if not isinstance(f, str) or not f:
            raise ConfigError(source, f"{where}.context_files[{i}]", "a path string", f)
        problem = path_problem(f)
        if problem:
            raise ConfigError(source, f"{where}.context_files[{i}]", problem, f[:80])
    tags = raw.get("tags", {})
    for k, v in tags.items():
        if not isinstance(v, str | int | float | bool):
            raise ConfigError(source, f"{where}.tags.{k}", "a string", v)
    force = raw.get("force")
    if force not in (None, "default", "escalation"):
        raise ConfigError(source, f"{where}.force", '"default" or "escalation"', force)
    kind = raw.get("kind", "edit")
    if kind not in KINDS:
        raise ConfigError(source, f"{where}.kind", " or ".join(f'"{k}"' for k in KINDS), kind)
    if "expect_findings" in raw and kind != "review":
        raise ConfigError(source, f"{where}.expect_findings", 'kind = "review" (it applies to reviews only)')
    return Task(
        id=raw["id"],
        prompt=raw["prompt"],
        scope=scope,
        context_files=tuple(files),
        requires_validation=raw.get("requires_validation", True),
        interactive=raw.get("interactive", False),
        tags={k: str(v) for k, v in tags.items()},
        force=force,
        kind=kind,
        expect_findings=raw.get("expect_findings", True),
    )


def load_tasks(path: str | Path, root: Path | None = None) -> list[Task]:
    """Read a tasks file; with `root`, also check that every context file is in the project,
    so a typo is a load error naming the task, not a failure when the task finally runs."""
    path = Path(path)
    data = read_toml(path, missing="a tasks file with [[task]] tables")
    tasks = _tasks_from(data, path)
    if root is not None:
        check_context_files(tasks, root, path)
    return tasks


def check_context_files(tasks: list[Task], root: Path, source: str | Path) -> None:
    """Every context file must be in the project — or be named in an earlier task's prompt: a
    queue may ask for a new file ("… in a new src/store.ts") and then ask about it."""
    earlier = ""
    for t in tasks:
        missing = [f for f in t.context_files if not (root / f).is_file() and f not in earlier]
        if missing:
            raise ConfigError(
                source,
                f"{task_label(t.id)}.context_files",
                "files in the project (or named by an earlier task's prompt)",
                ", ".join(missing),
            )
        earlier += "\n" + t.prompt


def _tasks_from(data: dict[str, Any], path: Path) -> list[Task]:
    for key in data:
        if key != "task":
            raise ConfigError(path, key, "only [[task]] tables")
    raw_tasks = data.get("task", [])
    if not isinstance(raw_tasks, list):
        raise ConfigError(path, "task", "an array of tables ([[task]])", raw_tasks)
    # Positions count from 1, as a person counts the [[task]] tables in the file.
    tasks = [task_from_mapping(t, str(path), f"task #{i}", by_id=True) for i, t in enumerate(raw_tasks, 1)]
    seen: dict[str, int] = {}
    for i, t in enumerate(tasks, 1):
        if t.id in seen:
            raise ConfigError(path, f"task #{i}.id", f"a unique id (task #{seen[t.id]} has it too)", t.id)
        seen[t.id] = i
    return tasks


def task_to_mapping(task: Task) -> dict[str, Any]:
    """The inverse of `task_from_mapping`, for writing tasks added in the TUI back to disk."""
    out: dict[str, Any] = {"id": task.id, "prompt": task.prompt, "scope": task.scope}
    if task.kind != "edit":
        out["kind"] = task.kind
        if not task.expect_findings:
            out["expect_findings"] = False
    if task.context_files:
        out["context_files"] = list(task.context_files)
    if not task.requires_validation:
        out["requires_validation"] = False
    if task.interactive:
        out["interactive"] = True
    if task.tags:
        out["tags"] = dict(task.tags)
    return out


def append_task(path: str | Path, task: Task) -> None:
    """Add `task` to the end of a tasks file without rewriting it (its comments stay).

    The new text is checked in memory first (a clash such as a duplicate id raises ConfigError
    and the file is not touched), then replaces the file atomically: the user's queue is never
    left half-written.
    """
    import tomli_w

    from gearshift.edits.workspace import atomic_write_text

    path = Path(path)
    try:
        before = path.read_text(encoding="utf-8") if path.exists() else ""
    except UnicodeDecodeError as exc:
        raise ConfigError(path, "(file)", "UTF-8 text (TOML files are UTF-8)", str(exc)) from None
    mapping = task_to_mapping(task)
    tags = mapping.pop("tags", None)
    block = "[[task]]\n" + tomli_w.dumps(mapping)
    if tags:
        block += "[task.tags]\n" + tomli_w.dumps(tags)
    after = before + ("\n" if before and not before.endswith("\n\n") else "") + block
    try:
        data = tomllib.loads(after)
    except tomllib.TOMLDecodeError as exc:  # the file was not valid TOML before either
        raise ConfigError(path, "(file)", "valid TOML", str(exc)) from None
    _tasks_from(data, path)
    if path.exists() and not os.access(path, os.W_OK):  # a rename would bypass the file's own mode
        raise PermissionError(errno.EACCES, "the tasks file is read-only", str(path))
    atomic_write_text(path, after, durable=True)
