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
