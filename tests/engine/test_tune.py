"""`gearshift tune` on synthetic ledgers whose best threshold is known by hand.

The ledger (24 tasks, threshold 0.75 today): twelve easy tasks (score 0.2) pass on Sonnet for
$0.006; six at 0.6 fail on Sonnet ($0.006) and Opus fixes them ($0.020); six at 0.8 start on Opus
and pass ($0.020). Sending the 0.6 tasks straight to Opus saves their wasted Sonnet attempt and
keeps every pass: 0.60 is the best threshold, at $0.312 against today's $0.348.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from gearshift.config import load_config
from gearshift.ledger import Ledger
from gearshift.tune import THRESHOLDS, build_tune, format_tune

SONNET, OPUS = "claude-sonnet-4-6", "claude-opus-4-7"


def attempt(n: int, model: str, kind: str, outcome: str, inp: int, out: int, usd: float) -> dict:
    return {
        "attempt": n,
        "model": model,
        "kind": kind,
        "outcome": outcome,
        "cost_usd": usd,
        "input": inp,
        "output": out,
        "cache_write": 0,
        "cache_read": 0,
    }


def book(
    ledger: Ledger,
    task_id: str,
    score: float,
    log: list[dict],
    rule: str,
    scope: str = "single-file",
    status: str = "approved",
) -> None:
    ledger.record_task(
        {
            "id": task_id,
            "status": status,
            "scope": scope,
            "complexity": {"score": score, "signals": []},
            "rule": rule,
            "threshold": 0.75,
            "route": [a["model"] for a in log],
            "cost_usd": round(sum(a["cost_usd"] for a in log), 8),
            "attempt_log": log,
        },
        {},
        OPUS,
    )


def book_easy(ledger: Ledger, n: int) -> None:
    """`n` tasks at 0.2 that Sonnet passes at once for $0.006."""
    for i in range(n):
        log = [attempt(1, SONNET, "initial", "pass", 1000, 200, 0.006)]
        book(ledger, f"easy{i}", 0.2, log, "below-threshold")


def known_ledger(path: Path, easy: int = 12) -> Ledger:
    ledger = Ledger(path)
    # Sonnet 1000 in / 200 out = $0.006 (at Opus prices $0.010); Opus 2000 / 400 = $0.020 ($0.012 at Sonnet's).
    book_easy(ledger, easy)
    for i in range(6):
        log = [
            attempt(1, SONNET, "initial", "fail-logic", 1000, 200, 0.006),
            attempt(2, OPUS, "escalation", "pass", 2000, 400, 0.02),
        ]
        book(ledger, f"mid{i}", 0.6, log, "below-threshold", scope="multi-module")
    for i in range(6):
        book(ledger, f"hard{i}", 0.8, [attempt(1, OPUS, "initial", "pass", 2000, 400, 0.02)], "threshold")
    return ledger


@pytest.fixture
def config(tmp_path: Path):
    return load_config(tmp_path)


def test_the_known_best_threshold_is_recommended(tmp_path: Path, config) -> None:
    tune = build_tune(known_ledger(tmp_path / "l.db"), config)
    assert tune["tasks"] == 24 and tune["notes"] == []
    by = {w["threshold"]: w for w in tune["what_if"]}
    assert list(by) == list(THRESHOLDS) and THRESHOLDS[0] == 0.30 and THRESHOLDS[-1] == 0.95
    # 0.30–0.60: the 0.6 tasks start on Opus at their own Opus cost: 12×0.006 + 6×0.02 + 6×0.02.
    assert by[0.6]["estimated_cost_usd"] == pytest.approx(0.312)
    assert (by[0.6]["start_on_escalation"], by[0.6]["expected_escalations"]) == (12, 0)
    # 0.65–0.80 is what happened: 12×0.006 + 6×(0.006+0.02) + 6×0.02.
    assert by[0.75]["estimated_cost_usd"] == pytest.approx(0.348) == tune["today"]["cost_usd"]
    assert (by[0.75]["start_on_escalation"], by[0.75]["expected_escalations"]) == (6, 6)
    # 0.85–0.95: the 0.8 tasks would start on Sonnet; the nearest band with Sonnet data (0.6)
    # says Sonnet fails there, so each costs its tokens at Sonnet prices ($0.012) plus its Opus $0.02.
    assert by[0.9]["estimated_cost_usd"] == pytest.approx(0.072 + 0.156 + 6 * 0.032)
    assert by[0.9]["expected_escalations"] == 12
    assert all(w["estimated_pass_rate"] == 1.0 for w in tune["what_if"])
    assert tune["recommended_threshold"] == 0.6  # ties at 0.30–0.60 go to the highest

    bands = {b["key"]: b for b in tune["bands"]}
    assert bands["0.6–0.7"]["first_attempt_pass_rate"] == 0.0 and bands["0.6–0.7"]["escalation_rate"] == 1.0
    assert bands["0.6–0.7"]["mean_cost_by_route"] == {"Sonnet 4.6 → Opus 4.7": 0.026}
    assert bands["0.2–0.3"]["first_attempt_pass_rate"] == 1.0
    assert bands["0.8–0.9"]["started_on_default"] == 0 and bands["0.8–0.9"]["first_attempt_pass_rate"] is None
    assert {s["key"]: s["tasks"] for s in tune["scopes"]} == {"multi-module": 6, "single-file": 18}

    table = format_tune(tune)
    assert "0.60 ← recommended" in table and "0.75 ← today" in table
    assert (
        "recommended: complexity_threshold = 0.60" in table
        and "method: tasks that would start on Opus 4.7" in table
    )
    rows = list(csv.reader(io.StringIO(format_tune(tune, "csv"))))
    assert ["what_if", "0.60", "12", "0.3120", "0.0", "100%"] in rows
    assert json.loads(format_tune(tune, "json"))["recommended_threshold"] == 0.6


def test_a_cheaper_threshold_that_loses_passes_is_not_recommended(tmp_path: Path, config) -> None:
    """Sonnet passes 4 of 6 tasks at 0.6 alone and fails 2 for good (no escalation); Opus (5000 in /
    1000 out = $0.05, $0.03 at Sonnet prices) passes six at 0.8. Above 0.80 those six would go to
    Sonnet: cheaper ($0.03 each) but passing only 4 in 6 — so 0.80, not 0.85, is recommended."""
    ledger = Ledger(tmp_path / "l.db")
    book_easy(ledger, 12)
    for i in range(6):
        log = [attempt(1, SONNET, "initial", "pass" if i < 4 else "fail-syntax", 1000, 200, 0.006)]
        book(ledger, f"mid{i}", 0.6, log, "below-threshold", status="approved" if i < 4 else "failed")
    for i in range(6):
        book(ledger, f"hard{i}", 0.8, [attempt(1, OPUS, "initial", "pass", 5000, 1000, 0.05)], "threshold")
    tune = build_tune(ledger, config)
    assert tune["today"]["pass_rate"] == pytest.approx(22 / 24, abs=1e-4)
    by = {w["threshold"]: w for w in tune["what_if"]}
    assert by[0.9]["estimated_cost_usd"] == pytest.approx(0.072 + 0.036 + 6 * 0.03)
    assert by[0.9]["estimated_pass_rate"] == pytest.approx(20 / 24, abs=1e-4)
    assert by[0.9]["expected_escalations"] == 0
    # Below 0.65 the 0.6 tasks start on Opus: their Sonnet tokens at Opus prices ($0.010), all pass.
    assert by[0.5]["estimated_cost_usd"] == pytest.approx(0.072 + 0.06 + 0.3)
    assert by[0.5]["estimated_pass_rate"] == 1.0
    assert by[0.75]["estimated_cost_usd"] == pytest.approx(0.408)
    assert tune["recommended_threshold"] == 0.8


def test_too_few_tasks_and_thin_bands_are_said(tmp_path: Path, config) -> None:
    tune = build_tune(known_ledger(tmp_path / "l.db", easy=4), config)  # 16 tasks, a band of 4
    assert tune["recommended_threshold"] is None
    assert any("too few tasks to recommend a threshold: 16 scored" in n for n in tune["notes"])
    assert any("fewer than 5 tasks" in n and "0.2" in n for n in tune["notes"])
    assert "0.2–0.3 (thin)" in format_tune(tune)


def test_tune_command(tmp_path: Path) -> None:
    env_path = str(Path(__file__).parents[2] / "tui")
    known_ledger(tmp_path / ".gearshift" / "ledger.db").close()
    run = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "gearshift", "tune", str(tmp_path), *a],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
    )
    done = run()
    assert done.returncode == 0 and "recommended: complexity_threshold = 0.60" in done.stdout
    assert json.loads(run("--format", "json").stdout)["tasks"] == 24
    bad = run("--format", "xml")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr and "Traceback" not in bad.stderr
    empty = subprocess.run(
        [sys.executable, "-m", "gearshift", "tune", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
    )
    assert empty.returncode == 2 and "no such project folder" in empty.stderr


def test_cache_writes_are_repriced_at_the_configured_ttl(tmp_path: Path) -> None:
    from gearshift.tune import Estimator, read_facts

    ledger = Ledger(tmp_path / "l.db")
    log = [attempt(1, SONNET, "initial", "pass", 0, 0, 0.00375)]
    log[0]["cache_write"] = 1000  # 1000 written at Sonnet's 5-minute price: $0.00375
    book(ledger, "cached", 0.5, log, "below-threshold")
    (facts,) = read_facts(ledger)
    for ttl, opus_price in (("5m", 0.00625), ("1h", 0.01)):  # Opus writes: $6.25 / $10 per Mtok
        cfg = load_config(_project_with_ttl(tmp_path / ttl, ttl))
        estimator = Estimator([facts], cfg.default_model, cfg.escalation_model, cfg.session.cache_ttl)
        cost, passes, escalations, on_escalation = estimator.task(facts, threshold=0.3)
        assert (passes, escalations, on_escalation) == (1.0, 0.0, True)
        assert cost == pytest.approx(opus_price)


def _project_with_ttl(root: Path, ttl: str) -> Path:
    root.mkdir()
    (root / "gearshift.toml").write_text(f'[session]\ncache_ttl = "{ttl}"\n')
    return root
