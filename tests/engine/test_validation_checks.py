"""Which checks a config resolves to, how each command is built, and preflight's setup errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from gearshift.config import config_from_mapping
from gearshift.validation import checks as checks_mod
from gearshift.validation.checks import (
    COMPILE_SCRIPT,
    CheckSpec,
    preflight,
    project_python,
    python_test_files,
    resolve_checks,
)


def config(root: Path, **validation):
    return config_from_mapping(root, "gearshift.toml", {"validation": validation})


def test_resolve_keeps_config_order_and_mixes_builtins_with_commands(tmp_path: Path):
    cfg = config(
        tmp_path,
        checks=["pytest", "lint_docs", "ruff", "typescript_compile"],
        commands={"lint_docs": {"run": "make docs", "kind": "syntax", "timeout_s": 7}},
        timeout_s=99,
    )
    specs = resolve_checks(cfg, tmp_path)
    assert [(s.name, s.kind, s.parser) for s in specs] == [
        ("pytest", "logic", "pytest"),
        ("lint_docs", "syntax", "lines"),
        ("ruff", "syntax", "ruff"),
        ("typescript_compile", "syntax", "tsc"),
    ]
    assert [s.timeout_s for s in specs] == [99, 7, 99, 99]
    assert specs[1].shell == "make docs" and specs[1].argv == ()


def test_disabled_validation_resolves_to_no_checks(tmp_path: Path):
    assert resolve_checks(config(tmp_path, enabled=False, checks=["ruff"]), tmp_path) == []


def test_project_python_precedence(tmp_path: Path):
    assert project_python(config(tmp_path)) == sys.executable
    venv_python = tmp_path / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.write_text("")
    assert project_python(config(tmp_path)) == str(venv_python)
    assert project_python(config(tmp_path, python="tools/py")) == str(tmp_path / "tools/py")
    assert project_python(config(tmp_path, python="/opt/py/bin/python3")) == "/opt/py/bin/python3"
    assert project_python(config(tmp_path, python="python3")) == "python3"


def test_builtin_commands_keep_caches_and_reports_out_of_the_workdir(tmp_path: Path):
    specs = {
        s.name: s
        for s in resolve_checks(
            config(tmp_path, checks=["ruff", "mypy", "pytest", "vitest_run", "eslint_strict"], python="/py"),
            tmp_path,
        )
    }
    report_dir = Path("/reports/x")
    ruff = specs["ruff"].command(tmp_path, report_dir)
    assert ruff == [
        "/py",
        "-m",
        "ruff",
        "check",
        "--output-format",
        "json",
        "--no-cache",
        "--force-exclude",
        ".",
    ]
    pytest_cmd = specs["pytest"].command(tmp_path, report_dir)
    assert "--junitxml=/reports/x/junit.xml" in pytest_cmd
    assert pytest_cmd[4:6] == ["-p", "no:cacheprovider"]
    mypy = specs["mypy"].command(tmp_path, report_dir)
    assert mypy[mypy.index("--cache-dir") + 1] == "/reports/x/mypy_cache"
    assert mypy[-1] == "."  # no mypy config naming files: check the whole folder
    assert "--outputFile.json=/reports/x/vitest.json" in specs["vitest_run"].command(tmp_path, report_dir)
    eslint = specs["eslint_strict"].command(tmp_path, report_dir)
    assert eslint[eslint.index("--output-file") + 1] == "/reports/x/eslint.json"
    assert dict(specs["pytest"].env)["PYTHONPATH"].split(":")[0] == str(tmp_path)


@pytest.mark.parametrize(
    ("name", "text", "targets"),
    [
        ("pyproject.toml", "[tool.mypy]\nfiles = ['src']\n", []),
        ("pyproject.toml", "[tool.mypy]\nstrict = true\n", ["."]),
        ("pyproject.toml", "[project]\nname = 'x'\n", ["."]),
        ("mypy.ini", "[mypy]\nfiles = src\n", []),
        ("setup.cfg", "[mypy]\nfiles = src\n", []),
        ("setup.cfg", "[flake8]\nmax-line-length = 9\n", ["."]),
    ],
)
def test_mypy_uses_the_projects_configured_files(tmp_path: Path, name, text, targets):
    (tmp_path / name).write_text(text)
    (spec,) = resolve_checks(config(tmp_path, checks=["mypy"], python="/py"), tmp_path)
    argv = spec.command(tmp_path, Path("/r"))
    assert argv[argv.index("/r/mypy_cache") + 1 :] == targets


def test_changed_files_narrow_cheap_checks_only(tmp_path: Path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("x = 1\n")
    (tmp_path / "web.ts").write_text("")
    specs = {
        s.name: s
        for s in resolve_checks(
            config(tmp_path, checks=["python_compile", "ruff", "pytest", "eslint_strict"], python="/py"),
            tmp_path,
        )
    }
    changed = [str(tmp_path / "src/a.py"), "src/deleted.py", "web.ts", "README.md"]
    assert specs["ruff"].command(tmp_path, Path("/r"), changed)[-1:] == ["src/a.py"]
    assert specs["python_compile"].command(tmp_path, Path("/r"), changed)[-1] == "src/a.py"
    assert specs["eslint_strict"].command(tmp_path, Path("/r"), changed)[-1] == "web.ts"
    assert specs["pytest"].command(tmp_path, Path("/r"), changed) == specs["pytest"].command(
        tmp_path, Path("/r")
    )
    # nothing of its kind changed: the narrowed check has nothing to do
    assert specs["ruff"].command(tmp_path, Path("/r"), ["README.md"]) is None
    # whole run: the compile script walks the tree itself
    assert specs["python_compile"].command(tmp_path, Path("/r"))[-1] == COMPILE_SCRIPT


def node_spec(name="typescript_compile", bins=("tsc",)) -> CheckSpec:
    return CheckSpec(name, "syntax", "tsc", 10, argv=("node_modules/.bin/tsc",), node_bins=bins)


@pytest.fixture
def node_on_path(monkeypatch):
    monkeypatch.setattr(checks_mod.shutil, "which", lambda name: f"/usr/bin/{name}")


def test_preflight_names_the_install_command_for_missing_node_modules(tmp_path, node_on_path):
    (tmp_path / "package-lock.json").write_text("{}")
    (result,) = preflight([node_spec()], tmp_path)
    assert result.error == f"node_modules is missing in {tmp_path}: run `npm ci` in that folder"
    assert (result.passed, result.exit_code, result.kind) == (False, None, "syntax")
    (tmp_path / "package-lock.json").unlink()
    (result,) = preflight([node_spec()], tmp_path)
    assert "run `npm install` in that folder" in result.error


def test_preflight_on_a_staged_copy_names_the_project(tmp_path, node_on_path):
    project, stage = tmp_path / "project", tmp_path / "stage"
    (project / "node_modules").mkdir(parents=True)
    stage.mkdir()
    (result,) = preflight([node_spec()], stage, project=project)
    assert "staged copy" in result.error and str(project) in result.error
    (project / "node_modules").rmdir()
    (result,) = preflight([node_spec()], stage, project=project)
    assert result.error.startswith(f"node_modules is missing in {project}: run `npm install`")


def test_preflight_missing_binary_and_missing_interpreter(tmp_path, node_on_path):
    (tmp_path / "node_modules" / ".bin").mkdir(parents=True)
    (result,) = preflight([node_spec("vitest_run", ("vitest",))], tmp_path)
    assert result.error == (
        f"node_modules/.bin/vitest is missing in {tmp_path}: run "
        "`npm install --save-dev vitest` in that folder"
    )
    (tmp_path / "node_modules" / ".bin" / "tsc").write_text("")
    py = CheckSpec("ruff", "syntax", "ruff", 10, argv=("x",), python=str(tmp_path / "nopy"))
    results = preflight([node_spec(), py], tmp_path)
    assert [r.name for r in results] == ["ruff"]
    assert "does not exist" in results[0].error and "validation.python" in results[0].error


def test_preflight_without_node(tmp_path, monkeypatch):
    monkeypatch.setattr(checks_mod.shutil, "which", lambda name: None)
    (result,) = preflight([node_spec()], tmp_path)
    assert result.error.startswith("node is not on PATH")


def test_python_test_files_skip_environments(tmp_path: Path):
    for rel in (
        "tests/test_a.py",
        "pkg/b_test.py",
        ".venv/lib/test_c.py",
        "node_modules/x/test_d.py",
        "pkg/helper.py",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    assert sorted(python_test_files(tmp_path)) == ["pkg/b_test.py", "tests/test_a.py"]
