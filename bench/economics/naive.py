"""The naive all-Opus arm: what a plain agent loop would do, without anything gearshift adds.

One conversation on the escalation model with the full context — the named files whole plus every
project file they import (the same "naive" set gearshift's context engine reports), no pruning,
no documentation stripped, no `cache_control` anywhere — the text editor tool to edit the files in
place, then the project's tests; on a failure, one retry in the same conversation with the test
output appended (so the whole history is paid for again), and that is all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EDITOR = "str_replace_based_edit_tool"
MAX_TURNS = 8


@dataclass
class NaiveResult:
    calls: list[dict[str, Any]] = field(default_factory=list)  # API usage of each call
    attempts: int = 0


def context_files(root: Path, named: list[str]) -> list[str]:
    from gearshift.context.graph import ImportGraph

    graph = ImportGraph.load_or_build(root, cache_dir=root / ".naive-graph")
    imported = sorted({t for p in named if p in graph.files for t in graph.imports(p)} - set(named))
    return list(named) + imported


def system_prompt(root: Path, files: list[str]) -> str:
    parts = [
        f"You are a coding assistant working on the project {root.name}. Edit files with the "
        f"{EDITOR} tool. Here are the relevant files."
    ]
    for rel in files:
        parts.append(f"\n=== {rel} ===\n{(root / rel).read_text()}")
    return "\n".join(parts)


def _execute(root: Path, tool_input: dict[str, Any]) -> tuple[str, bool]:
    path = root / str(tool_input.get("path", ""))
    if tool_input.get("command") != "str_replace" or not path.is_file():
        return f"Error: unsupported command or missing file {tool_input.get('path')!r}", True
    text = path.read_text()
    old, new = str(tool_input.get("old_str", "")), str(tool_input.get("new_str", ""))
    if text.count(old) != 1:
        return "Error: old_str must match exactly once", True
    path.write_text(text.replace(old, new, 1))
    return f"The file {tool_input['path']} has been edited.", False


def run(client: Any, model: str, root: Path, prompt: str, named: list[str], test: Any, max_tokens: int) -> NaiveResult:
    """`test()` → (passed, output tail). Returns the calls made; the tree is left as the loop left it."""
    files = context_files(root, named)
    system = system_prompt(root, files)
    tools = [{"type": "text_editor_20250728", "name": EDITOR}]
    messages: list[dict[str, Any]] = [{"role": "user", "content": prompt}]
    result = NaiveResult()
    for attempt in range(2):
        result.attempts += 1
        for _ in range(MAX_TURNS):
            with client.messages.stream(
                model=model, max_tokens=max_tokens, system=system, tools=tools, messages=messages
            ) as stream:
                message = stream.get_final_message()
            result.calls.append(message.usage.model_dump())
            messages.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in message.content]})
            uses = [b for b in message.content if b.type == "tool_use"]
            if not uses:
                break
            results = []
            for use in uses:
                text, is_error = _execute(root, dict(use.input))
                results.append({"type": "tool_result", "tool_use_id": use.id, "content": text, "is_error": is_error})
            messages.append({"role": "user", "content": results})
        passed, output = test()
        if passed or attempt == 1:
            break
        messages.append({"role": "user", "content": f"The tests fail:\n{output}\nFix it."})
    return result
