"""The budgets never overshoot: the session cap and the daily cap, against a model that always
answers max_tokens and bills its input at the dearest tier.

The loopback model bills each request's input at 1 token per 2 bytes of its JSON (the floor of
the conservative rule) plus the tool system-prompt tokens, all as 1-hour cache writes, and
always writes max_tokens of output: the most a request can honestly be billed under that rule.
"""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from pathlib import Path

import pytest
from gearshift.config import load_config
from gearshift.ledger import Ledger
from gearshift.models.pricing import Usage, estimate_tokens
from gearshift.pipeline.metering import (
    MIN_MAX_TOKENS,
    TEXT_EDITOR_TOKENS,
    TOOL_USE_SYSTEM_TOKENS,
    BudgetExceeded,
    CostMeter,
    TaskCost,
    input_tokens_bound,
    naive_cost,
)
from gearshift.tasks import Task

from tests.engine.pipeline_project import make_project
from tests.engine.test_pipeline_integration import of, run
from tests.support.messages_server import MessagesServer, Reply

SONNET = "claude-sonnet-4-6"


def greedy_model(body: dict, headers: dict) -> Reply:
    sized = json.dumps([body.get("system", []), body["messages"], body.get("tools", [])], ensure_ascii=False)
    billed_in = len(sized.encode()) // 2 + TOOL_USE_SYSTEM_TOKENS + TEXT_EDITOR_TOKENS
    use = {
        "input_tokens": 0,
        "output_tokens": body["max_tokens"],
        "cache_creation_input_tokens": billed_in,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": billed_in},
    }
    return Reply.text("x" * 40, usage=use, stop_reason="max_tokens")


def tasks(n: int) -> list[Task]:
    return [
        Task(id=f"t{i}", prompt=f"Explain calc.total, take {i}", requires_validation=False) for i in range(n)
    ]


def ledger_sum(project: Path) -> float:
    ledger = Ledger.for_project(project)
    try:
        return sum(r["cost_usd"] for r in ledger.calls())
    finally:
        ledger.close()


async def test_a_one_dollar_session_budget_holds_against_a_model_that_always_spends_its_max(
    tmp_path: Path,
) -> None:
    project = make_project(tmp_path / "p", "[cost_tracking]\nsession_budget_usd = 1.00\n")
    with MessagesServer(greedy_model) as server:
        code, events = await run(project, server, tasks(12))
    sent = [r.json["max_tokens"] for r in server.message_requests]
    statuses = [t["status"] for t in events[-1]["tasks"]]
    # Several full calls, then calls with max_tokens lowered to fit, then refusals: mid-session.
    assert sent[0] == 8192 and len(sent) > 3
    assert any(MIN_MAX_TOKENS <= m < 8192 for m in sent)
    assert statuses[0] == "failed" and statuses[-1] == "over_budget"
    assert code == 1
    spent = ledger_sum(project)
    assert spent <= 1.00
    assert spent > 1.00 - 0.04  # it stopped only when what was left could not buy MIN_MAX_TOKENS
    assert events[-1]["total_cost_usd"] == pytest.approx(spent)
    blocked = of(events, "budget_blocked")
    assert blocked and all(b["spent_usd"] + b["worst_case_usd"] > 1.00 for b in blocked)


async def test_the_daily_budget_holds_across_two_sessions(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", "[cost_tracking]\ndaily_budget_usd = 0.50\n")
    with MessagesServer(greedy_model) as server:
        await run(project, server, tasks(2))
        first = ledger_sum(project)
        assert 0.2 < first <= 0.50
        _, events = await run(
            project, server, [Task(id=f"n{i}", prompt="More", requires_validation=False) for i in range(6)]
        )
    statuses = [t["status"] for t in events[-1]["tasks"]]
    assert statuses[-1] == "over_budget"
    assert "today's budget" in events[-1]["tasks"][-1]["error"]
    assert {b["budget"] for b in of(events, "budget_blocked")} == {"daily"}
    assert all(b["cap_usd"] == 0.50 for b in of(events, "budget_blocked"))
    assert ledger_sum(project) <= 0.50
    # The second process spent only what the first one left.
    assert 0 < ledger_sum(project) - first <= 0.50 - first


def meter(tmp_path: Path, extra: str) -> CostMeter:
    make_project(tmp_path / "m", extra)
    return CostMeter(load_config(tmp_path / "m"))


# The daily cap without a ledger to read (no `spent_today`) counts this session's calls in flight too.
@pytest.mark.parametrize("cap", ["session_budget_usd", "daily_budget_usd"])
def test_a_call_in_flight_holds_its_worst_case(tmp_path: Path, cap: str) -> None:
    m = meter(tmp_path, f"[cost_tracking]\n{cap} = 0.20\n")
    sonnet = m.config.model(SONNET)
    first = m.reserve(sonnet, 1000, 8192)
    assert first.max_tokens == 8192
    # A second call while the first is out may use only what the first's worst case leaves.
    second = m.reserve(sonnet, 1000, 8192)
    assert second.max_tokens < 8192
    assert first.worst + second.worst <= Decimal("0.20")
    with pytest.raises(BudgetExceeded):
        m.reserve(sonnet, 1000, 8192)
    m.release(first)
    m.release(second)
    assert m.reserved == 0
    assert m.reserve(sonnet, 1000, 8192).max_tokens == 8192


def test_max_tokens_is_lowered_to_fit_and_refused_below_the_minimum(tmp_path: Path) -> None:
    m = meter(tmp_path, "[cost_tracking]\nsession_budget_usd = 0.05\n")
    sonnet = m.config.model(SONNET)
    allowed = m.reserve(sonnet, 2000, 8192)
    # $0.05 - 2000 tokens at $6/Mtok (the dearest input tier) leaves $0.038: 2533 tokens at $15/Mtok.
    assert allowed.max_tokens == 2533 and allowed.worst <= Decimal("0.05")
    m.release(allowed)
    with pytest.raises(BudgetExceeded) as refused:
        m.reserve(sonnet, 7000, 8192)  # $0.042 of input leaves room for 533 tokens < 1024
    assert refused.value.which == "session" and refused.value.cap == Decimal("0.05")


def test_the_input_bound_counts_the_tools_documented_tokens_and_exceeds_chars_over_4() -> None:
    system = [{"type": "text", "text": "x" * 4000}]
    messages = [{"role": "user", "content": "é" * 1000}]
    editor = [{"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"}]
    bare = input_tokens_bound(system, messages, [])
    with_editor = input_tokens_bound(system, messages, editor)
    assert with_editor - bare >= TOOL_USE_SYSTEM_TOKENS + TEXT_EDITOR_TOKENS
    assert bare >= (4000 + 2000) // 2  # one token per 2 UTF-8 bytes at most: é is 2 bytes
    assert bare > estimate_tokens(json.dumps([system, messages]))  # the old characters ÷ 4


# -- The meter's arithmetic, exactly (each of these killed surviving mutants: bench/mutation/) ---


def test_the_input_bound_by_hand() -> None:
    # '[[], [], []]' is 12 bytes: 6 tokens, +10 % → 6.6 → 7, + 64 of framing.
    assert input_tokens_bound([], [], []) == 71
    # 6071 bytes of JSON (é is 2 bytes in UTF-8, 6 as an ASCII escape) → 3036 tokens → 3339.6 → 3340 + 64.
    system = [{"type": "text", "text": "x" * 4000}]
    assert input_tokens_bound(system, [{"role": "user", "content": "é" * 1000}], []) == 3404
    # A tool that is not the editor adds the tool-use system prompt only:
    # '[[], [], [{"name": "signoff"}]]' is 31 bytes → 16 + 346 = 362 → 398.2 → 399 + 64.
    assert input_tokens_bound([], [], [{"name": "signoff"}]) == 463


def test_the_naive_baseline_of_one_call_by_hand(tmp_path: Path) -> None:
    opus = meter(tmp_path, "").config.escalation_model
    # All of its input (100 + 1000 read from the cache) plus 500 tokens of naive context, uncached,
    # at Opus's $5/Mtok; 10 output tokens at $25/Mtok.
    assert naive_cost(opus, Usage(input=100, output=10, cache_read=1000), 500) == Decimal("0.00825")
    # A context smaller than what was sent never makes the input negative.
    assert naive_cost(opus, Usage(input=100, output=10), -500) == Decimal("0.00025")


def test_budget_exceeded_says_which_budget_and_what_to_do() -> None:
    session = BudgetExceeded(Decimal("0.9"), Decimal("0.2"), Decimal("1"))
    assert session.which == "session"
    assert str(session) == (
        "session budget $1.00 would be broken: spent $0.9000, this call could cost up to $0.2000 even with "
        "max_tokens at 1024 — raise cost_tracking.session_budget_usd (and start gearshift again) to continue"
    )
    daily = BudgetExceeded(Decimal("0.45"), Decimal("0.1"), Decimal("0.5"), "daily", 900)
    assert str(daily) == (
        "today's budget $0.50 would be broken: spent $0.4500, this call could cost up to $0.1000 even with "
        "max_tokens at 900 — raise cost_tracking.daily_budget_usd or wait for tomorrow (local time) to continue"
    )


def test_the_meter_adds_every_figure_per_task_per_model_and_per_session(tmp_path: Path) -> None:
    m = meter(tmp_path, "")
    sonnet, opus = m.config.model(SONNET), m.config.escalation_model
    m.add("t1", sonnet, Usage(input=1000, output=100), latency_ms=250.0, context_delta=200)
    m.add("t1", opus, Usage(input=2000, output=10))
    m.add("t2", sonnet, Usage(output=1000))
    # t1: Sonnet 1000×$3 + 100×$15 = $0.0045; Opus 2000×$5 + 10×$25 = $0.01025.
    t1 = m.tasks["t1"]
    assert (t1.cost, t1.calls, t1.latency_ms) == (Decimal("0.01475"), 2, 250.0)
    # At Opus's prices: 1000×$5 + 100×$25 = $0.0075, plus the Opus call itself.
    assert t1.escalation_equiv == Decimal("0.01775")
    # Naive: the first call's input grows by its 200 tokens of context delta (1200×$5 + 100×$25);
    # a call booked without a delta gets none.
    assert t1.naive == Decimal("0.0085") + Decimal("0.01025")
    assert t1.usage == Usage(input=3000, output=110)
    assert m.session == Decimal("0.01475") + Decimal("0.015")
    assert m.session_equiv == Decimal("0.01775") + Decimal("0.025")
    assert m.session_naive == t1.naive + Decimal("0.025")
    assert m.by_model == {SONNET: Decimal("0.0045") + Decimal("0.015"), opus.id: Decimal("0.01025")}
    assert m.tasks["t2"].latency_ms == 0.0 and m.tasks["t2"].calls == 1


def test_a_retried_tasks_cost_since_a_base_is_only_what_came_after() -> None:
    base = TaskCost(Decimal("1"), Decimal("2"), Decimal("3"), Usage(1, 2, 3, 4, 5), 2, 100.0, False)
    now = TaskCost(Decimal("1.5"), Decimal("2.75"), Decimal("4"), Usage(11, 12, 13, 14, 15), 5, 160.0, True)
    assert now.since(base) == TaskCost(
        Decimal("0.5"), Decimal("0.75"), Decimal("1"), Usage(10, 10, 10, 10, 10), 3, 60.0, True
    )


def test_the_cost_alert_fires_once_strictly_above_the_threshold(tmp_path: Path) -> None:
    m = meter(tmp_path, "[cost_tracking]\nalert_threshold_per_task = 0.015\n")
    sonnet = m.config.model(SONNET)
    m.add("t", sonnet, Usage(output=1000))  # exactly $0.015: not above it
    assert m.crossed_alert("t") is False
    m.add("t", sonnet, Usage(output=1))
    assert m.crossed_alert("t") is True
    assert m.tasks["t"].alerted is True
    m.add("t", sonnet, Usage(output=1000))
    assert m.crossed_alert("t") is False  # once per task
    assert m.crossed_alert("other") is False


def test_no_cost_alert_when_tracking_is_off_or_the_threshold_is_zero(tmp_path: Path) -> None:
    for extra in (
        "[cost_tracking]\nenabled = false\nalert_threshold_per_task = 0.01\n",
        "[cost_tracking]\nalert_threshold_per_task = 0\n",
    ):
        m = meter(tmp_path / str(len(extra)), extra)
        m.add("t", m.config.model(SONNET), Usage(output=100_000))  # $1.50
        assert m.crossed_alert("t") is False, extra


def test_exactly_the_minimum_fits_and_a_refusal_names_the_floor_it_tried(tmp_path: Path) -> None:
    # 1000 input tokens at the dearest $6/Mtok is $0.006; 1024 output tokens at $15/Mtok is $0.01536.
    m = meter(tmp_path, "[cost_tracking]\nsession_budget_usd = 0.02136\n")
    sonnet = m.config.model(SONNET)
    exact = m.reserve(sonnet, 1000, 8192)
    assert (exact.max_tokens, exact.worst, exact.input_tokens) == (1024, Decimal("0.02136"), 1000)
    m.release(exact)
    # A call asking for fewer than the minimum is refused at what it asked for, not at 1024.
    with pytest.raises(BudgetExceeded) as refused:
        m.reserve(sonnet, 3500, 500)  # $0.021 of input leaves $0.00036: 24 tokens < 500
    assert "even with max_tokens at 500" in str(refused.value)
    assert refused.value.worst == Decimal("0.0285")  # 3500×$6 + 500×$15, per million


def test_a_model_with_free_or_cheap_output_is_limited_by_its_input_alone(tmp_path: Path) -> None:
    m = meter(tmp_path, "[cost_tracking]\nsession_budget_usd = 0.006\n")
    sonnet = m.config.model(SONNET)
    free = dataclasses.replace(sonnet, output_per_mtok=Decimal(0))
    fits = m.reserve(free, 1000, 8192)  # $0.006 of input: the room left is exactly 0
    assert fits.max_tokens == 8192 and fits.worst == Decimal("0.006")
    m.release(fits)
    for max_tokens in (8192, 1):  # even a one-token answer does not fit
        with pytest.raises(BudgetExceeded):
            m.reserve(free, 1001, max_tokens)
    cheap = dataclasses.replace(sonnet, output_per_mtok=Decimal("0.5"))
    lowered = m.reserve(cheap, 500, 8192)  # $0.003 left buys 6000 tokens at $0.50/Mtok
    assert lowered.max_tokens == 6000
