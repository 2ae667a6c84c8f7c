"""The arms of the benchmark and how one task is run in each, through gearshift's real pipeline.

An arm is a gearshift configuration (or the naive loop) plus how the simulated model behaves.
Each task runs in a fresh copy of its broken project: gearshift routes it, selects context, calls
the simulated model through the SDK, stages the edits, runs the real validators (compile + the
project's own tests), corrects or escalates, and applies the approved change (`--auto-approve`).
Whether the task passed is then decided by the bench itself: the project's tests on the final tree.
"""

from __future__ import annotations

import asyncio
import io
import json
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import corpus
import naive
from outcomes import OutcomeModel, family
from simulator import SimTask, SimulatedModel

SONNET, OPUS = "claude-sonnet-4-6", "claude-opus-4-7"
MAX_TOKENS = 8192


@dataclass(frozen=True)
class Arm:
    name: str
    what: str
    routing: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    cache: bool = True
    naive: bool = False
    sonnet_p: float | None = None  # the sweep's extremes: Sonnet always right (1) or always wrong (0)


ARMS = (
    Arm("cascade", "gearshift as configured: Sonnet first, Opus by score/rule or on a logic failure"),
    Arm("all-sonnet", "gearshift with Sonnet only (no escalation)", {"default_model": SONNET, "escalation_model": SONNET}),
    Arm("all-opus", "gearshift's pipeline with Opus only", {"default_model": OPUS, "escalation_model": OPUS}),
    Arm("naive-opus", "a plain agent loop on Opus: full context, no cache, one retry", naive=True),
    Arm("cascade@0.5", "cascade, threshold 0.5", {"complexity_threshold": 0.5}),
    Arm("cascade@0.6", "cascade, threshold 0.6", {"complexity_threshold": 0.6}),
    Arm("cascade@0.9", "cascade, threshold 0.9", {"complexity_threshold": 0.9}),
    Arm("cascade-nocache", "cascade with prompt caching off", cache=False),
    Arm(
        "cascade-nopruning",
        "cascade with pruning off: no token budget, no documentation stripped",
        context={"token_budget": 1_000_000, "max_files": 1000, "strip_documentation": False},
    ),
    Arm("sweep-sonnet-right", "cascade, Sonnet always right (for the sensitivity sweep)", sonnet_p=1.0),
    Arm("sweep-sonnet-wrong", "cascade, Sonnet always wrong (for the sensitivity sweep)", sonnet_p=0.0),
)


@dataclass
class TaskRun:
    task: str
    arm: str
    passed: bool
    status: str
    route: list[str]
    escalated: bool
    calls: int
    cost_usd: float
    tokens: dict[str, int]
    latency_ms: float
    score: float
    unmatched_edits: int = 0
    later_turns: dict[str, int] = field(default_factory=dict)  # input and cache-read tokens of turns ≥ 2
    reused_from: str = ""  # an arm whose identical run this is (see plan_key)


def oracle_shell(task: corpus.BenchTask, project: corpus.Project) -> str:
    # a wrong fix may loop and allocate: the check's own address-space cap keeps the machine safe
    cap_kb = corpus.ORACLE_MEMORY_BYTES // 1024
    return f"ulimit -v {cap_kb}; " + shlex.join(corpus.oracle_command(task, project))


def gearshift_config(arm: Arm, task: corpus.BenchTask, project: corpus.Project) -> dict[str, Any]:
    return {
        "routing": {"default_model": SONNET, "escalation_model": OPUS, **arm.routing},
        "validation": {
            "checks": ["python_compile", "oracle"],
            "python": sys.executable,
            "timeout_s": corpus.ORACLE_TIMEOUT_S,
            "commands": {"oracle": {"run": oracle_shell(task, project), "kind": "logic", "parser": "lines"}},
        },
        "context": dict(arm.context),
        "session": {"max_tokens": MAX_TOKENS},
    }


def _sum_usage(calls: list[dict[str, Any]]) -> dict[str, int]:
    out = {"input": 0, "output": 0, "cache_write": 0, "cache_read": 0}
    for u in calls:
        out["input"] += u.get("input_tokens") or 0
        out["output"] += u.get("output_tokens") or 0
        out["cache_write"] += u.get("cache_creation_input_tokens") or 0
        out["cache_read"] += u.get("cache_read_input_tokens") or 0
    return out


def _gearshift_run(arm: Arm, task: corpus.BenchTask, project: corpus.Project, tree: Path, url: str) -> dict[str, Any]:
    from gearshift.config import config_from_mapping
    from gearshift.headless import run_headless
    from gearshift.models.client import ModelGateway
    from gearshift.tasks import task_from_mapping

    config = config_from_mapping(tree, "bench", gearshift_config(arm, task, project))
    gs_task = task_from_mapping(
        {
            "id": task.id,
            "prompt": task.prompt(),
            "scope": task.scope,
            "context_files": [t.file for t in task.targets],
        },
        "bench",
        task.id,
    )
    gateway = ModelGateway(api_key="sim-key", base_url=url)
    out = io.StringIO()
    asyncio.run(run_headless(config, [gs_task], gateway, as_json=True, auto_approve=True, escalate="auto", out=out))
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    summary = next(x for x in reversed(lines) if x.get("type") == "summary")
    return summary["tasks"][0]


def score_of(task: corpus.BenchTask, tree: Path) -> float:
    """gearshift's own complexity score of the task (the outcome table's band)."""
    from gearshift.config import config_from_mapping
    from gearshift.context.select import select_context
    from gearshift.routing.score import score_task
    from gearshift.tasks import task_from_mapping

    config = config_from_mapping(tree, "bench", {})
    gs_task = task_from_mapping(
        {"id": task.id, "prompt": task.prompt(), "scope": task.scope, "context_files": [t.file for t in task.targets]},
        "bench",
        task.id,
    )
    selection = select_context(tree, config.context, list(gs_task.context_files), gs_task.prompt)
    lines = sum(f.text.count("\n") + 1 for f in selection.files if f.reason == "named")
    return score_task(gs_task, paths=list(gs_task.context_files), fanout=selection.fanout, lines=lines).score


def start_model(arm: Arm, task: corpus.BenchTask, score: float) -> str:
    """The model gearshift's routing rule starts this task on in this arm (no task is forced or
    interactive here): the escalation model for an always-escalate scope or a score at or above
    the threshold, else the default model."""
    routing = {"default_model": SONNET, "escalation_model": OPUS, "complexity_threshold": 0.75, **arm.routing}
    hard = task.scope in ("security", "architecture") or score >= routing["complexity_threshold"]
    return routing["escalation_model"] if hard else routing["default_model"]


def plan_key(arm: Arm, task: corpus.BenchTask, score: float) -> str:
    """What decides a task's run in an arm. Two arms with the same key run the same calls with the
    same draws (the simulation is deterministic), so the second reuses the first's result: a
    threshold that does not change where a task starts changes nothing else about it."""
    if arm.naive:
        return f"naive:{arm.name}"
    start = start_model(arm, task, score)
    escalation = arm.routing.get("escalation_model", OPUS)
    sonnet_p = arm.sonnet_p if family(start) == "sonnet" or family(escalation) == "sonnet" else None
    return json.dumps([start, escalation, arm.cache, arm.context, sonnet_p], sort_keys=True)


def run_task(
    task: corpus.BenchTask,
    arms: list[Arm],
    project: corpus.Project,
    info: dict[str, Any],
    *,
    seed: int,
    opus_factor: float,
) -> list[TaskRun]:
    """One task in every arm, each in a fresh copy of its broken project and a fresh simulator."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from gearshift.config import config_from_mapping
    from gearshift.models.pricing import Usage, cost

    from tests.support.messages_server import MessagesServer

    catalogue = config_from_mapping(Path("."), "bench", {})
    min_cache = {spec.id: getattr(spec, "min_cache_tokens", 1024) for spec in catalogue.models.values()}
    edits = [(e["file"], e["broken"], e["reference"], e["wrong"]) for e in info["edits"]]
    sim_task = SimTask(task.id, task.prompt(), info["score"], edits)
    done: dict[str, TaskRun] = {}
    runs: list[TaskRun] = []
    for arm in arms:
        key = plan_key(arm, task, info["score"])
        if key in done:
            runs.append(replace(done[key], arm=arm.name, reused_from=done[key].arm))
            continue
        outcomes = OutcomeModel(seed=seed)
        if arm.sonnet_p is not None:
            outcomes = outcomes.with_sonnet(arm.sonnet_p)
        model = SimulatedModel([sim_task], outcomes, opus_factor=opus_factor, min_cache=min_cache, honour_cache=arm.cache)
        # never the task's id in the path: pytest's -k matches parent folders' names too, so a
        # folder named after a keyword task selected the project's whole suite (37 s, not 1 s)
        with MessagesServer(model) as server, tempfile.TemporaryDirectory(prefix="econ-run-") as tmp:
            tree = Path(tmp) / project.root.name
            corpus.materialise(task, project.root, tree)
            if arm.naive:
                run = _naive(arm, task, project, tree, server.url, model, catalogue, Usage, cost)
            else:
                s = _gearshift_run(arm, task, project, tree, server.url)
                route = list(s.get("route") or [])
                run = TaskRun(
                    task=task.id,
                    arm=arm.name,
                    passed=corpus.run_oracle(task, project, tree) == "pass",
                    status=str(s.get("status")),
                    route=route,
                    escalated=_escalated(route),
                    calls=int(s.get("calls") or 0),
                    cost_usd=float(s.get("cost_usd") or 0.0),
                    tokens=_tokens(s.get("tokens") or {}),
                    latency_ms=sum(c.latency_ms for c in model.calls),
                    score=info["score"],
                )
            run.unmatched_edits = model.unmatched
            run.later_turns = later_turn_tokens(model)
        done[key] = run
        runs.append(run)
    return runs


def later_turn_tokens(model: SimulatedModel) -> dict[str, int]:
    """The input of the calls that answer a tool result (turns ≥ 2 of an attempt), and how much
    of it was read from cache: issue 12's cache measure, here on real code bases."""
    later = [c.usage for c in model.calls if c.later]
    return {
        "calls": len(later),
        "input": sum(u["input_tokens"] + u["cache_creation_input_tokens"] + u["cache_read_input_tokens"] for u in later),
        "cache_read": sum(u["cache_read_input_tokens"] for u in later),
    }


def _escalated(route: list[str]) -> bool:
    fams = [family(m) for m in route]
    return "sonnet" in fams and "opus" in fams[fams.index("sonnet") :]


def _tokens(t: dict[str, Any]) -> dict[str, int]:
    return {k: int(t.get(k) or 0) for k in ("input", "output", "cache_write", "cache_read")}


def _naive(arm, task, project, tree, url, model, catalogue, Usage, cost) -> TaskRun:  # noqa: ANN001
    import anthropic

    client = anthropic.Anthropic(api_key="sim-key", base_url=url, max_retries=0)

    def test() -> tuple[bool, str]:
        try:
            proc = subprocess.run(
                oracle_shell(task, project), shell=True, cwd=tree, capture_output=True, text=True,
                timeout=corpus.ORACLE_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            return False, f"the tests did not finish within {corpus.ORACLE_TIMEOUT_S} s"
        return proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]

    result = naive.run(client, OPUS, tree, task.prompt(), [t.file for t in task.targets], test, MAX_TOKENS)
    spec = catalogue.model(OPUS)
    total = sum(
        (cost(spec, Usage(input=u.get("input_tokens") or 0, output=u.get("output_tokens") or 0)) for u in result.calls),
        Decimal(0),
    )
    return TaskRun(
        task=task.id,
        arm=arm.name,
        passed=corpus.run_oracle(task, project, tree) == "pass",
        status="done",
        route=[OPUS] * result.attempts,
        escalated=False,
        calls=len(result.calls),
        cost_usd=float(total),
        tokens=_sum_usage(result.calls),
        latency_ms=sum(c.latency_ms for c in model.calls),
        score=0.0,
    )
