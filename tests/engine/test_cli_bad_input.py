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


@pytest.mark.parametrize("flag", [["--json"], ["--auto-approve"], ["--escalate", "never"], ["--sarif", "out.sarif"]])
def test_headless_only_flags_without_headless_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: list[str]
) -> None:
    project = make_project(tmp_path / "p")
    assert main(["run", str(project), *flag]) == 2
    assert f"{flag[0]} needs --headless" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["run", "--headless"], ["report"], []])
@pytest.mark.parametrize("broken", ["state_is_a_file", "ledger_is_a_folder"])
def test_a_broken_gearshift_folder_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str], broken: str
) -> None:
    project = make_project(tmp_path / "p")
    (project / "tasks.toml").write_text('[[task]]\nid = "a"\nprompt = "x"\n')
    if broken == "state_is_a_file":
        (project / ".gearshift").write_text("not a folder")
        expected = f"{project / '.gearshift'} is a file, not a folder"
    else:
        (project / ".gearshift" / "ledger.db").mkdir(parents=True)
        expected = f"{project / '.gearshift' / 'ledger.db'} is a folder, not the ledger"
    argv = [*command[:1], str(project), *command[1:]]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert err.count("\n") == 1


def test_the_ledger_refuses_a_folder_or_a_file_in_the_way_with_its_own_error(tmp_path: Path) -> None:
    from gearshift.ledger import Ledger, LedgerError

    (tmp_path / "a" / "ledger.db").mkdir(parents=True)
    with pytest.raises(LedgerError, match="cannot be used as the ledger"):
        Ledger(tmp_path / "a" / "ledger.db")
    (tmp_path / "b").write_text("a file where the folder goes")
    with pytest.raises(LedgerError, match="cannot be used as the ledger"):
        Ledger(tmp_path / "b" / "ledger.db")
