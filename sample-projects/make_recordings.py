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


def load_script(
    sample: Path,
) -> tuple[dict[tuple[str, int, int], dict[str, Any]], dict[str, list[str]], dict[str, bool]]:
    calls: dict[tuple[str, int, int], dict[str, Any]] = {}
    routes: dict[str, list[str]] = {}
    alerts: dict[str, bool] = {}
    for path in sorted((sample / "demo-script").glob("*.toml")):
        data = tomllib.loads(path.read_text())
        task_id = path.stem
        routes[task_id] = list(data.get("route", []))
        alerts[task_id] = bool(data.get("cost_alert", False))
        for call in data.get("call", []):
            calls[(task_id, int(call["attempt"]), int(call["turn"]))] = call
    return calls, routes, alerts


class ScriptedModel:
    """The server's script: the demo call for a request's task, attempt and turn.

    The words and edits are scripted; the `usage` is not: it is the counting rule of
    `gearshift.models.request_tokens` applied to the request the engine sent, with the prompt
    cache billed as the API documents it (writes only at breakpoints, reads of what an earlier
    call of the same task wrote within the TTL, nothing under the model's minimum length).
    """

    def __init__(
        self, calls: dict[tuple[str, int, int], dict[str, Any]], min_cache_tokens: dict[str, int]
    ) -> None:
        self.calls = calls
        self.used: set[tuple[str, int, int]] = set()
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
        )
        call = self.calls.get(key)
        if call is None:
            problem = f"the demo script has no call for task {key[0]} attempt {key[1]} turn {key[2]}"
            self.problems.append(problem)
            return Reply.http_error(500, "api_error", problem, should_retry=False)
        if call["model"] != body["model"]:
            problem = f"{key}: the engine asked {body['model']} but the script has {call['model']}"
            self.problems.append(problem)
            return Reply.http_error(500, "api_error", problem, should_retry=False)
        with self.lock:
            self.used.add(key)
        blocks: list[dict[str, Any]] = []
        if call.get("text", "").strip():
            blocks.append({"type": "text", "text": call["text"].strip()})
        for n, use in enumerate(call.get("tool_uses", [])):
            blocks.append(
                {
                    "type": "tool_use",
                    "id": f"toolu_demo_{key[0]}_{key[1]}_{key[2]}_{n}".replace("-", "_"),
                    "name": EDITOR,
                    "input": dict(use),
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


async def record(sample: Path) -> int:
    calls, routes, alerts = load_script(sample)
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
        )
    summary = json.loads(out.getvalue().splitlines()[-1])
    failures = list(model.problems)
    for task in summary["tasks"]:
        expected = routes.get(task["id"])
        print(
            f"  {task['id']:28} {task['status']:9} route={task['route']} ${task['cost_usd']:.4f}"
            + ("  ALERT" if task["cost_alert"] else "")
            + (f"  signoff={task['signoff']['approved']}" if task["signoff"] else "")
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
    if code != 0 or failures:
        print("\n".join(f"  PROBLEM: {f}" for f in failures) or f"  exit {code}", file=sys.stderr)
        print(f"  (work folder kept at {work})", file=sys.stderr)
        return 1
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
    shutil.rmtree(work, ignore_errors=True)
    print(
        f"  wrote {target.relative_to(HERE.parent)} ({sum(1 for _ in target.rglob('*.sse'))} streams); total ${summary['total_cost_usd']:.4f}"
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
