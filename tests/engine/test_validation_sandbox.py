"""The sandbox around checks: the scrubbed environment, the config keys, the fallback where no
sandbox can start (auto says so, required refuses), the watcher's sandboxed runs, and the pending
layer that is laid once per session however many tasks wait unwritten."""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from gearshift import events as ev
from gearshift.cli import main
from gearshift.config import ConfigError, load_config
from gearshift.edits.cowstage import CowStage, PendingLayer
from gearshift.edits.workspace import FileChange, Stage
from gearshift.headless import run_headless
from gearshift.models.client import ModelGateway
from gearshift.pipeline.record import TaskRecord
from gearshift.pipeline.session import Session
from gearshift.tasks import Task
from gearshift.validation.checkenv import scrubbed_env
from gearshift.validation.checks import resolve_checks
from gearshift.validation.runner import run_validation
from gearshift.validation.sandbox import Confinement, Layers, bwrap_path, choose, probe, toolchain_paths, wrap

from tests.engine.pipeline_project import make_project
from tests.support.messages_server import MessagesServer, Reply

needs_bwrap = pytest.mark.skipif(bool(probe(bwrap_path())), reason="no bubblewrap sandbox on this machine")


def test_the_check_environment_is_an_allow_list() -> None:
    source = {
        "PATH": "/usr/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C",
        "HOME": "/home/u",
        "VIRTUAL_ENV": "/v",
        "PYTHONPATH": "/x",
        "NODE_OPTIONS": "--max-old-space-size=100",
        "npm_config_registry": "https://r",
        "ANTHROPIC_API_KEY": "k",
        "ANTHROPIC_BASE_URL": "http://u:k@h",
        "AWS_SECRET_ACCESS_KEY": "s",
        "GITHUB_TOKEN": "t",
        "NODE_AUTH_TOKEN": "t2",  # an allowed prefix, but a credential's name
        "PGPASSWORD": "p",
        "RANDOM_APP_SETTING": "r",
        "DATABASE_URL": "postgres://…",
        "CI": "true",  # changes what pytest prints (untruncated diffs): the same check, other words
        "COLUMNS": "211",
    }
    assert sorted(scrubbed_env(source)) == [
        "HOME",
        "LANG",
        "LC_ALL",
        "NODE_OPTIONS",
        "PATH",
        "PYTHONPATH",
        "VIRTUAL_ENV",
        "npm_config_registry",
    ]
    passed = scrubbed_env(source, ["DATABASE_URL", "GITHUB_TOKEN", "ANTHROPIC_API_KEY", "CI"])
    assert passed["DATABASE_URL"] == "postgres://…" and passed["GITHUB_TOKEN"] == "t"
    assert passed["CI"] == "true"  # by name, when the user wants it
    assert "ANTHROPIC_API_KEY" not in passed  # never, even by name


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[validation]\nsandbox = "maybe"\n', "validation.sandbox"),
        ('[validation]\nenv_passthrough = ["ANTHROPIC_API_KEY"]\n', "validation.env_passthrough"),
        ('[validation]\nenv_passthrough = ["NOT A NAME"]\n', "validation.env_passthrough"),
        ('[validation]\nnetwork = "yes"\n', "validation.network"),
        ('[validation.commands.x]\nrun = "true"\nnetwork = 1\n', "validation.commands.x.network"),
    ],
)
def test_bad_sandbox_keys_are_one_line_errors(tmp_path: Path, text: str, key: str) -> None:
    (tmp_path / "gearshift.toml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert info.value.key == key and "\n" not in str(info.value)


def test_network_is_per_command_with_a_default(tmp_path: Path) -> None:
    (tmp_path / "gearshift.toml").write_text(
        '[validation]\nchecks = ["a", "b", "pytest"]\nnetwork = true\nenv_passthrough = ["DB_URL"]\n'
        '[validation.commands.a]\nrun = "true"\nnetwork = false\n[validation.commands.b]\nrun = "true"\n'
    )
    specs = {s.name: s for s in resolve_checks(load_config(tmp_path), tmp_path)}
    assert [specs[n].network for n in ("a", "b", "pytest")] == [False, True, True]
    assert specs["pytest"].env_passthrough == ("DB_URL",)


def broken_bwrap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bwrap that cannot start a sandbox, as under AppArmor's user-namespace restriction."""
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("GEARSHIFT_BWRAP", str(fake))


def test_auto_falls_back_and_says_why_required_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken_bwrap(tmp_path, monkeypatch)
    auto = choose("auto")
    assert not auto.active and auto.label == "unavailable" and not auto.refused
    assert "uid map: Permission denied" in auto.describe()
    required = choose("required")
    assert required.refused and "required" in required.describe()
    off = choose("off")
    assert off.label == "off" and not off.refused


async def test_fallback_session_uses_the_hard_linked_stage_and_tells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken_bwrap(tmp_path, monkeypatch)
    project = make_project(tmp_path / "p")
    task = Task(id="t", prompt="x", requires_validation=True)
    server = MessagesServer([Reply.text("Nothing to change.")])
    out = io.StringIO()
    with server:
        gateway = ModelGateway(api_key="test-key", base_url=server.url, max_retries=0)
        session = Session(load_config(project), gateway, emit=lambda e: None)
        assert isinstance(session.new_stage("probe"), Stage) and not session.sandbox.active
        await run_headless(
            load_config(project), [task], gateway, as_json=True, auto_approve=True, escalate="never", out=out
        )
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    started = next(e for e in events if e["type"] == "session_started")
    assert started["sandbox"] == "unavailable" and "Permission denied" in started["sandbox_note"]
    assert events[-1]["type"] == "summary" and events[-1]["sandbox"] == "unavailable"


def test_required_without_a_sandbox_is_exit_2_before_any_model_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken_bwrap(tmp_path, monkeypatch)
    project = make_project(tmp_path / "p")
    config = project / "gearshift.toml"
    config.write_text(config.read_text().replace("[validation]\n", '[validation]\nsandbox = "required"\n'))
    (project / "tasks.toml").write_text('[[task]]\nid = "a"\nprompt = "x"\n')
    assert main(["run", str(project), "--headless", "--replay", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert 'validation.sandbox is "required" but bubblewrap' in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (project / ".gearshift" / "ledger.db").exists()  # nothing ran, nothing was booked


@needs_bwrap
async def test_sandboxed_watch_run_on_the_real_project_leaves_no_trace(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "data.txt").write_text("original\n")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    write = "echo changed >> data.txt; touch made-by-check; cat data.txt; "
    net = f"python3 -c \"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=3)\""
    (project / "gearshift.toml").write_text(
        f'[validation]\nchecks = ["w", "n"]\n[validation.commands.w]\nrun = "{write} exit 1"\n'
        f"[validation.commands.n]\nrun = {json.dumps(net)}\nnetwork = true\n"
    )
    config = load_config(project)
    events: list[ev.Event] = []
    status = choose("auto")
    assert status.bwrap is not None
    result = await run_validation(
        resolve_checks(config, project),
        project,
        events.append,
        run_id="w1",
        task_id=None,
        reason="watch",
        confinement=Confinement(status.bwrap, Layers(project)),
    )
    lines = [e.line for e in events if isinstance(e, ev.ValidationLine) and e.check == "w"]
    assert "changed" in lines  # the check saw its own write ...
    assert (project / "data.txt").read_text() == "original\n"  # ... the project did not
    assert not (project / "made-by-check").exists()
    by_name = {c.name: c for c in result.checks}
    assert by_name["n"].passed  # network = true keeps the loopback reachable
    listener.close()


def test_500_pending_tasks_are_laid_once_not_once_per_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Headless without --auto-approve: each accepted task's change waits unwritten. Each new
    stage starts over all of them; the layer grows by one task's change, never re-laid."""
    project = make_project(tmp_path / "p")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    session = Session(
        load_config(project), ModelGateway(api_key="k", base_url="http://127.0.0.1:9"), emit=lambda e: None
    )
    if not session.sandbox.active:
        pytest.skip("no bubblewrap sandbox on this machine")
    writes: list[str] = []
    real_put = PendingLayer.put

    def counting_put(self: PendingLayer, key: str, text: str | None, *, below: str | None) -> None:
        writes.append(key)
        real_put(self, key, text, below=below)

    monkeypatch.setattr(PendingLayer, "put", counting_put)
    for n in range(500):
        record = TaskRecord(Task(id=f"t{n}", prompt="x"))
        record.status = "approved"
        record.changes = [FileChange(f"gen/m{n}.py", None, f"N = {n}\n")]
        session.records[record.task.id] = record
        stage = session.new_stage(f"t{n}")
        assert isinstance(stage, CowStage)
        assert stage.read_text(f"gen/m{n}.py") == f"N = {n}\n"
        stage.discard()
    assert len(writes) == 500  # one per task: 125,250 if every stage re-laid the pending changes
    assert stage.read_text("gen/m0.py") == "N = 0\n"
    session.close()


def test_toolchains_under_home_are_shown_but_not_home_or_their_credentials(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for folder in (
        ".pyenv/shims",
        ".pyenv/libexec",
        ".local/bin",
        ".local/lib",
        ".local/share/keyrings",
        ".cargo/bin",
    ):
        (home / folder).mkdir(parents=True)
    (home / ".cargo" / "credentials.toml").write_text("token = 'x'\n")
    path_var = ":".join(str(home / p) for p in (".pyenv/shims", ".local/bin", ".cargo/bin")) + ":/usr/bin"
    shown = toolchain_paths("", str(home), path_var)
    assert sorted(shown) == sorted(str(home / p) for p in (".pyenv", ".local/bin", ".local/lib", ".cargo"))
    argv = wrap(
        ["true"],
        bwrap="bwrap",
        layers=Layers(tmp_path / "proj"),
        workdir=tmp_path / "proj",
        tmp_dir=tmp_path / "t",
        network=False,
        home=str(home),
        toolchain=shown,
    )
    joined = " ".join(argv)
    assert f"--tmpfs {home}" in joined and "--unshare-net" in joined
    assert f"--ro-bind /dev/null {home}/.cargo/credentials.toml" in joined
    assert f"--tmp-overlay {tmp_path / 'proj'}" in joined


async def test_a_linked_dependency_folder_takes_writes_in_a_throwaway_layer(tmp_path: Path) -> None:
    """node_modules linked in from outside the project (as the demo's scratch copy does): vite
    writes its cache there (node_modules/.vite-temp); in the sandbox that write must work and
    vanish, not fail on the read-only root nor reach the real folder."""
    outside = tmp_path / "shared-node-modules"
    (outside / "pkg").mkdir(parents=True)
    (outside / "pkg" / "index.js").write_text("module.exports = 1\n")
    project = tmp_path / "p"
    project.mkdir()
    (project / "node_modules").symlink_to(outside, target_is_directory=True)
    run = "mkdir -p node_modules/.vite-temp && echo cached > node_modules/.vite-temp/x && cat node_modules/.vite-temp/x"
    (project / "gearshift.toml").write_text(f'[validation]\nchecks = ["w"]\n[validation.commands.w]\nrun = "{run}"\n')
    config = load_config(project)
    events: list[ev.Event] = []
    status = choose("auto")
    assert status.bwrap is not None
    result = await run_validation(
        resolve_checks(config, project), project, events.append, run_id="w1", task_id=None, reason="watch",
        confinement=Confinement(status.bwrap, Layers(project)),
    )
    assert result.checks[0].passed, [e.line for e in events if isinstance(e, ev.ValidationLine)]
    assert "cached" in [e.line for e in events if isinstance(e, ev.ValidationLine)]
    assert sorted(p.name for p in outside.iterdir()) == ["pkg"]  # the real folder is untouched


def test_a_virtualenv_under_the_private_tmp_stays_visible(tmp_path: Path) -> None:
    """/tmp is a fresh tmpfs in the sandbox: an interpreter installed there (a clone in /tmp with
    its .venv) must be bound back in, or every Python check fails with 'execvp … No such file'."""
    venv = tmp_path / "clone" / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("")
    assert str(tmp_path).startswith("/tmp/")
    shown = toolchain_paths(str(venv / "bin" / "python"), "/nonexistent-home", "")
    assert str(venv) in shown


@needs_bwrap
async def test_packages_linked_into_the_private_tmp_resolve_in_the_sandbox(tmp_path: Path) -> None:
    """A node_modules whose entries link to a store under /tmp (pnpm's store, a borrowed install):
    /tmp is a fresh tmpfs in the sandbox, so the links would dangle and `node_modules/.bin/x`
    fail with 'No such file' unless their targets are bound back in, read-only."""
    assert str(tmp_path).startswith("/tmp/")
    store = tmp_path / "store"
    (store / "pkg").mkdir(parents=True)
    (store / "pkg" / "index.js").write_text("module.exports = 1\n")
    (store / "@scope" / "deep").mkdir(parents=True)
    (store / "@scope" / "deep" / "x.txt").write_text("deep\n")
    project = tmp_path / "p"
    (project / "node_modules" / "@scope").mkdir(parents=True)
    (project / "node_modules" / "pkg").symlink_to(store / "pkg", target_is_directory=True)
    (project / "node_modules" / "@scope" / "deep").symlink_to(store / "@scope" / "deep", target_is_directory=True)
    run = "cat node_modules/pkg/index.js node_modules/@scope/deep/x.txt; echo x > node_modules/pkg/new || echo read-only"
    (project / "gearshift.toml").write_text(f'[validation]\nchecks = ["w"]\n[validation.commands.w]\nrun = "{run}"\n')
    result, lines = await sandboxed_watch_run(project)
    assert result.checks[0].passed, lines
    assert "module.exports = 1" in lines and "deep" in lines and "read-only" in lines, lines
    assert sorted(p.name for p in (store / "pkg").iterdir()) == ["index.js"]  # the store is untouched


@needs_bwrap
async def test_a_command_naming_a_venv_under_the_private_tmp_runs(tmp_path: Path) -> None:
    """A custom command that starts a virtualenv's interpreter by its absolute path, the venv
    outside the project under /tmp (or $HOME): both are replaced by empty folders in the sandbox,
    so the venv is shown read-only — else the check fails with '…/bin/python: not found' (a
    fresh clone under /tmp or $HOME ran its test projects' checks that way)."""
    import asyncio
    import venv as venvs

    assert str(tmp_path).startswith("/tmp/")
    venv = tmp_path / "tools" / ".venv"
    await asyncio.to_thread(venvs.create, venv, with_pip=False)
    (tmp_path / "tools" / "secret.txt").write_text("not for checks\n")
    project = tmp_path / "p"
    project.mkdir()
    run = f"{venv}/bin/python -c 'print(6 * 7)'; cat {tmp_path}/tools/secret.txt || echo hidden"
    (project / "gearshift.toml").write_text(f'[validation]\nchecks = ["w"]\n[validation.commands.w]\nrun = "{run}"\n')
    result, lines = await sandboxed_watch_run(project)
    assert result.checks[0].passed, lines
    assert "42" in lines and "hidden" in lines and "not for checks" not in lines, lines  # the venv only


async def sandboxed_watch_run(project: Path) -> tuple[Any, list[str]]:
    """The project's configured checks, sandboxed over the project alone; the result and lines."""
    events: list[ev.Event] = []
    status = choose("auto")
    assert status.bwrap is not None
    result = await run_validation(
        resolve_checks(load_config(project), project), project, events.append, run_id="w1", task_id=None,
        reason="watch", confinement=Confinement(status.bwrap, Layers(project)),
    )
    return result, [e.line for e in events if isinstance(e, ev.ValidationLine)]
