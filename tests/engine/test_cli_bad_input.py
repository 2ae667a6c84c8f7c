"""The command line turns bad input into one line and exit status 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from gearshift.cli import main

from tests.engine.pipeline_project import make_project


def test_headless_replay_of_a_missing_folder_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path / "p")
    (project / "tasks.toml").write_text('[[task]]\nid = "a"\nprompt = "x"\n')
    missing = tmp_path / "no-recordings"
    assert main(["run", str(project), "--headless", "--replay", str(missing)]) == 2
    err = capsys.readouterr().err
    assert f"replay folder {missing} does not exist" in err
    assert "Traceback" not in err


def test_headless_run_whose_checks_cannot_start_stops_up_front(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "ts"
    project.mkdir()
    (project / "package.json").write_text('{"name": "ts", "devDependencies": {"typescript": "5.6.3"}}\n')
    (project / "package-lock.json").write_text("{}\n")
    (project / "gearshift.toml").write_text('[validation]\nchecks = ["typescript_compile"]\n')
    (project / "tasks.toml").write_text('[[task]]\nid = "a"\nprompt = "x"\n')
    assert main(["run", str(project), "--headless", "--replay", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"typescript_compile cannot run: node_modules is missing in {project}: run `npm ci` in that folder" in err
    assert "Traceback" not in err
    assert not (project / ".gearshift" / "ledger.db").exists()  # nothing ran, nothing was booked

    # A queue with nothing to validate does not need the checks.
    (project / "tasks.toml").write_text('[[task]]\nid = "a"\nprompt = "x"\nrequires_validation = false\n')
    assert main(["run", str(project), "--headless", "--replay", str(tmp_path)]) != 2


def test_a_project_without_config_is_pointed_to_gearshift_init(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "py"
    project.mkdir()
    (project / "app.py").write_text("x = 1\n")
    (project / "tasks.toml").write_text('[[task]]\nid = "a"\nprompt = "x"\n')
    assert main(["run", str(project), "--headless", "--replay", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "typescript_compile cannot run" in err and f"`gearshift init {project}`" in err


@pytest.mark.parametrize("flag", [["--json"], ["--auto-approve"], ["--escalate", "never"]])
def test_headless_only_flags_without_headless_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: list[str]
) -> None:
    project = make_project(tmp_path / "p")
    assert main(["run", str(project), *flag]) == 2
    assert f"{flag[0]} needs --headless" in capsys.readouterr().err
