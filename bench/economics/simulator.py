"""The simulated model behind the loopback Messages API: real requests in, real tool calls out.

Every arm talks to it through the real SDK (gearshift's gateway, or the naive loop's client). It
recognises the task by its prompt, and for each attempt (a request whose last message is not a
tool result: the task, a correction, an escalation payload) draws from the outcome table whether
this attempt writes the reference patch or a wrong one. It then edits through the real text editor
tool — one `str_replace` per target function, the old text being what its previous edits left in
the file — and ends its turn with a short note. Usage is billed by `counting` (gearshift's own rule) from the request
bytes the engine really sent, with a per-model prompt cache; output tokens from the reply's bytes.
Latency is modelled (first token + output at the model's rate), never slept.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from counting import Meter
from gearshift.models.request_hash import without_cache_control
from outcomes import OutcomeModel, family

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.support.messages_server import Reply  # noqa: E402  (the suite's loopback server)

EDITOR = "str_replace_based_edit_tool"
# First-token time and output rate by family: the article's latency table and the demo's pacing.
LATENCY = {"sonnet": (700.0, 80.0), "opus": (2000.0, 45.0), "haiku": (400.0, 120.0)}


@dataclass
class SimTask:
    id: str
    prompt: str
    score: float
    edits: list[tuple[str, str, str, dict[str, str]]]  # (file, broken, reference, {wrong kind: text})


@dataclass
class _State:
    current: dict[int, str]
    attempts: dict[str, int] = field(default_factory=dict)
    queue: list[tuple[int, str]] = field(default_factory=list)
    sent: tuple[int, str] | None = None
    outcome: str = ""


@dataclass
class CallStat:
    task: str
    model: str
    usage: dict[str, int]
    latency_ms: float
    later: bool = False  # turn 2 or later of an attempt: it answers a tool result


class SimulatedModel:
    """A `messages_server.Script`: one instance per arm (its caches and file beliefs are the arm's)."""

    def __init__(
        self,
        tasks: list[SimTask],
        outcomes: OutcomeModel,
        *,
        opus_factor: float,
        min_cache: dict[str, int],
        honour_cache: bool = True,
    ) -> None:
        self.tasks = tasks
        self.outcomes = outcomes
        self.opus_factor = opus_factor
        self.min_cache = min_cache
        self.honour_cache = honour_cache  # False: the caching-off arm, every token at the input price
        self.meter = Meter(lambda model: min_cache.get(model, 1024))
        self.states: dict[str, _State] = {}
        self.calls: list[CallStat] = []
        self.unmatched = 0  # edits the editor refused: a belief out of step with the stage (must stay 0)
        self._lock = threading.Lock()

    def factor(self, model: str) -> float:
        return self.opus_factor if family(model) == "opus" else 1.0

    def _task(self, body: dict[str, Any]) -> SimTask:
        text = _text_of(body)
        for task in self.tasks:
            if task.prompt in text:
                return task
        raise LookupError("simulator: no task's prompt in this request")

    def __call__(self, body: dict[str, Any], headers: dict[str, str]) -> Reply:
        with self._lock:
            return self._answer(body)

    def _answer(self, body: dict[str, Any]) -> Reply:
        model = body["model"]
        task = self._task(body)
        state = self.states.setdefault(task.id, _State(current={i: e[1] for i, e in enumerate(task.edits)}))
        last = body["messages"][-1]
        results = [b for b in last.get("content") or [] if isinstance(b, dict) and b.get("type") == "tool_result"]
        if results:
            if state.sent is not None:
                if results[0].get("is_error"):
                    self.unmatched += 1
                else:
                    index, new = state.sent
                    state.current[index] = new
            state.sent = None
        else:
            n = state.attempts.get(family(model), 0)
            state.attempts[family(model)] = n + 1
            kinds = list(task.edits[0][3])
            state.outcome = self.outcomes.draw(task.id, model, task.score, n, kinds)
            state.queue = []
            for i, (_, _, reference, wrong) in enumerate(task.edits):
                new = wrong[state.outcome] if (i == 0 and state.outcome != "right") else reference
                if new != state.current[i]:
                    state.queue.append((i, new))
        if state.queue:
            index, new = state.queue.pop(0)
            state.sent = (index, new)
            path = task.edits[index][0]
            blocks: list[dict[str, Any]] = [
                {"type": "text", "text": f"Editing `{path}`."},
                {
                    "type": "tool_use",
                    "name": EDITOR,
                    "input": {"command": "str_replace", "path": path, "old_str": state.current[index], "new_str": new},
                },
            ]
            stop = "tool_use"
        else:
            blocks = [{"type": "text", "text": "Done: the function is restored and matches its docstring and tests."}]
            stop = "end_turn"
        return Reply(blocks=tuple(blocks), usage=self._bill(body, blocks, later=bool(results)), stop_reason=stop)

    def _bill(self, body: dict[str, Any], blocks: list[dict[str, Any]], *, later: bool) -> dict[str, Any]:
        """Usage for the reply; `later`: the request answers a tool result (turn ≥ 2 of an attempt)."""
        model = body["model"]
        billed = body if self.honour_cache else without_cache_control(body)
        usage = self.meter.bill(billed, blocks, self.factor(model))
        first, rate = LATENCY[family(model)]
        task = self._task(body).id
        self.calls.append(CallStat(task, model, usage, first + usage["output_tokens"] / rate * 1000.0, later))
        return usage


def _text_of(body: dict[str, Any]) -> str:
    parts: list[str] = []
    system = body.get("system")
    if isinstance(system, str):
        parts.append(system)
    elif isinstance(system, list):
        parts += [b.get("text", "") for b in system if isinstance(b, dict)]
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        else:
            for block in content or []:
                if isinstance(block, dict):
                    parts.append(str(block.get("text") or block.get("content") or ""))
    return "\n".join(parts)
