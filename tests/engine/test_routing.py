"""Routing: the article's weights, the added signals, and the rules that fix its mis-routes."""

from __future__ import annotations

from pathlib import Path

import pytest
from gearshift.config import load_config
from gearshift.routing.policy import decide
from gearshift.routing.score import score_task
from gearshift.tasks import Task


@pytest.fixture
def config(tmp_path: Path):
    return load_config(tmp_path)


@pytest.mark.parametrize(
    ("scope", "expected"),
    [("single-file", 0.0), ("multi-module", 0.3), ("architecture", 0.5), ("security", 0.6)],
)
def test_scope_weights_are_the_articles(scope: str, expected: float) -> None:
    c = score_task(Task(id="t", prompt="Add a helper", scope=scope), paths=[])
    assert c.score == expected


def test_many_files_and_cap() -> None:
    files = tuple(f"m{i}.py" for i in range(11))
    c = score_task(
        Task(id="t", prompt="Refactor", scope="security", context_files=files),
        paths=list(files),
        fanout=40,
        lines=5000,
    )
    names = {s.name for s in c.signals}
    assert {"scope:security", "many_context_files", "dependency_fanout", "lines_involved"} <= names
    assert c.score == 1.0  # 0.6 + 0.2 + 0.2 + 0.15 capped


def test_fanout_and_lines_tiers() -> None:
    t = Task(id="t", prompt="Tidy", scope="single-file")
    assert score_task(t, paths=[], fanout=3).score == 0.0
    assert score_task(t, paths=[], fanout=8).score == 0.1
    assert score_task(t, paths=[], lines=700).score == 0.1
    assert score_task(t, paths=[], lines=2000).score == 0.15


def test_security_words_in_prompt_or_path() -> None:
    by_prompt = score_task(Task(id="t", prompt="Store the password hash"), paths=[])
    by_path = score_task(Task(id="t", prompt="Tidy"), paths=["app/auth/session.py"])
    plain = score_task(Task(id="t", prompt="Tidy the cart"), paths=["shop/cart.py"])
    assert by_prompt.score == 0.2 and "password" in by_prompt.signals[0].detail
    assert by_path.score == 0.2
    assert plain.score == 0.0 and plain.signals == ()


@pytest.mark.parametrize(
    ("prompt", "paths", "term"),
    [
        ("Audit the login flow", [], "login"),
        ("Rotate the API token", [], "token"),
        ("Hash passwords with bcrypt", [], "hash"),
        ("Tidy", ["shop/auth.py"], "auth"),
        ("Tidy", ["src/auth/views.py"], "auth"),
        ("Fix shop/auth.py", [], "auth"),
        ("Add a password-reset form", [], "password"),
        ("Rename hash_password", [], "hash"),
        ("Expire old sessions", [], "sessions"),
        ("Authorize the request", [], "authorize"),
        ("Move to the crypto module", [], "crypto"),
        ("Keep the secret out of the logs", [], "secret"),
        ("Check authn before authz", [], "authn"),
    ],
)
def test_security_words_are_whole_words_or_path_parts(prompt: str, paths: list[str], term: str) -> None:
    c = score_task(Task(id="t", prompt=prompt), paths=paths)
    assert c.score == 0.2
    (signal,) = c.signals
    assert signal.name == "security_sensitive" and term in signal.detail.removeprefix("mentions ").split(", ")


@pytest.mark.parametrize(
    ("prompt", "paths"),
    [
        ("Show the book author", []),
        ("Make it hashable", []),
        ("Add a tokenizer", []),
        ("Validate the session-length option", []),
        ("Tidy", ["shop/authors.py", "lib/tokenizer.py"]),
        ("Use a hashmap for the cart", []),
    ],
)
def test_words_that_merely_contain_a_security_word_are_not_flagged(prompt: str, paths: list[str]) -> None:
    c = score_task(Task(id="t", prompt=prompt), paths=paths)
    assert c.score == 0.0 and c.signals == ()


def test_security_scope_goes_to_opus_by_rule_not_by_score(config) -> None:
    task = Task(id="t", prompt="Audit the login flow", scope="security")
    c = score_task(task, paths=[])
    assert c.score < config.routing.complexity_threshold  # the article's scorer alone would pick Sonnet
    d = decide(task, c, config)
    assert d.model.id == "claude-opus-4-7" and d.rule == "always-escalate"


def test_threshold_rule(config) -> None:
    files = tuple(f"m{i}.py" for i in range(12))
    task = Task(id="t", prompt="Move the cache", scope="multi-module", context_files=files)
    c = score_task(task, paths=list(files), fanout=12, lines=2000)
    d = decide(task, c, config)
    assert c.score >= 0.75 and d.rule == "threshold" and d.model.id == "claude-opus-4-7"
    low = decide(
        Task(id="u", prompt="x", scope="multi-module"),
        score_task(Task(id="u", prompt="x", scope="multi-module"), paths=[]),
        config,
    )
    assert low.rule == "below-threshold" and low.model.id == "claude-sonnet-4-6"


def test_interactive_latency_fallback(config) -> None:
    task = Task(id="t", prompt="How should I split this module?", scope="architecture", interactive=True)
    d = decide(task, score_task(task, paths=[]), config)
    assert d.model.id == "claude-sonnet-4-6" and d.rule == "latency-fallback"
    assert "7500" in d.explanation and "3000" in d.explanation
    fast = decide(task, score_task(task, paths=[]), config, expected_latency_ms=lambda m: 1000.0)
    assert fast.model.id == "claude-opus-4-7" and fast.rule == "always-escalate"


def test_forcing_wins_over_everything(config) -> None:
    task = Task(id="t", prompt="Audit", scope="security", interactive=True)
    assert decide(task.forced("default"), score_task(task, paths=[]), config).model.id == "claude-sonnet-4-6"
    forced = decide(task.forced("escalation"), score_task(task, paths=[]), config)
    assert forced.model.id == "claude-opus-4-7" and forced.rule == "forced-escalation"


def test_the_score_and_its_signals_serialise_with_their_names() -> None:
    c = score_task(Task(id="t", prompt="Rotate the token", scope="multi-module"), paths=[])
    assert c.to_dict() == {
        "score": 0.5,
        "signals": [
            {"name": "scope:multi-module", "weight": 0.3, "detail": "declared scope multi-module"},
            {"name": "security_sensitive", "weight": 0.2, "detail": "mentions token"},
        ],
    }


# -- Exact explanations and boundaries (each of these killed surviving mutants: bench/mutation/) --


def test_every_rule_explains_itself_exactly(config) -> None:
    plain = Task(id="t", prompt="Tidy", scope="multi-module")
    c = score_task(plain, paths=[])  # 0.30
    below = decide(plain, c, config)
    assert below.explanation == "score 0.30 < threshold 0.75" and below.complexity is c
    assert below.threshold == 0.75 and below.arm is None
    big = Task(id="t", prompt="Move", scope="multi-module", context_files=tuple(f"m{i}" for i in range(11)))
    high = score_task(big, paths=[], fanout=12, lines=2000)  # 0.3 + 0.2 + 0.15 + 0.15
    assert decide(big, high, config).explanation == "score 0.80 ≥ threshold 0.75"
    audit = Task(id="t", prompt="Audit", scope="security")
    a = score_task(audit, paths=[])
    assert (
        decide(audit, a, config).explanation == "scope 'security' is in always_escalate_scopes (score 0.60)"
    )
    assert decide(plain.forced("default"), c, config).explanation == "forced to the default model by the user"
    forced = decide(plain.forced("escalation"), c, config)
    assert forced.explanation == "forced to the escalation model by the user" and forced.complexity is c
    review = Task(id="r", prompt="Review", kind="review")
    batch = decide(review, c, config, batch=True)
    assert batch.rule == "batch-review" and batch.explanation == (
        "review in a batch run → routing.batch_review_model Opus 4.7 (score 0.30)"
    )


def test_a_latency_exactly_at_the_limit_is_allowed(config) -> None:
    task = Task(id="t", prompt="How should I split this module?", scope="architecture", interactive=True)
    at_limit = decide(task, score_task(task, paths=[]), config, expected_latency_ms=lambda m: 3000.0)
    assert at_limit.rule == "always-escalate"
    over = decide(task, score_task(task, paths=[]), config, expected_latency_ms=lambda m: 3000.5)
    assert over.rule == "latency-fallback"


def test_signal_boundaries_and_details() -> None:
    t = Task(id="t", prompt="Tidy", scope="single-file")
    ten = Task(id="t", prompt="Tidy", context_files=tuple(f"m{i}.py" for i in range(10)))
    assert score_task(ten, paths=[]).signals == ()  # more than ten, not ten
    eleven = Task(id="t", prompt="Tidy", context_files=tuple(f"m{i}.py" for i in range(11)))
    assert score_task(eleven, paths=[]).signals[0].detail == "11 context files (> 10)"
    four = score_task(t, paths=[], fanout=4)
    assert four.score == 0.05 and four.signals[0].detail == "4 files import or are imported by them"
    assert score_task(t, paths=[], fanout=7).score == 0.05  # whole steps of four only
    assert score_task(t, paths=[], lines=600).signals == ()
    lines = score_task(t, paths=[], lines=601)
    assert lines.score == 0.1 and lines.signals[0].detail == "601 lines in the files involved (> 600)"
    assert score_task(t, paths=[], lines=1500).score == 0.1
    scoped = score_task(Task(id="t", prompt="Tidy", scope="architecture"), paths=[])
    assert scoped.signals[0].detail == "declared scope architecture"


def test_security_terms_name_at_most_five_and_a_path_is_read_on_its_own() -> None:
    many = Task(id="t", prompt="login password token secret csrf jwt")
    (signal,) = score_task(many, paths=[]).signals
    assert signal.detail == "mentions login, password, token, secret, csrf"
    assert score_task(Task(id="t", prompt="Tidy"), paths=["auth.py"]).score == 0.2
