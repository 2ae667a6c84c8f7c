"""Property: whatever gearshift.toml and tasks.toml hold, `gearshift run` either accepts them or
exits 2 with one line on stderr — never a traceback, never an internal error later.

The CLI entry function runs in-process; the run itself (the part after loading) is replaced by a
stub that returns 0, so each example costs a parse, not a session.
"""

from __future__ import annotations

import dataclasses
import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import gearshift.cli as cli
import gearshift.headless as headless
import pytest
import tomli_w
from gearshift.config import SECTIONS, ModelSpec
from gearshift.tasks import _KEYS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SCALARS = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 10**30, 2**63 - 1, 128_000, 128_001]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e300, -1e300, 1e-300, 0.0, 0.75, 10_000.0, 10_000.5]),
    st.text(max_size=12),
    st.sampled_from(["a\x00b", "x" * 300, "claude-sonnet-4-6", "fail-logic", "never", "5m", "1h", "pytest"]),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(st.text(max_size=6), SCALARS, max_size=2),
)


def table(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from([*keys, "bogus"]), VALUES, max_size=4)


SECTION_TABLES = {name: table([f.name for f in dataclasses.fields(cls)]) for name, cls in SECTIONS.items()}
MODEL_KEYS = [f.name for f in dataclasses.fields(ModelSpec) if f.name != "name"]
CONFIGS = st.fixed_dictionaries(
    {},
    optional={
        **SECTION_TABLES,
        "models": st.dictionaries(
            st.sampled_from(["sonnet-4-6", "opus-4-7", "new-model"]), table(MODEL_KEYS), max_size=2
        ),
        "stray": VALUES,
    },
)
TASK_TABLES = st.dictionaries(
    st.sampled_from([*_KEYS, "bogus"]),
    st.one_of(
        VALUES,
        st.lists(st.sampled_from(["calc.py", "", "a\x00b", "n" * 300, "d/" * 2100, "../up.py"]), max_size=3),
    ),
    max_size=5,
).map(lambda t: {"id": "t1", "prompt": "Do it", **t})
TASK_FILES = st.fixed_dictionaries({"task": st.lists(TASK_TABLES, max_size=2)})


def as_toml(data: dict[str, Any] | bytes) -> bytes:
    if isinstance(data, bytes):
        return data
    try:
        return tomli_w.dumps(data).encode()
    except (TypeError, ValueError):  # e.g. a mixed array tomli_w refuses: send something
        return repr(data).encode(errors="surrogatepass")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    async def stub_run(*args: Any, **kw: Any) -> int:
        return 0

    monkeypatch.setattr(headless, "run_headless", stub_run)
    monkeypatch.setattr(cli, "_stop_if_checks_cannot_run", lambda config, tasks: None)
    # A key so the run gets past its "no key" check to the stub; nothing is ever sent.
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    root = tmp_path / "p"
    root.mkdir()
    (root / "calc.py").write_text("X = 1\n")
    return root


def run_cli(project: Path, config: bytes, tasks: bytes) -> tuple[int, str]:
    (project / "gearshift.toml").write_bytes(config)
    (project / "tasks.toml").write_bytes(tasks)
    err = io.StringIO()
    with redirect_stderr(err), redirect_stdout(io.StringIO()):
        code = cli.main(["run", str(project), "--headless"])
    return code, err.getvalue()


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    config=st.one_of(CONFIGS, st.binary(max_size=60)),
    tasks=st.one_of(TASK_FILES, st.binary(max_size=60)),
)
def test_any_config_and_tasks_file_loads_or_is_a_one_line_exit_2(
    project: Path, config: dict[str, Any] | bytes, tasks: dict[str, Any] | bytes
) -> None:
    code, err = run_cli(project, as_toml(config), as_toml(tasks))
    assert code in (0, 2), err
    if code == 2:
        assert err.startswith("gearshift") and err.count("\n") == 1, err
        assert "Traceback" not in err
    else:
        assert err == ""


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ("[models.opus-4-7]\ninput_per_mtok = 1e300\n", "models.opus-4-7.input_per_mtok"),
        ("[models.opus-4-7]\noutput_per_mtok = 10000.5\n", "models.opus-4-7.output_per_mtok"),
        ("[session]\nmax_tokens = 1000000000000000000000000000000\n", "session.max_tokens"),
        ("[session]\nmax_tokens = 128001\n", "session.max_tokens"),
        ("[session]\nmax_edit_bytes = 0\n", "session.max_edit_bytes"),
        ("[validation]\ntimeout_s = 1e12\n", "validation.timeout_s"),
        ("[validation.commands.x]\nrun = 'true'\ntimeout_s = 1e12\n", "validation.commands.x.timeout_s"),
        ("[routing]\nmax_latency_ms = 100000000000\n", "routing.max_latency_ms"),
        ("[cost_tracking]\nsession_budget_usd = 1e300\n", "cost_tracking.session_budget_usd"),
        ("[cost_tracking]\ndaily_budget_usd = -1\n", "cost_tracking.daily_budget_usd"),
        ("[cost_tracking]\nalert_threshold_per_task = inf\n", "cost_tracking.alert_threshold_per_task"),
    ],
)
def test_absurd_numbers_are_config_errors(project: Path, config: str, key: str) -> None:
    code, err = run_cli(project, config.encode(), b'[[task]]\nid = "t"\nprompt = "p"\n')
    assert code == 2 and err.count("\n") == 1 and f": {key}: expected" in err


@pytest.mark.parametrize(
    ("path", "expected"),
    [("a\x00b.py", "without NUL"), ("n" * 256 + ".py", "every name is at most 255"), ("d/" * 2100, "4096")],
)
def test_impossible_context_files_are_config_errors(project: Path, path: str, expected: str) -> None:
    tasks = tomli_w.dumps({"task": [{"id": "t", "prompt": "p", "context_files": [path]}]}).encode()
    code, err = run_cli(project, b"", tasks)
    assert code == 2 and err.count("\n") == 1
    assert "context_files[0]: expected" in err and expected in err


def test_the_bounds_accept_their_limits(project: Path) -> None:
    config = (
        "[session]\nmax_tokens = 128000\nmax_edit_bytes = 1\n"
        "[models.opus-4-7]\ninput_per_mtok = 10000\ncache_read_per_mtok = 0\n"
        "[cost_tracking]\ndaily_budget_usd = 0.01\n"
    )
    code, err = run_cli(project, config.encode(), b'[[task]]\nid = "t"\nprompt = "p"\n')
    assert (code, err) == (0, "")
