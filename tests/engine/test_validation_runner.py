"""The runner against real tiny projects: real python_compile, ruff and pytest through this
venv's interpreter; shell commands that hang or spawn children to prove process groups die."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from gearshift.config import config_from_mapping
from gearshift.events import (
    CheckFinished,
    Event,
    ValidationFinished,
    ValidationLine,
    ValidationStarted,
)
from gearshift.validation.checks import resolve_checks
from gearshift.validation.gate import setup_problem
from gearshift.validation.runner import run_validation

CALC = "def add(a: int, b: int) -> int:\n    return a + b\n"
TEST = (
    "import pkg\nfrom pkg.calc import add\n\n\n"
    "def test_add():\n    assert add(2, 3) == 5\n\n\n"
    "def test_staged_code_is_imported():\n"
    "    assert pkg.__file__.startswith(__file__.rsplit('/tests/', 1)[0])\n"
)


def make_project(root: Path, calc: str = CALC, test: str = TEST) -> Path:
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "__init__.py").write_text("")
    (root / "src" / "pkg" / "calc.py").write_text(calc)
    (root / "tests").mkdir()
    (root / "tests" / "test_calc.py").write_text(test)
    return root


def specs_for(root: Path, checks: list[str], **commands):
    cfg = config_from_mapping(
        root, "test", {"validation": {"checks": checks, "python": sys.executable, "commands": commands}}
    )
    return resolve_checks(cfg, root)


async def run(root: Path, specs, **kw) -> tuple[object, list[Event]]:
    events: list[Event] = []
    result = await run_validation(specs, root, events.append, run_id="run-1", task_id="t1", **kw)
    return result, events


def tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie waiting for a parent that is not us."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def gone(pid: int) -> bool:
    for _ in range(200):
        if not alive(pid):
            return True
        await asyncio.sleep(0.05)
    return False


def pid_in(path: Path) -> int | None:
    text = path.read_text().strip() if path.is_file() else ""
    return int(text) if text else None


async def read_pid(path: Path) -> int:
    for _ in range(400):
        pid = pid_in(path)
        if pid is not None:
            return pid
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


PY_CHECKS = ["python_compile", "ruff", "pytest"]


@pytest.fixture(autouse=True)
def light_nested_pytest(monkeypatch):
    """The tiny projects need no plugins; this venv's (textual, syrupy…) triple pytest's start."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


async def test_clean_project_passes_and_leaves_no_trace(tmp_path: Path):
    root = make_project(tmp_path / "p")
    before = tree(root)
    result, events = await run(root, specs_for(root, PY_CHECKS))
    assert result.outcome == "pass", result.checks
    assert [(c.name, c.passed, c.exit_code) for c in result.checks] == [
        ("python_compile", True, 0),
        ("ruff", True, 0),
        ("pytest", True, 0),
    ]
    assert tree(root) == before  # no __pycache__, .pytest_cache, .ruff_cache, reports
    assert isinstance(events[0], ValidationStarted)
    assert events[0].checks == PY_CHECKS and events[0].task_id == "t1"
    assert isinstance(events[-1], ValidationFinished) and events[-1].outcome == "pass"
    finished = [e.check for e in events if isinstance(e, CheckFinished)]
    assert sorted(finished) == sorted(PY_CHECKS)
    lines = [e.line for e in events if isinstance(e, ValidationLine) and e.check == "pytest"]
    assert any("2 passed" in line for line in lines)
    # pytest's "generated xml file: /tmp/…" names gearshift's report file: plumbing, not shown.
    assert not any("generated xml file" in line for line in lines)
    # ruff's JSON ("[]") is the parser's input, not something to read in the live log.
    assert not [e for e in events if isinstance(e, ValidationLine) and e.check in ("ruff", "python_compile")]


async def test_failing_test_is_fail_logic_with_located_finding(tmp_path: Path):
    root = make_project(tmp_path / "p", calc="def add(a: int, b: int) -> int:\n    return a - b\n")
    result, events = await run(root, specs_for(root, PY_CHECKS))
    assert result.outcome == "fail-logic"
    (f,) = result.findings
    assert (f.check, f.kind, f.file, f.line, f.code) == (
        "pytest",
        "logic",
        "tests/test_calc.py",
        6,
        "tests/test_calc.py::test_add",
    )
    assert f.message == "assert -1 == 5"
    assert str(root) not in f.raw
    check = next(e for e in events if isinstance(e, CheckFinished) and e.check == "pytest")
    assert check.findings[0]["code"] == "tests/test_calc.py::test_add"
    assert events[-1].findings == [f.to_dict()]


async def test_syntax_error_wins_over_tests(tmp_path: Path):
    root = make_project(tmp_path / "p", calc="def add(a, b)\n    return a + b\n")
    result, _ = await run(root, specs_for(root, PY_CHECKS))
    assert result.outcome == "fail-syntax"
    by_check = {c.name: c for c in result.checks}
    (compile_finding,) = by_check["python_compile"].findings
    assert (compile_finding.file, compile_finding.line, compile_finding.code) == (
        "src/pkg/calc.py",
        1,
        "SyntaxError",
    )
    assert not by_check["ruff"].passed
    assert {f.file for f in by_check["ruff"].findings} == {"src/pkg/calc.py"}
    assert not by_check["pytest"].passed  # collection fails too, yet the outcome is syntax


async def test_mypy_uses_the_project_config_and_reports_type_errors(tmp_path: Path):
    root = make_project(tmp_path / "p", calc="def add(a: int, b: int) -> int:\n    return str(a)\n")
    (root / "pyproject.toml").write_text("[tool.mypy]\nfiles = ['src']\n")
    before = tree(root)
    result, _ = await run(root, specs_for(root, ["mypy"]))
    assert result.outcome == "fail-syntax"
    (f,) = result.findings
    assert (f.file, f.line, f.code) == ("src/pkg/calc.py", 2, "return-value")
    assert f.raw.startswith("src/pkg/calc.py:2: error: Incompatible return value type")
    assert tree(root) == before  # the cache went to the run's temp folder


async def test_changed_files_narrow_compile_and_ruff(tmp_path: Path):
    root = make_project(tmp_path / "p")
    (root / "src" / "pkg" / "old.py").write_text("import os\n")  # an untouched lint problem
    specs = specs_for(root, ["python_compile", "ruff"])
    whole, _ = await run(root, specs)
    assert whole.outcome == "fail-syntax"
    narrowed, _ = await run(root, specs, changed=["src/pkg/calc.py"])
    assert narrowed.outcome == "pass"
    skipped, events = await run(root, specs, changed=["README.md"])
    assert [(c.passed, c.exit_code) for c in skipped.checks] == [(True, None), (True, None)]
    assert not any(isinstance(e, ValidationLine) for e in events)


async def test_timeout_kills_the_whole_process_group(tmp_path: Path):
    root = tmp_path / "p"
    root.mkdir()
    specs = specs_for(
        root,
        ["hang"],
        hang={
            "run": "sleep 300 & echo $! > grandchild.pid; echo $$ > child.pid; echo waiting; wait",
            "kind": "logic",
            "timeout_s": 1.5,
        },
    )
    result, events = await run(root, specs)
    (check,) = result.checks
    assert check.timed_out and not check.passed
    assert result.outcome == "fail-logic"
    assert [f.code for f in check.findings] == ["timeout"]
    assert "waiting" in check.output_tail
    for name in ("child.pid", "grandchild.pid"):
        assert await gone(int((root / name).read_text())), name
    assert events[-1].outcome == "fail-logic"


async def test_cancellation_kills_children_and_reports_cancelled(tmp_path: Path):
    root = tmp_path / "p"
    root.mkdir()
    specs = specs_for(
        root,
        ["hang"],
        hang={
            "run": "sleep 300 & echo $! > grandchild.pid; echo $$ > child.pid; wait",
            "timeout_s": 600,
        },
    )
    events: list[Event] = []
    task = asyncio.create_task(
        run_validation(specs, root, events.append, run_id="r", task_id=None, reason="watch")
    )
    child = await read_pid(root / "child.pid")
    grandchild = await read_pid(root / "grandchild.pid")
    assert alive(child) and alive(grandchild)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await gone(child)
    assert await gone(grandchild)
    assert isinstance(events[-1], ValidationFinished)
    last = events[-1]
    assert (last.outcome, last.reason, last.task_id) == ("cancelled", "watch", None)


async def test_background_child_left_running_does_not_hang_and_is_killed(tmp_path: Path):
    root = tmp_path / "p"
    root.mkdir()
    specs = specs_for(
        root,
        ["daemon"],
        daemon={
            "run": "sleep 300 & echo $! > bg.pid; echo started",
            "timeout_s": 120,
        },
    )
    result, _ = await run(root, specs)
    (check,) = result.checks
    assert (check.passed, check.timed_out, check.exit_code) == (True, False, 0)
    assert await gone(int((root / "bg.pid").read_text()))


async def test_a_process_that_left_the_group_cannot_hang_the_check(tmp_path: Path):
    """`setsid` puts the child beyond the group kill; it still holds stdout open. The check
    must finish on its main process's exit, not wait for that pipe to close."""
    root = tmp_path / "p"
    root.mkdir()
    specs = specs_for(
        root,
        ["escape"],
        escape={
            "run": "setsid sleep 60 & echo $! > escaped.pid; echo bye",
            "timeout_s": 120,
        },
    )
    try:
        result, _ = await run(root, specs)
        (check,) = result.checks
        assert (check.passed, check.timed_out, check.exit_code) == (True, False, 0)
        assert "bye" in check.output_tail
        escaped = pid_in(root / "escaped.pid")
        assert escaped is not None and await gone(escaped)  # found by its marker and killed, group or not
    finally:
        pid = pid_in(root / "escaped.pid")
        if pid is not None and alive(pid):
            os.kill(pid, 9)


async def test_failure_without_parsable_output_never_passes(tmp_path: Path):
    root = tmp_path / "p"
    root.mkdir()
    specs = specs_for(
        root,
        ["lint"],
        lint={
            "run": "echo 'config file is broken' >&2; exit 2",
            "kind": "syntax",
            "parser": "ruff",
        },
    )
    result, _ = await run(root, specs)
    assert result.outcome == "fail-syntax"
    (f,) = result.findings
    assert (f.check, f.kind, f.code) == ("lint", "syntax", "exit-2")
    assert f.message == "lint exited with status 2: config file is broken"


async def test_custom_lines_command_findings_take_its_name_and_kind(tmp_path: Path):
    root = tmp_path / "p"
    root.mkdir()
    specs = specs_for(
        root,
        ["docs"],
        docs={
            "run": f"printf '{root}/docs/a.md:3: broken link\\n'; exit 1",
            "kind": "syntax",
        },
    )
    result, _ = await run(root, specs)
    (f,) = result.findings
    assert (f.check, f.kind, f.file, f.line, f.message) == ("docs", "syntax", "docs/a.md", 3, "broken link")


async def test_pytest_with_no_tests(tmp_path: Path):
    root = tmp_path / "p"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "m.py").write_text("X = 1\n")
    result, _ = await run(root, specs_for(root, ["pytest"]))
    assert result.outcome == "pass"  # nothing to run in a project without tests
    (root / "tests").mkdir()
    (root / "tests" / "test_m.py").write_text("def helper():\n    return 1\n")
    result, _ = await run(root, specs_for(root, ["pytest"]))
    assert result.outcome == "fail-logic"  # test files exist but no test ran: lost tests
    (f,) = result.findings
    assert f.code == "no-tests-collected" and "tests/test_m.py" in f.message


@pytest.fixture
def bare_venv(tmp_path: Path) -> Path:
    """An interpreter with nothing installed: no ruff, no pytest."""
    venv = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    return venv


async def test_missing_tool_is_a_setup_error_not_a_failure(tmp_path: Path, bare_venv: Path):
    venv = bare_venv
    root = make_project(tmp_path / "p")
    cfg = config_from_mapping(
        root,
        "test",
        {"validation": {"checks": ["ruff", "python_compile"], "python": str(venv / "bin" / "python")}},
    )
    result, events = await run(root, resolve_checks(cfg, root))
    ruff = result.checks[0]
    assert ruff.error.startswith(f"ruff is not installed for {venv}/bin/python")
    assert ruff.findings == []
    assert result.checks[1].passed  # compiling needs nothing but the interpreter
    assert result.outcome == "pass"
    assert setup_problem(result.checks) == ruff.error
    assert next(e for e in events if isinstance(e, CheckFinished) and e.check == "ruff").error == ruff.error


async def test_node_check_without_node_modules_is_a_setup_error(tmp_path: Path, monkeypatch):
    from gearshift.validation import checks as checks_mod

    monkeypatch.setattr(checks_mod.shutil, "which", lambda name: f"/usr/bin/{name}")
    root = tmp_path / "web"
    root.mkdir()
    (root / "package-lock.json").write_text("{}")
    cfg = config_from_mapping(root, "test", {})  # the template's three node checks
    result, events = await run(root, resolve_checks(cfg, root))
    assert [c.name for c in result.setup_errors] == ["typescript_compile", "eslint_strict", "vitest_run"]
    assert setup_problem(result.checks) == (f"node_modules is missing in {root}: run `npm ci` in that folder")
    assert not any(isinstance(e, ValidationLine) for e in events)


def test_preflight_finds_a_missing_tool_before_any_model_call(tmp_path: Path, bare_venv: Path) -> None:
    from gearshift.validation.checks import preflight

    root = make_project(tmp_path / "p")
    python = str(bare_venv / "bin" / "python")
    cfg = config_from_mapping(root, "test", {"validation": {"checks": ["python_compile", "ruff"], "python": python}})
    problems = preflight(resolve_checks(cfg, root), root)
    assert [(p.name, p.error) for p in problems] == [
        ("ruff", f"ruff is not installed for {python}: run `{python} -m pip install ruff`")
    ]
    # the interpreter running the tests has ruff: no problem there
    ok = config_from_mapping(root, "test", {"validation": {"checks": ["ruff"], "python": sys.executable}})
    assert preflight(resolve_checks(ok, root), root) == []
