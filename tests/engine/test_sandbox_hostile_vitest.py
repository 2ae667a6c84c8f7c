"""A hostile vitest setup file, written into a copy-on-write stage, run by vitest_run in the
sandbox: it cannot change the project, write outside it, read $HOME, see the API key, reach a
local port, or leave a detached child behind."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from pathlib import Path

import pytest
from gearshift.config import config_from_mapping
from gearshift.edits.cowstage import CowStage
from gearshift.events import Event
from gearshift.validation.checks import resolve_checks
from gearshift.validation.runner import run_validation
from gearshift.validation.sandbox import Confinement, choose

from tests.engine.test_sandbox_hostile import KEY, SECRET, marked_processes, tree_hashes
from tests.engine.test_validation_node import TOOLS, make_project

pytestmark = pytest.mark.skipif(TOOLS is None, reason="no installed node_modules to borrow")

SETUP = """
import * as fs from "node:fs";
import * as net from "node:net";
import { spawn } from "node:child_process";
const got: string[] = [];
const attempt = (name: string, f: () => string) => {
  try { got.push(`${name}:${f()}`); } catch (e: any) { got.push(`${name}:${e.code ?? e.message}`); }
};
attempt("append", () => { fs.appendFileSync(%(cart)s, "// HACKED\\n"); return "done-in-sandbox"; });
attempt("outside", () => { fs.writeFileSync(%(outside)s, "escaped"); return "done-in-sandbox"; });
attempt("secret", () => fs.readFileSync(%(secret)s, "utf8"));
got.push("key:" + (process.env.ANTHROPIC_API_KEY ?? "none"));
const connected = await new Promise<string>((resolve) => {
  const s = net.connect(%(port)d, "127.0.0.1", () => { s.end(); resolve("done"); });
  s.on("error", (e: any) => resolve(e.code));
});
got.push("connect:" + connected);
spawn(process.execPath, ["-e", "setTimeout(() => {}, 600000)", %(marker)s], { detached: true, stdio: "ignore" }).unref();
throw new Error("HOSTILE " + got.join(" | "));
"""


async def test_a_hostile_vitest_setup_file_is_contained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status = choose("auto")
    if status.bwrap is None:
        pytest.skip("no bubblewrap sandbox on this machine")
    home = tmp_path / "home"
    home.mkdir()
    (home / "secret.txt").write_text(SECRET)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    root = make_project(tmp_path / "web")
    # A real node_modules folder in the project, as an install makes (the borrowed one is outside
    # the project, so read-only in the sandbox, and vite writes node_modules/.vite-temp).
    (root / "node_modules").unlink()
    (root / "node_modules").mkdir()
    assert TOOLS is not None
    for entry in TOOLS.iterdir():
        if entry.name in (".vite", ".vite-temp"):  # caches an earlier vitest run left, not an install's
            continue
        (root / "node_modules" / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    outside, marker = tmp_path / "outside.txt", f"gearshift-vitest-hostile-{os.getpid()}"
    before = tree_hashes(root)
    stage = CowStage.create(root, tmp_path / "stages", "t-1-1")
    stage.write_text(
        "vitest.config.mjs",
        'export default { test: { setupFiles: ["./src/setup.ts"], include: ["src/**/*.test.ts"] } };\n',
    )
    args = {
        "cart": root / "src" / "cart.ts",
        "outside": outside,
        "secret": home / "secret.txt",
        "marker": marker,
    }
    stage.write_text(
        "src/setup.ts",
        SETUP % {**{k: json.dumps(str(v)) for k, v in args.items()}, "port": listener.getsockname()[1]},
    )
    config = config_from_mapping(root, "test", {"validation": {"checks": ["vitest_run"]}})
    events: list[Event] = []
    result = await run_validation(
        resolve_checks(config, stage.workdir),
        stage.workdir,
        events.append,
        run_id="r",
        task_id=None,
        confinement=Confinement(status.bwrap, stage.layers()),
    )
    said = json.dumps([e.to_dict() for e in events])
    assert result.outcome != "pass" and "HOSTILE" in said, said[-2000:]
    assert "append:done-in-sandbox" in said and "key:none" in said and "secret:ENOENT" in said
    assert "connect:done" not in said and "connect:" in said
    assert KEY not in said and SECRET not in said
    assert tree_hashes(root) == before and not outside.exists()
    with pytest.raises(BlockingIOError):
        listener.accept()
    listener.close()
    deadline = time.monotonic() + 10
    while marked_processes(marker) and time.monotonic() < deadline:  # noqa: ASYNC110 - polling /proc
        await asyncio.sleep(0.05)
    assert marked_processes(marker) == []
