from __future__ import annotations

import json
from pathlib import Path

import pytest
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
