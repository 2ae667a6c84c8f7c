"""A/B on the threshold: stable assignment, routing by the arm's threshold, the arm everywhere,
and `report --by arm` saying when a difference is within noise."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from gearshift.config import ConfigError, load_config
from gearshift.experiment_report import arm_report, format_arm_report, two_proportion_z
from gearshift.ledger import Ledger
from gearshift.routing.experiment import assign, bucket
from gearshift.routing.policy import decide
from gearshift.routing.score import Complexity
from gearshift.tasks import Task

IDS = [f"task-{i}" for i in range(200)] + ["add-split-evenly", "refactor-price-breakdown", "t2"]
OPUS, SONNET = "claude-opus-4-7", "claude-sonnet-4-6"


def test_assignment_is_pinned_and_the_same_in_processes_with_other_hash_seeds() -> None:
    # Pinned values: a change of the hash would silently reshuffle every running experiment.
    assert (assign("add-split-evenly", 0.5), assign("refactor-price-breakdown", 0.5), assign("t2", 0.5)) == (
        "a",
        "a",
        "b",
    )
    here = [assign(i, 0.5) for i in IDS]
    code = (
        "import json, sys; from gearshift.routing.experiment import assign;"
        f" print(json.dumps([assign(i, 0.5) for i in {IDS!r}]))"
    )
    for seed in ("1", "2", "random"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(Path(__file__).parents[2] / "tui")}
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        assert json.loads(out.stdout) == here


def test_share_is_the_fraction_in_arm_b_and_arms_nest() -> None:
    ids = [f"task-{i}" for i in range(2000)]
    for share in (0.2, 0.5, 0.8):
        in_b = sum(assign(i, share) == "b" for i in ids) / len(ids)
        assert abs(in_b - share) < 0.04
    assert all(assign(i, 0.0) == "a" for i in ids) and all(assign(i, 1.0) == "b" for i in ids)
    # Raising the share only moves tasks from a to b: a task never changes arm the other way.
    assert all(assign(i, 0.6) == "b" for i in ids if assign(i, 0.3) == "b")
    assert all(0.0 <= bucket(i) < 1.0 for i in ids)


def test_arm_b_is_the_buckets_strictly_below_the_share() -> None:
    # A share is the half-open interval [0, share): a task sitting exactly on it stays in arm a.
    assert assign("task-7", bucket("task-7")) == "a"
    assert assign("task-7", bucket("task-7") + 1e-12) == "b"


def _project(tmp_path: Path, table: str) -> Path:
    (tmp_path / "gearshift.toml").write_text(table)
    return tmp_path


def test_experiment_config_is_checked(tmp_path: Path) -> None:
    cfg = load_config(_project(tmp_path, "[routing.experiment]\nthreshold = 0.6\n"))
    assert cfg.routing.experiment is not None
    assert (cfg.routing.experiment.threshold, cfg.routing.experiment.share) == (0.6, 0.5)
    for bad, key in (
        ("threshold = 1.5", "routing.experiment.threshold"),
        ("threshold = 0.6\nshare = 2", "routing.experiment.share"),
        ("share = 0.5", "routing.experiment.threshold"),
        ("threshold = 0.6\nshares = 0.5", "routing.experiment.shares"),
    ):
        _project(tmp_path, f"[routing.experiment]\n{bad}\n")
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            load_config(tmp_path)


def test_each_arm_routes_with_its_threshold(tmp_path: Path) -> None:
    cfg = load_config(
        _project(tmp_path, "[routing]\ncomplexity_threshold = 0.75\n[routing.experiment]\nthreshold = 0.3\n")
    )
    score = Complexity(score=0.5, signals=())
    a = decide(Task(id="add-split-evenly", prompt="x"), score, cfg)  # arm a: 0.5 < 0.75
    b = decide(Task(id="t2", prompt="x"), score, cfg)  # arm b: 0.5 ≥ 0.3
    assert (a.arm, a.threshold, a.model.id, a.rule) == ("a", 0.75, SONNET, "below-threshold")
    assert (b.arm, b.threshold, b.model.id, b.rule) == ("b", 0.3, OPUS, "threshold")
    assert "A/B arm b" in b.explanation
    plain = decide(
        Task(id="t2", prompt="x"), score, load_config(tmp_path / "sub" if False else _project(tmp_path, ""))
    )
    assert (plain.arm, plain.threshold, plain.model.id) == (None, 0.75, SONNET)


def test_the_arm_is_in_the_event_the_summary_and_the_ledger(tmp_path: Path) -> None:
    from tests.engine.pipeline_project import GOOD, insert_after_total, make_project
    from tests.engine.test_pipeline_integration import EDITOR, run, usage
    from tests.support.messages_server import MessagesServer, Reply

    project = make_project(tmp_path / "p", "[routing.experiment]\nthreshold = 0.0\nshare = 0.5\n")
    task = Task(
        id="t2", prompt="Add discounted_total(prices, percent) to calc.py", context_files=("calc.py",)
    )
    server = MessagesServer(
        [
            Reply.tool_use(EDITOR, insert_after_total(GOOD), usage=usage(100, 50)),
            Reply.text("Done.", usage=usage(120, 10)),
        ]
    )
    with server:
        code, events = asyncio.run(run(project, server, [task]))
    routed = next(e for e in events if e["type"] == "task_routed")
    assert code == 0 and routed["arm"] == "b" and routed["threshold"] == 0.0 and routed["model"] == OPUS
    assert events[-1]["tasks"][0]["arm"] == "b"
    (row,) = list(Ledger.for_project(project).tasks())
    assert (row["arm"], row["threshold"]) == ("b", 0.0)


def _fill(ledger: Ledger, arm: str, n: int, approved: int, escalated: int, cost: float) -> None:
    for i in range(n):
        route = [SONNET, OPUS] if i < escalated else [SONNET]
        ledger.record_task(
            {
                "id": f"{arm}{i}",
                "status": "approved" if i < approved else "failed",
                "route": route,
                "cost_usd": cost + 0.001 * (i % 3),
                "arm": arm,
                "threshold": 0.75 if arm == "a" else 0.6,
            },
            {},
            OPUS,
        )


def test_report_by_arm_says_within_noise_or_beyond(tmp_path: Path) -> None:
    cfg = load_config(_project(tmp_path, "[routing.experiment]\nthreshold = 0.6\n"))
    close = Ledger(tmp_path / "close.db")
    _fill(close, "a", 20, approved=16, escalated=4, cost=0.05)
    _fill(close, "b", 20, approved=17, escalated=3, cost=0.05)
    report = arm_report(close, cfg)
    a, b = report["arms"]
    assert (a["tasks"], a["passed"], a["pass_rate"], a["threshold"]) == (20, 16, 0.8, 0.75)
    assert (b["tasks"], b["escalated"], b["escalation_rate"], b["threshold"]) == (20, 3, 0.15, 0.6)
    by_metric = {c["metric"]: c for c in report["comparisons"]}
    assert by_metric["pass_rate"]["within_noise"] is True
    assert by_metric["pass_rate"]["b_minus_a"] == pytest.approx(0.05)
    table = format_arm_report(report)
    assert "b − a pass rate: +5 pts — within noise" in table and "two-proportion z-test" in table

    far = Ledger(tmp_path / "far.db")
    _fill(far, "a", 30, approved=12, escalated=18, cost=0.02)
    _fill(far, "b", 30, approved=29, escalated=1, cost=0.09)
    by_metric = {c["metric"]: c for c in arm_report(far, cfg)["comparisons"]}
    assert by_metric["pass_rate"]["within_noise"] is False and by_metric["pass_rate"]["z"] > 1.96
    assert by_metric["escalation_rate"]["within_noise"] is False and by_metric["escalation_rate"]["z"] < -1.96
    assert by_metric["cost_per_task_usd"]["within_noise"] is False

    few = Ledger(tmp_path / "few.db")
    _fill(few, "a", 3, approved=3, escalated=0, cost=0.02)
    _fill(few, "b", 3, approved=0, escalated=3, cost=0.09)
    assert "too few tasks to test" in format_arm_report(arm_report(few, cfg))


def test_two_proportion_z_against_a_hand_figure() -> None:
    # 16/20 vs 17/20: pooled 0.825, se = sqrt(0.825*0.175*0.1) = 0.120156…, z = 0.05/se = 0.41612…
    assert two_proportion_z(16, 20, 17, 20) == pytest.approx(0.416125, abs=1e-6)
    assert two_proportion_z(0, 0, 1, 2) is None


def test_report_by_arm_command(tmp_path: Path) -> None:
    _project(tmp_path, "[routing.experiment]\nthreshold = 0.6\n")
    ledger = Ledger(tmp_path / ".gearshift" / "ledger.db")
    _fill(ledger, "a", 6, approved=5, escalated=1, cost=0.03)
    _fill(ledger, "b", 6, approved=6, escalated=0, cost=0.04)
    ledger.close()
    env = {"PYTHONPATH": str(Path(__file__).parents[2] / "tui"), "PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-m", "gearshift", "report", str(tmp_path), "--by", "arm"]
    done = subprocess.run(run, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()[2:4]]
    assert rows[0][:5] == ["a", "0.75", "6", "5", "83%"] and rows[1][:5] == ["b", "0.60", "6", "6", "100%"]
    assert "b − a pass rate: +17 pts — within noise" in done.stdout
    as_json = json.loads(
        subprocess.run([*run, "--format", "json"], capture_output=True, text=True, env=env).stdout
    )
    assert [a["tasks"] for a in as_json["arms"]] == [6, 6]
    helped = subprocess.run(
        [sys.executable, "-m", "gearshift", "report", "--help"], capture_output=True, text=True, env=env
    )
    # argparse wraps help to the terminal's width: compare the words, not the line breaks
    assert "arm (the [routing.experiment] arms compared)" in " ".join(helped.stdout.split())
