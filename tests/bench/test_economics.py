"""The economics benchmark's own tests (bench/economics), on its smallest project.

They build a real task from the pinned tomlkit sdist (downloaded from the package index once, hash
checked), prove its oracle tells the reference from the broken code and from a wrong fix, and run
two arms end to end through gearshift and the simulated model — the same code `run.py` runs.
"""

from __future__ import annotations

import json
import math
import sys
import tarfile
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "economics"
sys.path.insert(0, str(BENCH))

import corpus  # noqa: E402
import counting  # noqa: E402
import mutate  # noqa: E402
import outcomes  # noqa: E402
from gearshift.models.request_hash import without_cache_control  # noqa: E402

FUNC = '''    def pick(self, items, n):
        """Return the first n items that are positive."""
        out = []
        for item in items:
            if item > 0:
                out.append(item)
            if len(out) >= n:
                break
        return out
'''


def test_mutations_keep_the_signature_and_differ_in_one_place() -> None:
    broken = mutate.delete_body(FUNC)
    assert broken.startswith('    def pick(self, items, n):\n        """Return')
    assert mutate.REMOVED in broken and "out.append" not in broken
    wrong = mutate.wrong_variants(FUNC)
    assert set(wrong) == {"off_by_one", "dropped_branch", "syntax_slip"}
    assert "item > 1" in wrong["off_by_one"] or "item >= 0" in wrong["off_by_one"]
    assert "out.append" not in wrong["dropped_branch"] and "pass" in wrong["dropped_branch"]
    assert mutate.compiles(wrong["off_by_one"]) and mutate.compiles(wrong["dropped_branch"])
    assert not mutate.compiles(wrong["syntax_slip"])


def test_counting_caches_a_prefix_once_and_reads_it_back() -> None:
    system = [{"type": "text", "text": "x" * 8000, "cache_control": {"type": "ephemeral"}}]
    body = {"model": "m", "system": system, "messages": [{"role": "user", "content": "hi"}]}
    reply = [{"type": "text", "text": "y" * 400}]
    meter = counting.Meter(lambda _model: 1024)
    first = meter.bill(body, reply, 1.0)
    block_tokens = 2007  # the system block's compact JSON is 8,025 bytes: ÷ 4, rounded up
    assert first["cache_creation_input_tokens"] == block_tokens and first["cache_read_input_tokens"] == 0
    assert first["input_tokens"] == 7  # the user's "hi" as a text block: 27 bytes ÷ 4, rounded up
    second = meter.bill(body, reply, 1.0)
    assert second["cache_read_input_tokens"] == block_tokens and second["cache_creation_input_tokens"] == 0
    assert second["input_tokens"] == first["input_tokens"]
    # under the model's minimum the breakpoint neither writes nor reads
    small = counting.Meter(lambda _model: 4096)
    assert small.bill(body, reply, 1.0)["cache_creation_input_tokens"] == 0
    assert small.bill(body, reply, 1.0)["cache_read_input_tokens"] == 0
    # caching off: the same request is billed as fresh input throughout
    plain = counting.Meter(lambda _model: 1024).bill(without_cache_control(body), reply, 1.0)
    assert plain["cache_creation_input_tokens"] == plain["cache_read_input_tokens"] == 0
    assert plain["input_tokens"] == first["input_tokens"] + block_tokens
    # Opus's tokenizer factor scales every part, input and output
    assert first["output_tokens"] == 107  # {"type":"text","text":"y…"}: 425 bytes ÷ 4, rounded up
    scaled = counting.Meter(lambda _model: 1024).bill(body, reply, 1.2)
    assert scaled["output_tokens"] == 128  # 425 ÷ 4 × 1.2 = 127.5, rounded up
    assert scaled["cache_creation_input_tokens"] == 2408  # 8,025 ÷ 4 × 1.2 = 2407.5
    # a request with tools pays the tool-use system prompt in front, cached with its prefix
    with_tools = {**body, "tools": [{"name": "t", "description": "d", "input_schema": {"type": "object"}}]}
    tooled = counting.Meter(lambda _model: 1024).bill(with_tools, reply, 1.0)
    tool_tokens = math.ceil(len(json.dumps(with_tools["tools"][0], separators=(",", ":"))) / 4)
    assert tooled["cache_creation_input_tokens"] == 346 + tool_tokens + block_tokens


def test_outcome_draws_are_the_same_for_every_arm_and_follow_the_table() -> None:
    a, b = outcomes.OutcomeModel(seed=3), outcomes.OutcomeModel(seed=3)
    kinds = ["off_by_one", "syntax_slip"]
    draws = [a.draw(f"t{i}", "claude-sonnet-4-6", 0.1, 0, kinds) for i in range(400)]
    assert draws == [b.draw(f"t{i}", "claude-sonnet-4-6", 0.1, 0, kinds) for i in range(400)]
    right = draws.count("right") / len(draws)
    assert abs(right - outcomes.DEFAULT_TABLE[("sonnet", "low")]) < 0.06
    assert set(draws) <= {"right", *kinds}
    assert outcomes.OutcomeModel(seed=4).draw("t1", "claude-opus-4-7", 0.9, 0, kinds) in {"right", *kinds}
    assert all(
        a.with_sonnet(0.0).draw(f"t{i}", "claude-sonnet-4-6", 0.1, 0, kinds) != "right" for i in range(50)
    )
    assert outcomes.band(0.39) == "low" and outcomes.band(0.4) == "mid" and outcomes.band(0.75) == "high"


def test_a_sdist_whose_hash_differs_from_the_pin_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(corpus, "WORK", tmp_path)
    (tmp_path / "downloads").mkdir()
    fake = tmp_path / "downloads" / "evil-1.0.tar.gz"
    with tarfile.open(fake, "w:gz") as tar:
        tar.add(__file__, arcname="evil-1.0/setup.py")
    project = corpus.Project("evil", "1.0", fake.name, "0" * 64, "evil")
    with pytest.raises(RuntimeError, match="does not match the pin"):
        corpus.fetch(project)
    assert not fake.exists()  # the bad download is not kept


@pytest.fixture(scope="module")
def tomlkit_task() -> tuple[corpus.BenchTask, corpus.Project]:
    projects = corpus.load_projects()
    tasks = [t for t in corpus.load_tasks() if t.project == "tomlkit" and t.scope == "single-file"]
    assert tasks, "the corpus has single-file tomlkit tasks"
    return tasks[0], projects["tomlkit"]


def test_the_oracle_tells_the_reference_from_broken_and_wrong_code(tomlkit_task) -> None:
    import verify

    task, project = tomlkit_task
    built = verify.build_task(task, project)
    assert built["problems"] == []
    edit = built["edits"][0]
    assert edit["reference"] != edit["broken"] and mutate.REMOVED in edit["broken"]
    assert any(k != "syntax_slip" for k in edit["wrong"])  # a logic-wrong fix the tests reject
    assert 0.0 <= built["score"] <= 1.0


def test_two_arms_run_the_same_tasks_through_gearshift(tomlkit_task, tmp_path: Path) -> None:
    import run

    task, _ = tomlkit_task
    out = tmp_path / "results.json"
    assert (
        run.main(
            ["--tasks", task.id, "--arms", "cascade,naive-opus", "--jobs", "1", "--json", "--out", str(out)]
        )
        == 0
    )
    data = json.loads(out.read_text())
    report, runs = data["report"], data["runs"]
    assert [r["task"] for r in runs["cascade"]] == [r["task"] for r in runs["naive-opus"]] == [task.id]
    for arm in ("cascade", "naive-opus"):
        assert set(report["arms"][arm]) >= {"cost_usd", "pass_rate", "tasks"}
        assert report["arms"][arm]["tasks"] == 1 and report["arms"][arm]["cost_usd"] > 0
        assert report["arms"][arm]["unmatched_edits"] == 0
    assert report["ratio_vs_naive"] > 0 and "pass_ratio_vs_naive" in report
    # the naive loop never caches; gearshift's pipeline does
    assert report["arms"]["naive-opus"]["tokens"]["cache_read"] == 0
    assert report["arms"]["naive-opus"]["tokens"]["cache_write"] == 0
    assert report["arms"]["cascade"]["tokens"]["cache_write"] > 0
    # turns ≥ 2 (answers to a tool result) are counted, and read the conversation from cache
    later = runs["cascade"][0]["later_turns"]
    assert later["calls"] >= 1 and 0 < later["cache_read"] < later["input"]
    assert report["arms"]["cascade"]["later_turns_cache_share"] == round(
        later["cache_read"] / later["input"], 4
    )
    assert report["arms"]["naive-opus"]["later_turns_cache_share"] in (0.0, None)


def test_the_sweep_against_both_baselines_on_hand_computed_runs() -> None:
    import results

    def run(task: str, cost: float, passed: bool = True) -> dict:
        return {"task": task, "cost_usd": cost, "passed": passed}

    runs = {
        "sweep-sonnet-right": [run("a", 1.0), run("b", 2.0)],
        "sweep-sonnet-wrong": [run("a", 3.0), run("b", 5.0, passed=False)],
        "naive-opus": [run("a", 4.0), run("b", 6.0)],
        "all-opus": [run("a", 2.0), run("b", 4.0)],
    }
    sw = results.sweep(runs)
    half = next(pt for pt in sw["points"] if pt["sonnet_pass_rate"] == 0.5)
    assert half["cost_ratio"] == round((0.5 * 3 + 0.5 * 8) / 10, 4)  # 5.5 / 10
    assert half["cost_ratio_vs_all_opus"] == round(5.5 / 6, 4)
    assert half["pass_ratio"] == 0.75  # task b passes only when Sonnet is right
    assert sw["cost_ratio_at_p0"] == 0.8 and sw["cost_ratio_vs_all_opus_at_p0"] == round(8 / 6, 4)
    # cost(p) = 8 − 5p: equal to all-Opus's 6 at p = 0.4; never up to naive's 10
    assert sw["break_even_vs_all_opus_sonnet_pass_rate"] == 0.4
    assert sw["break_even_sonnet_pass_rate"] is None
    assert sw["target_cost_sonnet_pass_rate"] == 0.7  # 8 − 5p = 4.5
