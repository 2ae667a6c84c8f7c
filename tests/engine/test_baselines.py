"""The two named baselines against hand arithmetic, for one multi-turn task through the engine.

The project's calc.py imports rates.py; with pruning off only calc.py is sent, while the naive
context is calc.py plus rates.py whole — so every call that carried the context gets exactly
rates.py's tokens added in the naive baseline, and the escalation calls (a focused payload, no
context) do not.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from gearshift.ledger import Ledger
from gearshift.models.pricing import estimate_tokens

from tests.engine.pipeline_project import CALC, FIX_WRONG, WRONG, insert_after_total, make_project
from tests.engine.test_pipeline_integration import EDITOR, OPUS, SONNET, TASK, run, usage
from tests.support.messages_server import MessagesServer, Reply

RATES = "VAT = 20\n" + "# " + "r" * 387 + "\n"  # 400 characters: 100 tokens at 4 a token
CONFIG = """
[validation]
checks = ["python_compile", "pytest"]
[context]
pruning_strategy = "none"
"""


def test_same_calls_and_naive_baselines_match_hand_arithmetic(tmp_path: Path) -> None:
    import asyncio

    assert estimate_tokens(RATES) == 100
    project = make_project(tmp_path / "p")
    (project / "gearshift.toml").write_text(CONFIG)
    (project / "calc.py").write_text(CALC + "\n\nfrom rates import VAT  # noqa: E402\n")
    (project / "rates.py").write_text(RATES)
    server = MessagesServer(
        [
            Reply.tool_use(EDITOR, insert_after_total(WRONG), usage=usage(200, 120, write=1000)),
            Reply.text("Added.", usage=usage(300, 40, read=1000)),
            Reply.tool_use(EDITOR, FIX_WRONG, usage=usage(900, 150)),
            Reply.text("Fixed.", usage=usage(1100, 60)),
        ]
    )
    with server:
        code, events = asyncio.run(run(project, server, [TASK]))
    summary = events[-1]
    (task,) = summary["tasks"]
    assert code == 0 and task["route"] == [SONNET, OPUS]
    ctx = task["context"]
    assert ctx["tokens_naive"] - ctx["tokens_sent"] == 100  # rates.py, whole
    # Spent: Sonnet 200*3 + 120*15 + 1000*3.75 + 300*3 + 40*15 + 1000*0.3 = 7950 µ$;
    # Opus 900*5 + 150*25 + 1100*5 + 60*25 = 15250 µ$.
    assert Decimal(str(task["cost_usd"])) == Decimal("0.0232")
    # Same calls at Opus prices: 2500*5 + 370*25 + 1000*6.25 + 1000*0.5 = 28500 µ$.
    assert Decimal(str(task["baselines"]["same_calls_usd"])) == Decimal("0.0285")
    # Naive Opus: no cache (writes and reads become plain input), +100 context tokens on the two
    # Sonnet calls that carried the context, none on the escalation's:
    #   (200+1000+100)*5 + 120*25 = 9500;  (300+1000+100)*5 + 40*25 = 8000;
    #   900*5 + 150*25 = 8250;  1100*5 + 60*25 = 7000  → 32750 µ$.
    assert Decimal(str(task["baselines"]["naive_usd"])) == Decimal("0.03275")
    assert summary["baselines"] == {"same_calls_usd": 0.0285, "naive_usd": 0.03275, "model": OPUS}
    assert of_type(events, "session_finished")[0]["naive_cost_usd"] == 0.03275
    assert of_type(events, "cost_updated")[-1]["naive_usd"] == 0.03275

    ledger = Ledger.for_project(project)
    calls = list(ledger.calls())
    assert [round(r["naive_usd"], 8) for r in calls] == [0.0095, 0.008, 0.00825, 0.007]
    (row,) = list(ledger.tasks())
    assert (row["same_calls_usd"], row["naive_usd"]) == (0.0285, 0.03275)
    assert (row["score"], row["scope"], row["rule"], row["threshold"]) == (
        task["complexity"]["score"],
        "single-file",
        "below-threshold",
        0.75,
    )
    assert row["first_outcome"] == "fail-logic"
    log = [(a["attempt"], a["model"], a["kind"], a["outcome"], a["cost_usd"]) for a in task["attempt_log"]]
    assert log == [(1, SONNET, "initial", "fail-logic", 0.00795), (2, OPUS, "escalation", "pass", 0.01525)]
    assert task["attempt_log"][0]["input"] == 500 and task["attempt_log"][1]["output"] == 210

    from gearshift.report import build_report, format_report

    report = build_report(ledger, by="model", escalation_label="Opus 4.7")
    assert report["total"]["naive_usd"] == 0.03275
    assert round(report["total"]["savings_vs_naive_usd"], 6) == round(0.03275 - 0.0232, 6)
    table = format_report(report, "table")
    assert "naive = naive Opus 4.7: Opus 4.7 with no pruning" in table
    assert "same calls = same calls at Opus 4.7 prices" in table
    ledger.close()


def of_type(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["type"] == kind]


def test_the_headless_closing_line_names_both_baselines() -> None:
    from gearshift.headless import baseline_line

    summary = {"total_cost_usd": 0.0232, "baselines": {"same_calls_usd": 0.0285, "naive_usd": 0.03275}}
    assert baseline_line(summary, "Opus 4.7") == (
        "total $0.0232 — same calls at Opus 4.7 prices $0.0285; "
        "naive Opus 4.7 (no pruning, no cache, same turns) $0.0328"
    )
