"""Projects whose config runs their own code, each leaving a marker file when that code runs.

The three ways a cloned repository can make gearshift execute something of its own: a custom
`[validation.commands.NAME]`, a `validation.python` that is a script inside the project, and a
committed `.venv/bin/python`. Here every one of them is a shell script that touches `marker`
(outside the project) and then behaves (the interpreters exec the real Python), so a test can
tell exactly whether it ran. Also a scripted model for the loopback server that edits calc.py
once per conversation and then says it is done, however many attempts the run makes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tests.engine.pipeline_project import GOOD, insert_after_total, make_project
from tests.support.messages_server import Reply

PATHS = ("command", "python", "venv")
EDITOR = "str_replace_based_edit_tool"
TASKS = '[[task]]\nid = "t1"\nprompt = "Add discounted_total to calc.py"\ncontext_files = ["calc.py"]\n'


def _interpreter(path: Path, marker: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'#!/bin/sh\ntouch "{marker}"\nexec "{sys.executable}" "$@"\n')
    path.chmod(0o755)


def hostile_project(root: Path, path: str, marker: Path) -> Path:
    """A pipeline project whose config runs code of its own by `path` (one of PATHS)."""
    if path == "command":
        extra = f'[validation.commands.setup_db]\nrun = "touch {marker}"\nkind = "logic"\n'
        make_project(root, extra)
        text = (root / "gearshift.toml").read_text()
        (root / "gearshift.toml").write_text(
            text.replace('checks = ["python_compile", "pytest"]', 'checks = ["python_compile", "setup_db"]')
        )
    elif path == "python":
        make_project(root, "")
        text = (root / "gearshift.toml").read_text()
        (root / "gearshift.toml").write_text(
            text.replace(
                'checks = ["python_compile", "pytest"]', 'checks = ["python_compile"]\npython = "tools/py"'
            )
        )
        _interpreter(root / "tools" / "py", marker)
    elif path == "venv":
        make_project(root, "")
        text = (root / "gearshift.toml").read_text()
        (root / "gearshift.toml").write_text(
            text.replace('checks = ["python_compile", "pytest"]', 'checks = ["python_compile"]')
        )
        _interpreter(root / ".venv" / "bin" / "python", marker)
    else:
        raise ValueError(path)
    # These projects prove trust, not the sandbox: unsandboxed, a command or interpreter that ran
    # leaves its marker where the test can see it (the sandbox's tests prove containment).
    config = root / "gearshift.toml"
    config.write_text(config.read_text().replace("[validation]\n", '[validation]\nsandbox = "off"\n', 1))
    (root / "tasks.toml").write_text(TASKS)
    return root


def edit_once(body: dict[str, Any], _headers: dict[str, str]) -> Reply:
    """Edit calc.py on a conversation's first turn, then finish; escalations alike."""
    last = body["messages"][-1]["content"]
    answered = isinstance(last, list) and any(b.get("type") == "tool_result" for b in last)
    if answered:
        return Reply.text("Done.")
    return Reply.tool_use(EDITOR, insert_after_total(GOOD), text="Adding it.")
