"""Token usage for scripted demo calls, derived from what each call carries.

The demo recordings need a `usage` per call, and the per-task cost alert in the demo only means
something if those numbers follow from the conversation rather than from wishful typing. This
module is the one rule used to write them: it walks a task's attempts the way the engine's
conversation grows (stable prefix, prompt, replies, tool results, findings, escalation payload),
counts tokens at a code-ish 3.5 characters each, and applies prompt caching the way the API does
(a prefix is written once, read on later turns, and not cached at all below the model's minimum
cacheable length). `verify_scripts.py` checks every script's `usage` against it and can rewrite
the `usage = {...}` lines with `--write-usage`.

Deliberately approximate: the real engine's system prompt, context pruning and payload layout
decide the exact counts; these are realistic magnitudes, not a tokenizer.
"""

from __future__ import annotations

import difflib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The engine's system prompt (~750 tokens) plus the text editor tool's definition (~700).
SYSTEM_TOKENS = 1450
CHARS_PER_TOKEN = 3.5
# Below these prefix lengths the API does not cache (Opus-class models need a longer prefix).
MIN_CACHEABLE = {"claude-opus-4-7": 4096, "claude-haiku-4-5": 4096}
DEFAULT_MIN_CACHEABLE = 1024
TOOL_USE_OVERHEAD = 15  # tool_use block framing: id, name, JSON punctuation
EDIT_RESULT_TOKENS = 15  # "The file … has been edited."
FINDINGS_CHARS = 2000  # validator output the engine passes on, at most
CODE_AROUND_CHARS = 2400  # code around the failure in an escalation payload, per changed file


def tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


@dataclass
class Conversation:
    """One model conversation: its cached prefix and the tokens of everything after it."""

    model: str
    prefix: int
    after: int
    written: bool = False

    @property
    def cacheable(self) -> bool:
        return self.prefix >= MIN_CACHEABLE.get(self.model, DEFAULT_MIN_CACHEABLE)


@dataclass
class UsageModel:
    """Feeds on a task as verify_scripts replays it; answers the usage each call should have."""

    prompt: str
    context: dict[str, str]  # context file → text at task start
    start: dict[str, str]  # every project text file at task start, for diffs
    conversation: Conversation | None = None
    findings: str = ""
    suggested: list[dict[str, int]] = field(default_factory=list)

    def begin_attempt(self, kind: str, model: str, current: dict[str, str]) -> None:
        """kind: initial | correction | escalation | signoff."""
        if kind == "initial":
            prefix = SYSTEM_TOKENS + sum(tokens(t) for t in self.context.values())
            self.conversation = Conversation(model, prefix, tokens(self.prompt) + 10)
        elif kind == "correction":
            assert self.conversation is not None, "a correction continues an attempt"
            self.conversation.after += tokens(self.findings[:FINDINGS_CHARS]) + 40
        else:
            diff = self.diff(current)
            payload = tokens(self.prompt) + tokens(diff) + 60
            if kind == "escalation":
                payload += tokens(self.findings[:FINDINGS_CHARS])
                changed = [p for p in current if current[p] != self.start.get(p)]
                payload += sum(tokens(current[p][:CODE_AROUND_CHARS]) for p in changed)
            else:
                payload += 200  # the validation summary a sign-off reviews
            self.conversation = Conversation(model, SYSTEM_TOKENS + payload, 30)

    def call(self, call: dict[str, Any], files: dict[str, str]) -> dict[str, int]:
        """Usage of `call`; `files` is the project as it is when the call's tools run."""
        conv = self.conversation
        assert conv is not None
        if conv.cacheable and not conv.written:
            usage = {"input_tokens": conv.after, "cache_creation_input_tokens": conv.prefix,
                     "cache_read_input_tokens": 0}
            conv.written = True
        elif conv.cacheable:
            usage = {"input_tokens": conv.after, "cache_creation_input_tokens": 0,
                     "cache_read_input_tokens": conv.prefix}
        else:
            usage = {"input_tokens": conv.prefix + conv.after, "cache_creation_input_tokens": 0,
                     "cache_read_input_tokens": 0}
        out = tokens(call.get("text", "")) + 3
        for use in call.get("tool_uses", []):
            out += tokens(json.dumps(use)) + TOOL_USE_OVERHEAD
        if "signoff" in call:
            out += tokens(json.dumps(call["signoff"])) + TOOL_USE_OVERHEAD
        usage["output_tokens"] = out
        conv.after += out
        for use in call.get("tool_uses", []):
            if use.get("command") == "view":
                text = files.get(use["path"], "")
                conv.after += tokens(text) + text.count("\n") * 2  # numbered lines
            else:
                conv.after += EDIT_RESULT_TOKENS
        self.suggested.append(usage)
        return usage

    def diff(self, current: dict[str, str]) -> str:
        out: list[str] = []
        for path in sorted(set(current) | set(self.start)):
            before, after = self.start.get(path, ""), current.get(path, "")
            if before != after:
                out += difflib.unified_diff(
                    before.splitlines(keepends=True), after.splitlines(keepends=True),
                    f"a/{path}", f"b/{path}",
                )
        return "".join(out)


def snapshot(root: Path) -> dict[str, str]:
    """Every text file of the project (relative path → text), outside tool and cache folders."""
    skip = {"node_modules", ".gearshift", "__pycache__", ".mypy_cache", ".ruff_cache",
            ".pytest_cache", "demo-script", "gearshift-recordings"}
    files: dict[str, str] = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if path.is_file() and not skip.intersection(rel.parts):
            try:
                files[rel.as_posix()] = path.read_text()
            except UnicodeDecodeError:
                continue
    return files


def attempt_kind(number: int, model: str, previous_model: str | None, calls: list[Any]) -> str:
    if number == 1:
        return "initial"
    if any("signoff" in c for c in calls):
        return "signoff"
    return "correction" if model == previous_model else "escalation"
