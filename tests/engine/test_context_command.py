"""`gearshift context`: the engine's own selection, shown as JSON or a table, no model involved."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from gearshift.config import load_config
from gearshift.context.command import main
from gearshift.context.select import select_context

from tests.support.context_trees import copy_tree, write


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_tree("py_project", tmp_path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_report_is_the_engines_selection(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(root), "--files", "pkg/mod.py", "--prompt", "grow things", "--json")
    assert code == 0
    data = json.loads(out)
    engine = select_context(root, load_config(root).context, ["pkg/mod.py"], "grow things").to_dict()
    assert data["files"] == engine["files"]
    assert data["pruned"] == engine["pruned"]
    assert (data["tokens_sent"], data["tokens_naive"], data["fanout"]) == (
        engine["tokens_sent"], engine["tokens_naive"], engine["fanout"])
    assert set(data["timings_ms"]) == {"graph", "update", "select"}
    assert all(v >= 0 for v in data["timings_ms"].values())
    assert data["graph"]["files"] > 10 and data["config"]["token_budget"] == 24000
    assert data["files"][0] == {"path": "pkg/mod.py", "reason": "named", "tokens": data["files"][0]["tokens"], "mode": "full"}


def test_first_run_builds_and_second_loads(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, first, _ = run(capsys, str(root), "--files", "app.py", "--json")
    _, second, _ = run(capsys, str(root), "--files", "app.py", "--json")
    assert json.loads(first)["graph"]["cold"] is True
    assert json.loads(second)["graph"] == {**json.loads(first)["graph"], "cold": False, "parsed": 0, "workers": 0}


def test_table_lists_files_reasons_and_pruned(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(root), "--files", "pkg/mod.py", "--max-files", "2")
    assert code == 0
    assert "2 files" in out.splitlines()[0]
    assert "pkg/mod.py" in out and "named" in out
    assert "pruned (" in out and "over max_files (2)" in out
    assert "timings: graph" in out


def test_text_option_includes_what_is_sent(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, str(root), "--files", "app.py", "--json", "--text")
    first = json.loads(out)["files"][0]
    assert first["text"] == (root / "app.py").read_text()


def test_budget_override(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, str(root), "--files", "app.py", "--json", "--budget", "1")
    data = json.loads(out)
    assert [f["path"] for f in data["files"]] == ["app.py"]
    assert data["config"]["token_budget"] == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--files", "missing.py"], "missing.py: no such file"),
        (["--files", "pkg"], "pkg: is a folder"),
        ([], "name at least one file"),
        (["--prompt", "nothing here"], "no project file is named"),
        (["--files", "app.py", "--budget", "0"], "--budget: expected a positive integer"),
    ],
)
def test_bad_input_exits_2_with_a_clear_error(
    root: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, str(root), *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("gearshift context: error: ") and message in err


def test_an_ambiguous_mention_alone_says_so_with_the_candidates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "src/index.ts", "export const a = 1;\n")
    write(tmp_path, "lib/index.ts", "export const b = 2;\n")
    code, out, err = run(capsys, str(tmp_path), "--prompt", "fix index.ts")
    assert (code, out) == (2, "")
    assert err.startswith("gearshift context: error: the prompt's mention is ambiguous: ")
    assert "index.ts could be lib/index.ts, src/index.ts" in err
    assert "no project file is named" not in err
    code, out, _ = run(capsys, str(tmp_path), "--prompt", "fix src/index.ts")  # a path settles it
    assert code == 0 and "src/index.ts" in out


def test_missing_project_and_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, str(tmp_path / "nowhere"), "--files", "x.py")
    assert code == 2 and "not a project folder" in err
    write(tmp_path, "gearshift.toml", "[context]\nmax_files = 0\n")
    write(tmp_path, "x.py", "x = 1\n")
    code, _, err = run(capsys, str(tmp_path), "--files", "x.py")
    assert code == 2 and "context.max_files" in err


def test_unknown_option_exits_2(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([str(root), "--frobnicate"])
    assert info.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_imports_neither_the_sdk_nor_textual(root: Path) -> None:
    code = (
        "import sys\nfrom gearshift.context.command import main\n"
        f"rc = main([{str(root)!r}, '--files', 'app.py', '--json'])\n"
        "print(rc, 'anthropic' in sys.modules, 'textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip().splitlines()[-1] == "0 False False"
