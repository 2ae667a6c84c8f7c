"""Redaction, the second wall: the API key, the auth token and base-URL credentials never leave
gearshift in what it writes or sends, even when a check prints them or the model echoes them.

The key is planted where a hostile check can read it (a file in the project that a trusted
custom command cats, then fails), so it reaches the findings, the live log, the correction and
escalation requests and the ledger — each of which must show `[redacted]` instead.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from gearshift import redact
from gearshift.cli import main

from tests.engine.pipeline_project import GOOD, insert_after_total, make_project
from tests.support.hostile import EDITOR, TASKS, edit_once
from tests.support.messages_server import MessagesServer, Reply

KEY = "sk-ant-api03-PLANTED-fake-key-0123456789"
TOKEN = "tok-PLANTED-auth-token-777"
PASSWORD = "BASEPASS-secret-99"


@pytest.fixture(autouse=True)
def user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "xdg"


def ledger_dump(project: Path) -> str:
    db = sqlite3.connect(project / ".gearshift" / "ledger.db")
    try:
        return "\n".join(db.iterdump())
    finally:
        db.close()


def everything_written(project: Path) -> str:
    """Every file gearshift wrote in the project's .gearshift folder but the ledger, as text."""
    out = []
    for path in sorted((project / ".gearshift").rglob("*")):
        if path.is_file() and not path.name.startswith("ledger.db"):
            out.append(path.read_text("utf-8", "replace"))
    return "\n".join(out)


def test_the_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "tok")  # shorter than 8: not replaced on its own
    monkeypatch.setenv("ANTHROPIC_BASE_URL", f"http://u:{PASSWORD}@gw.example:8080/v1")
    assert redact.redact(f"key={KEY}!") == "key=[redacted]!"
    assert redact.redact("a token, stock") == "a token, stock"
    assert redact.redact(f"could not reach http://u:{PASSWORD}@gw.example:8080/v1") == (
        "could not reach http://[redacted]@gw.example:8080/v1"
    )
    assert redact.redact(f"pw {PASSWORD} alone") == "pw [redacted] alone"
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://u:pw@gw.example")  # short, but named with its host
    assert (
        redact.redact("at http://u:pw@gw.example/x, pw stays")
        == "at http://[redacted]@gw.example/x, pw stays"
    )
    assert redact.redact_value({"a": [f"{KEY}", (KEY, 3)], KEY: 1}) == {
        "a": ["[redacted]", ("[redacted]", 3)],
        "[redacted]": 1,
    }
    assert redact.redact_bytes(b"x " + KEY.encode()) == b"x [redacted]"


def test_a_streamed_secret_split_across_pieces_is_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    stream = redact.TextStream()
    pieces = ["I saw sk-", "ant-api03-PLAN", "TED-fake-key-01234", "56789 and sk-a", "lone"]
    shown = [stream.feed(p) for p in pieces]
    assert shown[0] == "I saw "  # "sk-" could start the key: held back
    assert "".join(shown) + stream.flush() == "I saw [redacted] and sk-alone"
    assert all("sk-ant-api03" not in piece for piece in shown)


def test_nothing_to_redact_leaves_values_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    value = {"k": ["text"]}
    assert not redact.active()
    assert redact.redact_value(value) is value


def test_a_check_that_prints_the_key_leaks_it_nowhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(
        tmp_path / "p",
        '[validation.commands.leak]\nrun = "cat secret.txt; exit 1"\nkind = "logic"\n',
    )
    config = project / "gearshift.toml"
    config.write_text(config.read_text().replace('"pytest"]', '"leak"]'))
    (project / "secret.txt").write_text(f"ANTHROPIC_API_KEY={KEY}\nANTHROPIC_AUTH_TOKEN={TOKEN}\n")
    (project / "tasks.toml").write_text(TASKS)
    with MessagesServer(edit_once) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", TOKEN)  # unused while a key is set, and still secret
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        code = main(["run", str(project), "--headless", "--json", "--trust"])
    out = capsys.readouterr()
    assert code == 1  # the check always fails
    bodies = [json.dumps(r.json) for r in server.message_requests]
    assert len(bodies) >= 3  # the first attempt, a correction, the escalation
    streams = {"--json stream": out.out, "stderr": out.err, "ledger": ledger_dump(project)}
    streams |= {f"request {i}": body for i, body in enumerate(bodies)}
    streams["files"] = everything_written(project)
    for where, text in streams.items():
        assert KEY not in text, where
        assert TOKEN not in text, where
    # not vacuous: the key was printed, found and sent — as [redacted]
    assert "ANTHROPIC_API_KEY=[redacted]" in out.out and "ANTHROPIC_AUTH_TOKEN=[redacted]" in out.out
    assert any("ANTHROPIC_API_KEY=[redacted]" in b for b in bodies[1:])
    assert "[redacted]" in ledger_dump(project)


def test_an_echoed_key_is_redacted_in_the_patch_and_the_recording(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path / "p")
    (project / "tasks.toml").write_text(TASKS)
    create = {"command": "create", "path": "notes.txt", "file_text": f"the key is {KEY}\n"}
    blocks = (
        {"type": "text", "text": f"I saw {KEY} in your environment."},
        {"type": "tool_use", "name": EDITOR, "input": create},
        {"type": "tool_use", "name": EDITOR, "input": insert_after_total(GOOD)},
    )
    replies = [Reply(blocks=blocks, stop_reason="tool_use"), Reply.text("Done.")]
    recordings = tmp_path / "rec"
    with MessagesServer(replies) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        code = main(["run", str(project), "--headless", "--json", "--record", str(recordings)])
    out = capsys.readouterr().out
    assert code == 0, out
    patch = (project / ".gearshift" / "patches" / "t1.diff").read_text()
    assert "+the key is [redacted]" in patch and KEY not in patch
    recorded = "".join(p.read_text() for p in recordings.rglob("*") if p.is_file())
    assert "I saw [redacted] in" in recorded and KEY not in recorded
    streamed = "".join(e["text"] for e in map(json.loads, out.splitlines()) if e["type"] == "text_delta")
    assert KEY not in out and "I saw [redacted] in your environment." in streamed  # split across deltas
    assert KEY not in ledger_dump(project)
    # the redacted recording still replays: the same answer, redacted
    again = make_project(tmp_path / "again")
    (again / "tasks.toml").write_text(TASKS)
    assert main(["run", str(again), "--headless", "--json", "--replay", str(recordings)]) == 0
    replayed = capsys.readouterr().out
    assert "I saw [redacted] in" in "".join(
        e["text"] for e in map(json.loads, replayed.splitlines()) if e["type"] == "text_delta"
    )
    assert "+the key is [redacted]" in (again / ".gearshift" / "patches" / "t1.diff").read_text()


def test_base_url_credentials_are_not_in_a_connection_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path / "p")
    (project / "tasks.toml").write_text(TASKS)
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", f"http://gsuser:{PASSWORD}@127.0.0.1:9")  # discard: refused
    code = main(["run", str(project), "--headless"])
    out = capsys.readouterr()
    assert code == 1
    assert "could not reach the API at http://[redacted]@127.0.0.1:9" in out.out
    for text in (out.out, out.err, ledger_dump(project), everything_written(project)):
        assert PASSWORD not in text and "gsuser" not in text
