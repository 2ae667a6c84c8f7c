from __future__ import annotations

import json
from pathlib import Path

import pytest
from gearshift.cli import main
from gearshift.config import load_config
from gearshift.initproject import detect_checks, init_project


def test_detects_python_validators(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.ruff]\nline-length = 100\n[tool.mypy]\nstrict = true\n[tool.pytest.ini_options]\n"
    )
    assert detect_checks(tmp_path) == ["python_compile", "ruff", "mypy", "pytest"]


def test_detects_node_validators(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(
        json.dumps({"devDependencies": {"typescript": "5.6.3", "eslint": "9", "vitest": "2"}})
    )
    assert detect_checks(tmp_path) == ["typescript_compile", "eslint_strict", "vitest_run"]


def test_plain_folder_gets_nothing(tmp_path: Path) -> None:
    assert detect_checks(tmp_path) == []


def test_init_writes_a_config_that_loads(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\ndependencies=['pytest']\n")
    written = init_project(tmp_path)
    assert [p.name for p in written] == ["gearshift.toml", "tasks.toml"]
    cfg = load_config(tmp_path)
    assert cfg.validation.checks == ("python_compile", "pytest")
    assert cfg.model("claude-opus-4-7").label == "Opus 4.7"
    with pytest.raises(FileExistsError):
        init_project(tmp_path)
    assert init_project(tmp_path, force=True)[0].name == "gearshift.toml"


def test_init_refuses_when_pyproject_already_configures_gearshift(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n[tool.gearshift.routing]\n")
    with pytest.raises(
        FileExistsError, match=r"pyproject\.toml already configures gearshift in \[tool\.gearshift\]"
    ):
        init_project(tmp_path)
    assert not (tmp_path / "gearshift.toml").exists()
    assert init_project(tmp_path, force=True)[0].name == "gearshift.toml"


def test_cli_init_reports_the_pyproject_config_as_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.gearshift]\n")
    assert main(["init", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "[tool.gearshift]" in err and "--force" in err
    assert main(["init", str(tmp_path), "--force"]) == 0


def test_init_outside_git_leaves_gitignore_alone(tmp_path: Path) -> None:
    init_project(tmp_path)
    assert not (tmp_path / ".gitignore").exists()


def test_init_in_a_git_repository_ignores_run_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".git").mkdir()
    project = tmp_path / "app"  # .git in a parent folder counts too
    project.mkdir()
    assert main(["init", str(project)]) == 0
    assert (project / ".gitignore").read_text() == ".gearshift/\n"
    assert f"wrote {project / '.gitignore'}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("node_modules/\n*.pyc\n", "node_modules/\n*.pyc\n.gearshift/\n"),
        ("node_modules/", "node_modules/\n.gearshift/\n"),
        ("dist/\r\n", "dist/\r\n.gearshift/\r\n"),
        ("dist/\n.gearshift/\n", "dist/\n.gearshift/\n"),
        ("/.gearshift\n", "/.gearshift\n"),
    ],
)
def test_init_appends_to_gitignore_once(tmp_path: Path, before: str, after: str) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_bytes(before.encode())
    written = init_project(tmp_path)
    init_project(tmp_path, force=True)
    assert (tmp_path / ".gitignore").read_bytes() == after.encode()
    assert (tmp_path / ".gitignore" in written) == (before != after)
