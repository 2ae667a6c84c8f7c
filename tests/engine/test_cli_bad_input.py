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
    assert (
        f"typescript_compile cannot run: node_modules is missing in {project}: run `npm ci` in that folder"
        in err
    )
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


def test_headless_without_a_key_or_recordings_stops_before_any_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    project = make_project(tmp_path / "p")
    (project / "tasks.toml").write_text('[[task]]\nid = "a"\nprompt = "x"\n')
    assert main(["run", str(project), "--headless", "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # no session_started, no task_routed, no call_started
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gearshift run: no API key: set ANTHROPIC_API_KEY")
    assert not (project / ".gearshift" / "ledger.db").exists()  # no failed "call" was booked


def test_an_empty_tasks_file_says_there_is_nothing_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path / "p")
    (project / "tasks.toml").write_text("# nothing yet\n")
    assert main(["run", str(project), "--headless", "--replay", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"gearshift run: {project / 'tasks.toml'} has no [[task]] tables: nothing to run"


def test_a_subcommands_error_is_prefixed_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tmp_path), "--json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gearshift run: --json needs --headless") and "gearshift: gearshift" not in err
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err.startswith(f"gearshift: {tmp_path / 'nope'}: no such project folder")


def test_version_and_help_for_the_options_that_had_none(capsys: pytest.CaptureFixture[str]) -> None:
    from gearshift import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"gearshift {__version__}"
    for argv, said in (
        (["report", "--help"], ("group spend", "a table for people", "the project folder")),
        (["x", "--help"], ("tasks file (default: PROJECT/tasks.toml)", "the project folder")),
        (["init", "--help"], ("created if missing",)),
    ):
        with pytest.raises(SystemExit):
            main(argv)
        out = capsys.readouterr().out
        assert all(words in out for words in said), (argv, out)


def test_init_creates_a_missing_project_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "new" / "proj"
    assert main(["init", str(target)]) == 0
    out = capsys.readouterr().out
    assert f"created {target}" in out and (target / "gearshift.toml").is_file()
    (tmp_path / "file").write_text("")
    assert main(["init", str(tmp_path / "file")]) == 2
