"""Project trust: a project's own commands and interpreters run only once the user trusted them.

Each of the three ways a config can run project code (a custom command, a `validation.python`
script in the project, a committed `.venv/bin/python`) is a shell script that leaves a marker.
Headless and untrusted, the run must stop with exit 2 before preflight or any model call (the
loopback server sees no request, the marker does not exist); after `gearshift trust` or with
`--trust` the same run reaches the model and the marker appears.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from gearshift import trust
from gearshift.cli import main
from gearshift.config import load_config
from gearshift.validation.checks import project_python, resolve_checks, setup_error

from tests.support.hostile import PATHS, edit_once, hostile_project
from tests.support.messages_server import MessagesServer


@pytest.fixture(autouse=True)
def user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    return home


def headless(project: Path, server: MessagesServer, monkeypatch: pytest.MonkeyPatch, *extra: str) -> int:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    return main(["run", str(project), "--headless", "--json", *extra])


@pytest.mark.parametrize("path", PATHS)
def test_untrusted_headless_exits_2_before_anything_runs(
    path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "ran"
    project = hostile_project(tmp_path / "p", path, marker)
    with MessagesServer(edit_once) as server:
        code = headless(project, server, monkeypatch)
    err = capsys.readouterr().err
    assert code == 2
    assert not marker.exists()
    assert server.requests == []
    (line,) = err.strip().splitlines()
    assert f"gearshift trust {project}" in line and "not trusted yet" in line
    what = {"command": f"touch {marker}", "python": "tools/py", "venv": ".venv/bin/python"}[path]
    assert what in line


@pytest.mark.parametrize("path", PATHS)
def test_after_gearshift_trust_the_same_run_runs_it(
    path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "ran"
    project = hostile_project(tmp_path / "p", path, marker)
    assert main(["trust", str(project)]) == 0
    shown = capsys.readouterr().out
    assert "trusted" in shown and (f"touch {marker}" in shown or "interpreter" in shown)
    assert not marker.exists()  # trusting shows; it runs nothing
    with MessagesServer(edit_once) as server:
        code = headless(project, server, monkeypatch)
    out = capsys.readouterr().out
    summary = json.loads(out.splitlines()[-1])
    assert code == 0, out
    assert summary["tasks"][0]["status"] == "approved"
    assert marker.exists()
    assert server.message_requests


def test_run_with_trust_flag_runs_it_this_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user_config: Path
) -> None:
    marker = tmp_path / "ran"
    project = hostile_project(tmp_path / "p", "venv", marker)
    with MessagesServer(edit_once) as server:
        assert headless(project, server, monkeypatch, "--trust") == 0
    assert marker.exists()
    assert not trust.store_path().exists()  # nothing recorded
    marker.unlink()
    with MessagesServer(edit_once) as server:
        assert headless(project, server, monkeypatch) == 2
    assert not marker.exists()


def test_any_change_asks_again(tmp_path: Path) -> None:
    project = hostile_project(tmp_path / "p", "venv", tmp_path / "ran")
    trust.record(load_config(project))
    assert trust.verdict(load_config(project)).trusted
    # the committed interpreter is rewritten: its bytes are part of what was trusted
    script = project / ".venv" / "bin" / "python"
    script.write_text(script.read_text() + "echo more\n")
    verdict = trust.verdict(load_config(project))
    assert not verdict.trusted and "changed" in verdict.reason
    trust.record(load_config(project))
    # the config changes, even a key that runs nothing
    config = project / "gearshift.toml"
    config.write_text(config.read_text().replace("max_files = 5", "max_files = 6"))
    assert not trust.verdict(load_config(project)).trusted


def test_revoke_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "ran"
    project = hostile_project(tmp_path / "p", "command", marker)
    assert main(["trust", str(project)]) == 0
    assert main(["trust", "--list"]) == 0
    listed = capsys.readouterr().out
    assert str(project) in listed and f"command setup_db: touch {marker}" in listed
    assert main(["trust", "--revoke", str(project)]) == 0
    assert "revoked" in capsys.readouterr().out
    assert not trust.verdict(load_config(project)).trusted
    assert main(["trust", "--list"]) == 0
    assert str(project) not in capsys.readouterr().out


def test_records_live_in_the_user_config_folder_not_the_project(tmp_path: Path, user_config: Path) -> None:
    project = hostile_project(tmp_path / "p", "command", tmp_path / "ran")
    trust.record(load_config(project))
    assert (user_config / "gearshift" / "trust.json").is_file()
    assert (user_config / "gearshift" / "trust.json").stat().st_mode & 0o077 == 0
    assert not any("trust" in p.name for p in project.rglob("*"))


def test_a_project_that_runs_nothing_of_its_own_needs_no_trust(tmp_path: Path, capsys) -> None:
    project = hostile_project(tmp_path / "p", "venv", tmp_path / "ran")
    (project / ".venv" / "bin" / "python").unlink()
    assert not trust.needs(load_config(project))
    assert trust.verdict(load_config(project)).trusted
    assert main(["trust", str(project)]) == 0
    assert "nothing to trust" in capsys.readouterr().out
    assert not trust.store_path().exists()


@pytest.mark.parametrize("content", ["{not json", '{"projects": 3}', "[]"])
def test_a_corrupt_trust_file_is_one_line_and_no_trust(
    content: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "ran"
    project = hostile_project(tmp_path / "p", "command", marker)
    store = trust.store_path()
    store.parent.mkdir(parents=True)
    store.write_text(content)
    with MessagesServer(edit_once) as server:
        assert headless(project, server, monkeypatch) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert str(store) in line and "Traceback" not in line
    assert not marker.exists() and server.requests == []
    assert main(["trust", "--list"]) == 2
    assert main(["trust", str(project)]) == 2  # the records are not overwritten
    assert store.read_text() == content
    (first, second) = capsys.readouterr().err.strip().splitlines()
    assert first.startswith("gearshift: ") and str(store) in first and str(store) in second


def test_untrusted_engine_uses_our_python_and_reports_commands_as_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    project = hostile_project(tmp_path / "p", "command", marker)
    _interpreter = project / ".venv" / "bin" / "python"
    _interpreter.parent.mkdir(parents=True)
    _interpreter.symlink_to(sys.executable)
    config = trust.checked(load_config(project))
    assert not config.trusted
    assert project_python(config) == sys.executable
    specs = {s.name: s for s in resolve_checks(config, project)}
    assert specs["python_compile"].python == sys.executable
    error = setup_error(specs["setup_db"], project)
    assert error.startswith("untrusted, not run") and f"gearshift trust {project}" in error
    trusted = trust.checked(load_config(project), once=True)
    assert project_python(trusted) == str(_interpreter)
    assert setup_error({s.name: s for s in resolve_checks(trusted, project)}["setup_db"], project) == ""


def test_needs_lists_the_exact_commands_and_the_interpreter_target(tmp_path: Path) -> None:
    project = hostile_project(tmp_path / "p", "venv", tmp_path / "ran")
    link = project / ".venv" / "bin" / "python"
    link.unlink()
    link.symlink_to(sys.executable)
    (line,) = trust.needs(load_config(project)).lines()
    assert line == f"interpreter {link} → {Path(sys.executable).resolve()}"
