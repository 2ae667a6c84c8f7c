"""Record the offline demo: run the real engine on each sample against its demo script.

The demo recordings are scripted — a loopback Messages API server answers each call with what
`demo-script/<task>.toml` says the model does — but everything else is real: the engine streams
through the real SDK in record mode (the same code path as `gearshift run --record` with a key),
the edits go through the text editor tool into a staged copy, the samples' real validators pass
or fail them, escalations and sign-offs happen because the gate says so. The recorded SSE
streams keep their pacing: Sonnet answers quickly, Opus thinks longer, as in the routing
article's latency table.

    python sample-projects/make_recordings.py [python-shop] [typescript-bookings]

Writes `sample-projects/<name>/gearshift-recordings/` (with a manifest marking it scripted) and
checks that every scripted call was used and every task took the route its script declares.

Each sample is recorded twice: as the app runs it (an interactive session: `gearshift demo`)
and as a headless batch run (`gearshift run --headless`), where the latency rule does not apply
and reviews go to `routing.batch_review_model`. A call the batch run makes with another model is
kept as a per-model variant (`<task>/<model>/a1-t1.*`); its script has it as a `[[call]]` with
`batch = true` and declares the batch route as `batch_route`. A tool use names its tool with
`tool = "view_file"` or `"record_finding"` (review tasks); without it, it is the text editor's.
"""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import sys
import tempfile
import threading
import time
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the repository root: tests.support

from gearshift.config import load_config  # noqa: E402
from gearshift.demo import scratch_copy  # noqa: E402
from gearshift.headless import run_headless  # noqa: E402
from gearshift.models.client import HEADER_ATTEMPT, HEADER_TASK, HEADER_TURN, ModelGateway  # noqa: E402
from gearshift.models.request_tokens import PromptCache, output_tokens  # noqa: E402
from gearshift.tasks import load_tasks  # noqa: E402

from tests.support.messages_server import MessagesServer, Reply  # noqa: E402

RECORDINGS = "gearshift-recordings"
EDITOR = "str_replace_based_edit_tool"
# Pacing per model: (time to first token, seconds per streamed frame of ~12 characters).
PACE = {"claude-sonnet-4-6": (0.6, 0.03), "claude-opus-4-7": (1.9, 0.075)}
DEFAULT_PACE = (0.8, 0.04)


Key = tuple[str, int, int, str]  # task, attempt, turn, model


def load_script(
    sample: Path, batch: bool
) -> tuple[dict[Key, dict[str, Any]], dict[str, list[str]], dict[str, bool]]:
    """The calls a run makes (a batch run's `batch = true` calls replace the same turn's), the
    route each task should take in that run, and which tasks should cross the cost alert."""
    calls: dict[Key, dict[str, Any]] = {}
    routes: dict[str, list[str]] = {}
    alerts: dict[str, bool] = {}
    for path in sorted((sample / "demo-script").glob("*.toml")):
        data = tomllib.loads(path.read_text())
        task_id = path.stem
        routes[task_id] = list(data.get("batch_route" if batch and "batch_route" in data else "route", []))
        alerts[task_id] = bool(data.get("cost_alert", False))
        chosen: dict[tuple[int, int], dict[str, Any]] = {}
        for call in data.get("call", []):
            if call.get("batch", False) and not batch:
                continue
            turn = (int(call["attempt"]), int(call["turn"]))
            if call.get("batch", False) or turn not in chosen:
                chosen[turn] = call
        for (attempt, turn), call in chosen.items():
            calls[(task_id, attempt, turn, call["model"])] = call
    return calls, routes, alerts


class ScriptedModel:
    """The server's script: the demo call for a request's task, attempt and turn.

    The words and edits are scripted; the `usage` is not: it is the counting rule of
    `gearshift.models.request_tokens` applied to the request the engine sent, with the prompt
    cache billed as the API documents it (writes only at breakpoints, reads of what an earlier
    call of the same task wrote within the TTL, nothing under the model's minimum length).
    """

    def __init__(self, calls: dict[Key, dict[str, Any]], min_cache_tokens: dict[str, int]) -> None:
        self.calls = calls
        self.used: set[Key] = set()
        self.problems: list[str] = []
        self.lock = threading.Lock()
        # One cache per task: tasks may run in parallel, and a run must record the same numbers
        # whatever order they interleave in (so no task reads another's entries).
        self.caches: dict[str, PromptCache] = {}
        self.min_cache_tokens = min_cache_tokens

    def usage(self, task_id: str, body: dict[str, Any], blocks: list[dict[str, Any]]) -> dict[str, Any]:
        with self.lock:
            cache = self.caches.setdefault(
                task_id, PromptCache(lambda model: self.min_cache_tokens.get(model, 1024))
            )
            usage = cache.bill(body, time.monotonic())
        return {**usage, "output_tokens": output_tokens(blocks)}

    def __call__(self, body: dict[str, Any], headers: dict[str, str]) -> Reply:
        from urllib.parse import unquote

        key = (
            unquote(headers.get(HEADER_TASK, "")),
            int(headers.get(HEADER_ATTEMPT, 0)),
            int(headers.get(HEADER_TURN, 0)),
            str(body["model"]),
        )
        call = self.calls.get(key)
        if call is None:
            problem = f"the demo script has no call for task {key[0]} attempt {key[1]} turn {key[2]} on {key[3]}"
            self.problems.append(problem)
            return Reply.http_error(500, "api_error", problem, should_retry=False)
        with self.lock:
            self.used.add(key)
        blocks: list[dict[str, Any]] = []
        if call.get("text", "").strip():
            blocks.append({"type": "text", "text": call["text"].strip()})
        for n, use in enumerate(call.get("tool_uses", [])):
            tool_input = dict(use)
            blocks.append(
                {
                    "type": "tool_use",
                    "id": f"toolu_demo_{key[0]}_{key[1]}_{key[2]}_{n}".replace("-", "_"),
                    "name": tool_input.pop("tool", EDITOR),
                    "input": tool_input,
                }
            )
        if "signoff" in call:
            blocks.append(
                {
                    "type": "tool_use",
                    "id": f"toolu_demo_{key[0]}_signoff".replace("-", "_"),
                    "name": "signoff",
                    "input": dict(call["signoff"]),
                }
            )
        uses_tools = any(b["type"] == "tool_use" for b in blocks)
        first, per_frame = PACE.get(call["model"], DEFAULT_PACE)
        return Reply(
            blocks=tuple(blocks),
            usage=self.usage(key[0], body, blocks),
            stop_reason="tool_use" if uses_tools else "end_turn",
            frame_delay_s=per_frame,
            first_frame_delay_s=first,
        )


async def run_sample(sample: Path, *, batch: bool) -> tuple[Path, list[str], dict[str, Any]]:
    """One recorded run of the sample: (its recordings folder, problems, the summary)."""
    calls, routes, alerts = load_script(sample, batch)
    work = Path(tempfile.mkdtemp(prefix="gearshift-record-"))
    project = scratch_copy(sample, work)
    shutil.rmtree(project / RECORDINGS, ignore_errors=True)
    recordings = work / RECORDINGS
    config = load_config(project)
    model = ScriptedModel(calls, {m.id: m.min_cache_tokens for m in config.models.values()})
    out = io.StringIO()
    with MessagesServer(model) as server:
        gateway = ModelGateway(
            mode="record", api_key="scripted-demo", base_url=server.url, recordings=recordings, max_retries=0
        )
        code = await run_headless(
            config,
            load_tasks(project / "tasks.toml"),
            gateway,
            as_json=True,
            auto_approve=True,
            escalate="auto",
            out=out,
            batch=batch,
        )
    summary = json.loads(out.getvalue().splitlines()[-1])
    failures = list(model.problems)
    print(f"  {'batch (headless)' if batch else 'interactive (the app)'}:")
    for task in summary["tasks"]:
        expected = routes.get(task["id"])
        print(
            f"    {task['id']:28} {task['status']:9} route={task['route']} {task['rule']} ${task['cost_usd']:.4f}"
            + ("  ALERT" if task["cost_alert"] else "")
            + (f"  signoff={task['signoff']['approved']}" if task["signoff"] else "")
            + (f"  findings={len(task['review']['findings'])}" if task.get("review") else "")
        )
        if task["status"] != "approved":
            failures.append(f"{task['id']}: {task['status']} — {task['error']}")
        if expected is not None and task["route"] != expected:
            failures.append(f"{task['id']}: route {task['route']} but the script declares {expected}")
        # The cost alert follows from usage counted from the real requests: the script only says
        # which task should cross alert_threshold_per_task, and this checks that it does.
        if task["cost_alert"] != alerts.get(task["id"], False):
            failures.append(f"{task['id']}: cost_alert {task['cost_alert']} but the script declares the opposite")
    unused = sorted(set(calls) - model.used)
    if unused:
        failures.append(f"scripted calls never made: {unused}")
    if code != 0 and not failures:
        failures.append(f"exit {code}")
    if failures:
        print(f"  (work folder kept at {work})", file=sys.stderr)
    return recordings, failures, summary


def merge_variants(primary: Path, batch: Path) -> int:
    """Keep each batch call that the interactive run did not make with the same model as a
    per-model variant next to the primary recording; returns how many were added."""
    added = 0
    for sidecar in sorted(batch.rglob("*.json")):
        rel = sidecar.relative_to(batch)
        if len(rel.parts) != 2:
            continue
        model = json.loads(sidecar.read_text())["model"]
        same = primary / rel
        if same.is_file() and json.loads(same.read_text())["model"] == model:
            continue
        target = primary / rel.parts[0] / quote(model, safe="")
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(sidecar, target / rel.name)
        shutil.copy2(sidecar.with_suffix(".sse"), target / rel.with_suffix(".sse").name)
        added += 1
    return added


async def record(sample: Path) -> int:
    recordings, failures, summary = await run_sample(sample, batch=False)
    batch_recordings, batch_failures, _ = await run_sample(sample, batch=True)
    failures += [f"batch: {f}" for f in batch_failures]
    if failures:
        print("\n".join(f"  PROBLEM: {f}" for f in failures), file=sys.stderr)
        return 1
    variants = merge_variants(recordings, batch_recordings)
    (recordings / "manifest.json").write_text(
        json.dumps(
            {
                "scripted": True,
                "note": "Scripted demo data: the model's words and edits come from demo-script/, not from a real model.",
                "sample": sample.name,
            },
            indent=2,
        )
        + "\n"
    )
    target = sample / RECORDINGS
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(recordings, target)
    for folder in (recordings.parent, batch_recordings.parent):
        shutil.rmtree(folder, ignore_errors=True)
    print(
        f"  wrote {target.relative_to(HERE.parent)} ({sum(1 for _ in target.rglob('*.sse'))} streams, "
        f"{variants} batch variants); total ${summary['total_cost_usd']:.4f}"
    )
    return 0


def main(argv: list[str]) -> int:
    names = argv or sorted(p.parent.name for p in HERE.glob("*/demo-script"))
    status = 0
    for name in names:
        print(f"{name}:")
        status |= asyncio.run(record(HERE / name))
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
