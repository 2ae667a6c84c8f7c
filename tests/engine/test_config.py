"""Configuration: defaults mirror the article's template; every mistake is one clear error."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from gearshift.config import ConfigError, load_config


def write(root: Path, text: str, name: str = "gearshift.toml") -> Path:
    (root / name).write_text(text)
    return root


def test_defaults_mirror_the_template(tmp_path: Path) -> None:
    cfg = load_config(tmp_path)
    assert cfg.source == "(defaults)"
    assert cfg.routing.default_model == "claude-sonnet-4-6"
    assert cfg.routing.escalation_model == "claude-opus-4-7"
    assert cfg.batch_review_model.id == "claude-opus-4-7"  # the escalation model unless set
    assert cfg.routing.complexity_threshold == 0.75
    assert cfg.routing.max_latency_ms == 3000
    assert cfg.routing.interactive_fallback is True
    assert cfg.routing.always_escalate_scopes == ("security", "architecture")
    assert cfg.validation.checks == ("typescript_compile", "eslint_strict", "vitest_run")
    assert cfg.validation.escalation_on == "fail-logic"
    assert cfg.context.max_files == 15
    assert cfg.context.pruning_strategy == "dependency_graph"
    assert cfg.cost_tracking.tags == ("task_type", "team", "feature_branch")
    assert cfg.cost_tracking.alert_threshold_per_task == 0.50
    assert cfg.cost_tracking.session_budget_usd is None


def test_catalogue_prices(tmp_path: Path) -> None:
    cfg = load_config(tmp_path)
    sonnet, opus, haiku = cfg.model("claude-sonnet-4-6"), cfg.model("claude-opus-4-7"), cfg.model("haiku-4-5")
    assert (sonnet.input_per_mtok, sonnet.output_per_mtok) == (Decimal("3"), Decimal("15"))
    assert (sonnet.cache_write_5m_per_mtok, sonnet.cache_write_1h_per_mtok, sonnet.cache_read_per_mtok) == (
        Decimal("3.75"),
        Decimal("6"),
        Decimal("0.3"),
    )
    assert (
        opus.input_per_mtok,
        opus.output_per_mtok,
        opus.cache_write_5m_per_mtok,
        opus.cache_write_1h_per_mtok,
        opus.cache_read_per_mtok,
    ) == (Decimal("5"), Decimal("25"), Decimal("6.25"), Decimal("10"), Decimal("0.5"))
    assert (haiku.input_per_mtok, haiku.output_per_mtok, haiku.cache_read_per_mtok) == (
        Decimal("1"),
        Decimal("5"),
        Decimal("0.1"),
    )


def test_a_new_model_is_one_table(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
[routing]
escalation_model = "claude-next"
[models.next]
id = "claude-next"
label = "Next"
input_per_mtok = 4
output_per_mtok = 20
cache_write_5m_per_mtok = 5
cache_write_1h_per_mtok = 8
cache_read_per_mtok = 0.4
""",
    )
    cfg = load_config(tmp_path)
    assert cfg.escalation_model.label == "Next"
    assert cfg.escalation_model.output_per_mtok == Decimal("20")


def test_a_model_without_a_label_is_named_by_its_id(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
[models.next]
id = "claude-next"
input_per_mtok = 4
output_per_mtok = 20
cache_write_5m_per_mtok = 5
cache_write_1h_per_mtok = 8
cache_read_per_mtok = 0.4
effort = "xhigh"
""",
    )
    cfg = load_config(tmp_path)
    assert (cfg.model("claude-next").label, cfg.model("claude-next").effort) == ("claude-next", "xhigh")
    assert cfg.model("claude-sonnet-4-6").label == "Sonnet 4.6"


def test_pyproject_tool_table(tmp_path: Path) -> None:
    write(tmp_path, "[tool.gearshift.routing]\ncomplexity_threshold = 0.5\n", "pyproject.toml")
    cfg = load_config(tmp_path)
    assert cfg.routing.complexity_threshold == 0.5
    assert "[tool.gearshift]" in cfg.source


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("[routing]\ncomplexity_threshold = 1.5\n", "routing.complexity_threshold", "between 0 and 1"),
        ("[routing]\ncomplexity_threshold = 'high'\n", "routing.complexity_threshold", "a number"),
        ("[routing]\nthreshold = 0.5\n", "routing.threshold", "known keys"),
        ("[routing]\ndefault_model = 'gpt-9'\n", "routing.default_model", "a model in the catalogue"),
        ("[routing]\nbatch_review_model = 'gpt-9'\n", "routing.batch_review_model", "a model in the catalogue"),
        (
            "[routing]\nalways_escalate_scopes = ['everything']\n",
            "routing.always_escalate_scopes[0]",
            "one of",
        ),
        ("[validation]\nchecks = ['prettier']\n", "validation.checks[0]", "built-in check"),
        ("[validation]\nenabled = 'yes'\n", "validation.enabled", "true or false"),
        (
            "[validation.commands.x]\nrun = 'make'\nkind = 'style'\n",
            "validation.commands.x.kind",
            '"syntax" or "logic"',
        ),
        ("[cost_tracking]\nsession_budget_usd = -3\n", "cost_tracking.session_budget_usd", "positive"),
        ("[models.sonnet-4-6]\ninput_per_mtok = -1\n", "models.sonnet-4-6.input_per_mtok", "≥ 0"),
        ("[models.sonnet-4-6]\ninput_per_mtok = nan\n", "models.sonnet-4-6.input_per_mtok", "a number"),
        ("[models.opus-4-7]\ncache_read_per_mtok = inf\n", "models.opus-4-7.cache_read_per_mtok", "a number"),
        ("[routing]\ncomplexity_threshold = nan\n", "routing.complexity_threshold", "a number"),
        ("[models.opus-4-7]\neffort = 'ultra'\n", "models.opus-4-7.effort", '"xhigh"'),
        ("[models.opus-4-7]\ntypical_latency_ms = -5\n", "models.opus-4-7.typical_latency_ms", "positive"),
        (
            "[validation.commands.x]\nrun = 'make'\ntimeout_s = -5\n",
            "validation.commands.x.timeout_s",
            "positive",
        ),
        ("[bogus]\nx = 1\n", "bogus", "one of the sections"),
        ("[routing\n", "(file)", "valid TOML"),
        ("# caf\xe9\n", "(file)", "UTF-8"),
    ],
)
def test_mistakes_name_file_key_and_expectation(tmp_path: Path, text: str, key: str, expected: str) -> None:
    (tmp_path / "gearshift.toml").write_bytes(text.encode("latin-1") if "caf" in text else text.encode())
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert info.value.key == key
    assert expected in info.value.expected
    assert str(tmp_path / "gearshift.toml") in str(info.value)


def test_cli_reports_config_error_with_exit_2_and_no_traceback(tmp_path: Path) -> None:
    write(tmp_path, "[routing]\ncomplexity_threshold = 2\n")
    (tmp_path / "tasks.toml").write_text('[[task]]\nid = "a"\nprompt = "x"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "gearshift", "run", str(tmp_path), "--headless", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "routing.complexity_threshold" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("[validation]\nescalation_on = 'always'\n", "validation.escalation_on", '"fail-logic" or "never"'),
        ("[validation]\nsandbox = 'maybe'\n", "validation.sandbox", '"auto", "required" or "off"'),
        ("[context]\npruning_strategy = 'all'\n", "context.pruning_strategy", '"dependency_graph" or "none"'),
        ("[session]\ncache_ttl = '2h'\n", "session.cache_ttl", '"5m" or "1h"'),
        ("[models.opus-4-7]\ntier = 'gold'\n", "models.opus-4-7.tier", '"default", "escalation" or "fast"'),
        ("[validation]\nescalation_on = 3\n", "validation.escalation_on", '"fail-logic" or "never"'),
    ],
)
def test_closed_set_fields_take_their_vocab_values_only(tmp_path: Path, text: str, key: str, expected: str) -> None:
    """Typed with vocab's Literal aliases, the config's closed-set fields are checked by their type."""
    (tmp_path / "gearshift.toml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert (info.value.key, info.value.expected) == (key, expected)


def test_closed_set_fields_read_their_values(tmp_path: Path) -> None:
    (tmp_path / "gearshift.toml").write_text(
        "[validation]\nescalation_on = 'never'\nsandbox = 'off'\n[session]\ncache_ttl = '1h'\n"
        "[models.haiku-4-5]\ntier = 'escalation'\n"
    )
    cfg = load_config(tmp_path)
    assert (cfg.validation.escalation_on, cfg.validation.sandbox, cfg.session.cache_ttl) == ("never", "off", "1h")
    assert cfg.model_by_id("claude-haiku-4-5").tier == "escalation"  # type: ignore[union-attr]
