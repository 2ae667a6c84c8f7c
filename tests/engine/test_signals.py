"""SIGTERM and SIGHUP stop a headless run the way Ctrl+C does: the call in flight is booked, every
check process dies (one that left the group with setsid too), no stage is left, and the exit
status says which signal stopped it. The run is a real subprocess against the loopback server."""

from __future__ import annotations

import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from gearshift.edits.cowstage import stages_home

from tests.support import MessagesServer, Reply

TUI = str(Path(__file__).resolve().parents[2] / "tui")
TASKS = '[[task]]\nid = "a"\nprompt = "add a module"\n'


def start(project: Path, server: MessagesServer) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": TUI, "ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": server.url}
    return subprocess.Popen(
        # --trust: the hung check is the project's own command
        [sys.executable, "-m", "gearshift", "run", str(project), "--headless", "--trust"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(what: Callable[[], object], proc: subprocess.Popen[str]) -> None:
    for _ in range(600):  # a generous ceiling for a slow machine; not a timing assertion
        if what():
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("the run never got there")


def call_rows(project: Path) -> list[tuple[str, str | None, float]]:
    with sqlite3.connect(project / ".gearshift" / "ledger.db") as db:
        return list(db.execute("SELECT task_id, fault, cost_usd FROM calls"))


def stages_left(project: Path) -> list[str]:
    """Stages of either kind: hard-linked ones in the project, copy-on-write ones in the cache."""
    found: list[str] = []
    for stages in (project / ".gearshift" / "stages", stages_home(project)):
        found += sorted(p.name for p in stages.iterdir()) if stages.is_dir() else []
    return found


def with_marker(marker: str) -> list[int]:
    """Processes whose command line holds `marker` (the check's `sleep` durations)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline:
                found.append(int(name))
    return found


def stalled_answer(tmp_path: Path) -> tuple[Path, Reply]:
    """A project whose one task needs no validation, and an answer whose message_start (with its
    billed input usage) goes out before the rest stalls."""
    project = tmp_path / "p"
    project.mkdir()
    (project / "gearshift.toml").write_text("[validation]\nenabled = false\n")
    (project / "tasks.toml").write_text(TASKS + "requires_validation = false\n")
    stalled = Reply.text(
        "never seen", first_frame_delay_s=120, usage={"input_tokens": 5000, "output_tokens": 1}
    )
    return project, stalled


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_during_a_stalled_call_books_it_and_says_so(tmp_path: Path, signum: int) -> None:
    project, stalled = stalled_answer(tmp_path)
    with MessagesServer([stalled]) as server:
        proc = start(project, server)
        wait_for(lambda: server.message_requests, proc)
        time.sleep(0.5)  # let message_start reach the client
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum, (out, err)
    if signum != signal.SIGINT:  # Ctrl+C is silent, as it always was; the other two say why
        assert f"stopped by {signal.Signals(signum).name}" in err
    assert "Traceback" not in err
    ((task_id, fault, cost),) = call_rows(project)
    assert (task_id, fault) == ("a", "cancelled")
    assert cost > 0  # the 5,000 input tokens message_start reported are booked
    assert stages_left(project) == []


def test_sigterm_during_a_hung_check_kills_every_check_process(tmp_path: Path) -> None:
    marker = f"1000.{secrets.randbelow(10**6):06d}"  # `sleep` takes a fraction: a unique argv
    project = tmp_path / "p"
    project.mkdir()
    (project / "gearshift.toml").write_text(
        '[validation]\nchecks = ["hang"]\n'
        "[validation.commands.hang]\n"
        f'run = "setsid sleep {marker}1 & sleep {marker}2 & wait"\n'
        "timeout_s = 3000\n"
    )
    (project / "tasks.toml").write_text(TASKS)
    create = Reply.tool_use(
        "str_replace_based_edit_tool", {"command": "create", "path": "made.py", "file_text": "X = 1\n"}
    )
    with MessagesServer([create, Reply.text("done")]) as server:
        proc = start(project, server)
        wait_for(lambda: len(with_marker(marker)) >= 2, proc)  # both sleeps are running
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, (out, err)
    assert "Traceback" not in err
    assert with_marker(marker) == []  # the setsid one too
    assert stages_left(project) == []
    assert not (project / "made.py").exists()
    assert [fault for _, fault, _ in call_rows(project)] == [None, None]  # both answers booked


def test_sighup_after_the_terminal_is_gone_still_books_the_call_and_cleans_up(tmp_path: Path) -> None:
    """A closed terminal: SIGHUP arrives and every later write to stdout or stderr fails (EPIPE
    here, EIO on a real tty). The cleanup must not depend on being able to say anything."""
    project, stalled = stalled_answer(tmp_path)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    env = {**os.environ, "PYTHONPATH": TUI, "ANTHROPIC_API_KEY": "test-key"}
    with MessagesServer([stalled]) as server:
        env["ANTHROPIC_BASE_URL"] = server.url
        proc = subprocess.Popen(
            [sys.executable, "-m", "gearshift", "run", str(project), "--headless", "--trust"],
            env=env,
            stdout=out_w,
            stderr=err_w,
        )
        os.close(out_w)
        os.close(err_w)
        wait_for(lambda: server.message_requests, proc)
        time.sleep(0.5)  # let message_start reach the client
        os.close(out_r)  # the terminal goes away: nothing can be written any more
        os.close(err_r)
        proc.send_signal(signal.SIGHUP)
        proc.wait(timeout=120)
    assert proc.returncode == 129
    ((task_id, fault, cost),) = call_rows(project)
    assert (task_id, fault) == ("a", "cancelled") and cost > 0
    assert stages_left(project) == []
