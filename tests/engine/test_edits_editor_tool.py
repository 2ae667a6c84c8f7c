"""The text editor tool: each command, each error, paths, newline styles."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from gearshift.edits.editor_tool import TOOL_DEFINITION, EditorTool, ToolOutcome
from gearshift.edits.workspace import Stage

MOD = "import os\n\n\ndef f():\n    return 1\n\n\ndef g():\n    return 1\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    files = {
        "pkg/__init__.py": "",
        "pkg/mod.py": MOD,
        "pkg/sub/deep/x.py": "X = 1\n",
        ".hidden/h.txt": "h\n",
        "node_modules/lib/i.js": "1\n",
        "empty.txt": "",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "crlf.txt").write_bytes(b"one\r\ntwo\r\nthree\r\n")
    (root / "noeol.txt").write_bytes(b"one\ntwo")
    (root / "blob.bin").write_bytes(b"\xff\xfe\x00\x01binary")
    (root / "nul.txt").write_bytes(b"text\x00more\n")
    return root


@pytest.fixture
def stage(project: Path) -> Stage:
    return Stage.create(project, project / ".gearshift" / "stages", "t")


@pytest.fixture
def tool(stage: Stage) -> EditorTool:
    return EditorTool(stage)


def run(tool: EditorTool, **tool_input: Any) -> ToolOutcome:
    return tool.execute(tool_input)


def raw(stage: Stage, rel: str) -> bytes:
    return (stage.root / rel).read_bytes()


def test_tool_definition() -> None:
    assert TOOL_DEFINITION == {
        "type": "text_editor_20250728",
        "name": "str_replace_based_edit_tool",
    }


def test_definition_announces_max_characters(stage: Stage) -> None:
    assert EditorTool(stage).definition == TOOL_DEFINITION
    assert EditorTool(stage, max_characters=50).definition["max_characters"] == 50


# -- view ---------------------------------------------------------------------------------------


def test_view_file_numbers_lines(tool: EditorTool) -> None:
    out = run(tool, command="view", path="pkg/mod.py")
    assert not out.is_error and not out.edited and out.diff == ""
    assert out.path == "pkg/mod.py"
    assert out.content.splitlines()[0] == "     1\timport os"
    assert out.content.splitlines()[-1] == "     9\t    return 1"


def test_view_range(tool: EditorTool) -> None:
    out = run(tool, command="view", path="pkg/mod.py", view_range=[4, 5])
    assert out.content == "     4\tdef f():\n     5\t    return 1"
    to_end = run(tool, command="view", path="pkg/mod.py", view_range=[8, -1])
    assert to_end.content == "     8\tdef g():\n     9\t    return 1"
    past = run(tool, command="view", path="pkg/mod.py", view_range=[9, 20])
    assert not past.is_error
    assert past.content.startswith("     9\t    return 1\n") and "ends at line 9" in past.content


@pytest.mark.parametrize(
    ("view_range", "message"),
    [
        ([0, 3], "start 0 is out of range"),
        ([10, 12], "start 10 is out of range"),
        ([5, 3], "before its start"),
        ([1], "list of two integers"),
        ("1-3", "list of two integers"),
        ([1, "3"], "must be an integer"),
        ([True, 3], "must be an integer"),
    ],
)
def test_view_range_errors(tool: EditorTool, view_range: object, message: str) -> None:
    out = run(tool, command="view", path="pkg/mod.py", view_range=view_range)
    assert out.is_error and message in out.content


def test_view_directory_two_levels_without_hidden_or_ignored(tool: EditorTool) -> None:
    out = run(tool, command="view", path=".")
    assert not out.is_error
    listed = out.content.splitlines()[1:]
    assert "pkg/" in listed and "pkg/mod.py" in listed and "pkg/sub/" in listed
    assert "pkg/sub/deep/" not in listed  # third level
    assert not [e for e in listed if "hidden" in e or "node_modules" in e or "gearshift" in e]
    sub = run(tool, command="view", path="pkg")
    assert "pkg/sub/deep/" in sub.content.splitlines()
    bad = run(tool, command="view", path="pkg", view_range=[1, 2])
    assert bad.is_error and "directory" in bad.content


def test_view_empty_file(tool: EditorTool) -> None:
    assert run(tool, command="view", path="empty.txt").content == "empty.txt is empty."
    out = run(tool, command="view", path="empty.txt", view_range=[1, 1])
    assert out.is_error and "empty" in out.content


def test_view_truncates_to_max_characters(stage: Stage) -> None:
    out = EditorTool(stage, max_characters=20).execute({"command": "view", "path": "pkg/mod.py"})
    assert out.content.startswith("     1\timport os\n   ")
    assert "truncated: showing 20 of" in out.content


def test_view_of_absolute_path_inside_project(project: Path, tool: EditorTool) -> None:
    out = run(tool, command="view", path=str(project / "pkg/mod.py"))
    assert not out.is_error and out.path == "pkg/mod.py" and "def f():" in out.content


# -- create -------------------------------------------------------------------------------------


def test_create_new_file_with_parent_dirs(project: Path, stage: Stage, tool: EditorTool) -> None:
    out = run(tool, command="create", path="pkg/new/thing.py", file_text="A = 1\nB = 2\n")
    assert not out.is_error and out.edited
    assert out.content == "Created pkg/new/thing.py (2 lines)."
    assert out.diff.startswith("--- /dev/null\n+++ b/pkg/new/thing.py\n")
    assert raw(stage, "pkg/new/thing.py") == b"A = 1\nB = 2\n"
    assert not (project / "pkg/new").exists()


def test_create_refuses_an_existing_file_and_leaves_it_alone(stage: Stage, tool: EditorTool) -> None:
    out = run(tool, command="create", path="crlf.txt", file_text="uno\ndos\n")
    assert out.is_error and not out.edited
    assert "file already exists at crlf.txt" in out.content and "str_replace" in out.content
    assert raw(stage, "crlf.txt") == b"one\r\ntwo\r\nthree\r\n"
    created = run(tool, command="create", path="fresh.py", file_text="A = 1\n")
    assert not created.is_error
    again = run(tool, command="create", path="fresh.py", file_text="A = 2\n")  # its own file too
    assert again.is_error and raw(stage, "fresh.py") == b"A = 1\n"


def test_create_errors(tool: EditorTool) -> None:
    assert "missing required parameter 'file_text'" in run(tool, command="create", path="a.py").content
    wrong = run(tool, command="create", path="a.py", file_text=["x"])
    assert wrong.is_error and "must be a string" in wrong.content
    folder = run(tool, command="create", path="pkg", file_text="x")
    assert folder.is_error and "directory" in folder.content
    binary = run(tool, command="create", path="blob.bin", file_text="x")
    assert binary.is_error and "already exists" in binary.content


# -- str_replace --------------------------------------------------------------------------------


def test_str_replace_exactly_one_match(project: Path, stage: Stage, tool: EditorTool) -> None:
    out = run(tool, command="str_replace", path="pkg/mod.py",
              old_str="def f():\n    return 1", new_str="def f():\n    return 2")  # fmt: skip
    assert not out.is_error and out.edited
    assert "line 4" in out.content and "     5\t    return 2" in out.content
    assert "-    return 1\n+    return 2\n" in out.diff
    assert stage.read_text("pkg/mod.py") == MOD.replace("def f():\n    return 1", "def f():\n    return 2")
    assert (project / "pkg/mod.py").read_text() == MOD


def test_str_replace_no_match(tool: EditorTool) -> None:
    out = run(tool, command="str_replace", path="pkg/mod.py", old_str="return 42", new_str="x")
    assert out.is_error and not out.edited and "no match for old_str" in out.content


def test_str_replace_no_match_hints_at_indentation(tool: EditorTool) -> None:
    out = run(tool, command="str_replace", path="pkg/mod.py", old_str="  def g():\n", new_str="")
    assert out.is_error and "line(s) 8" in out.content


def test_str_replace_several_matches_lists_lines(stage: Stage, tool: EditorTool) -> None:
    out = run(tool, command="str_replace", path="pkg/mod.py", old_str="return 1", new_str="return 2")
    assert out.is_error and "matches 2 times" in out.content and "lines 5, 9" in out.content
    assert stage.read_text("pkg/mod.py") == MOD


def test_str_replace_overlapping_matches_are_ambiguous(stage: Stage, tool: EditorTool) -> None:
    stage.write_text("aaa.txt", "aaa\n")
    out = run(tool, command="str_replace", path="aaa.txt", old_str="aa", new_str="b")
    assert out.is_error and "matches 2 times" in out.content


def test_str_replace_empty_new_str_deletes(stage: Stage, tool: EditorTool) -> None:
    out = run(tool, command="str_replace", path="pkg/mod.py", old_str="import os\n", new_str="")
    assert not out.is_error
    assert stage.read_text("pkg/mod.py") == MOD.removeprefix("import os\n")


def test_str_replace_parameter_errors(tool: EditorTool) -> None:
    missing = run(tool, command="str_replace", path="pkg/mod.py", old_str="import os")
    assert missing.is_error and "'new_str'" in missing.content
    empty = run(tool, command="str_replace", path="pkg/mod.py", old_str="", new_str="x")
    assert empty.is_error and "must not be empty" in empty.content
    gone = run(tool, command="str_replace", path="nope.py", old_str="a", new_str="b")
    assert gone.is_error and "no such file: nope.py" in gone.content
    same = run(tool, command="str_replace", path="pkg/mod.py", old_str="import os", new_str="import os")
    assert not same.is_error and not same.edited and "identical" in same.content


def test_str_replace_on_crlf_file_keeps_crlf(stage: Stage, tool: EditorTool) -> None:
    out = run(tool, command="str_replace", path="crlf.txt", old_str="two\nthree", new_str="2\n3\n3b")
    assert not out.is_error
    assert raw(stage, "crlf.txt") == b"one\r\n2\r\n3\r\n3b\r\n"


def test_str_replace_keeps_missing_final_newline(stage: Stage, tool: EditorTool) -> None:
    run(tool, command="str_replace", path="noeol.txt", old_str="one", new_str="uno")
    assert raw(stage, "noeol.txt") == b"uno\ntwo"


def test_binary_and_nul_files_are_refused(tool: EditorTool) -> None:
    blob = run(tool, command="view", path="blob.bin")
    assert blob.is_error and "not a UTF-8 text file" in blob.content
    nul = run(tool, command="str_replace", path="nul.txt", old_str="text", new_str="t")
    assert nul.is_error and "binary" in nul.content


# -- insert -------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["insert_text", "new_str"])
def test_insert_accepts_both_key_names(stage: Stage, tool: EditorTool, key: str) -> None:
    out = tool.execute({"command": "insert", "path": "pkg/mod.py", "insert_line": 0, key: "# top\n"})
    assert not out.is_error and out.edited
    assert stage.read_text("pkg/mod.py") == "# top\n" + MOD
    assert out.diff.splitlines()[2:4] == ["@@ -1,3 +1,4 @@", "+# top"]


def test_insert_after_line_and_at_end(stage: Stage, tool: EditorTool) -> None:
    run(tool, command="insert", path="pkg/mod.py", insert_line=5, insert_text="    # after 5")
    lines = stage.read_text("pkg/mod.py").split("\n")
    assert lines[4:6] == ["    return 1", "    # after 5"]
    run(tool, command="insert", path="pkg/mod.py", insert_line=10, insert_text="END = 1\n")
    assert stage.read_text("pkg/mod.py").endswith("    return 1\nEND = 1\n")


def test_insert_preserves_crlf_and_missing_final_newline(stage: Stage, tool: EditorTool) -> None:
    run(tool, command="insert", path="crlf.txt", insert_line=1, insert_text="1.5\n")
    assert raw(stage, "crlf.txt") == b"one\r\n1.5\r\ntwo\r\nthree\r\n"
    run(tool, command="insert", path="noeol.txt", insert_line=2, insert_text="three\n")
    assert raw(stage, "noeol.txt") == b"one\ntwo\nthree"


def test_insert_into_empty_file(stage: Stage, tool: EditorTool) -> None:
    out = run(tool, command="insert", path="empty.txt", insert_line=0, insert_text="first\n")
    assert not out.is_error and raw(stage, "empty.txt") == b"first\n"


@pytest.mark.parametrize(
    ("tool_input", "message"),
    [
        ({"insert_line": 10, "insert_text": "x"}, "insert_line 10 is out of range"),
        ({"insert_line": -1, "insert_text": "x"}, "insert_line -1 is out of range"),
        ({"insert_line": "2", "insert_text": "x"}, "must be an integer"),
        ({"insert_text": "x"}, "missing required parameter 'insert_line'"),
        ({"insert_line": 1}, "missing required parameter 'new_str'"),
        ({"insert_line": 1, "insert_text": ""}, "nothing to insert"),
    ],
)
def test_insert_errors(tool: EditorTool, tool_input: dict[str, Any], message: str) -> None:
    out = tool.execute({"command": "insert", "path": "pkg/mod.py", **tool_input})
    assert out.is_error and message in out.content


# -- commands, input shape, paths ---------------------------------------------------------------


def test_undo_edit_is_explained(tool: EditorTool) -> None:
    out = run(tool, command="undo_edit", path="pkg/mod.py")
    assert out.is_error and "text_editor_20250728" in out.content and "undo_edit" in out.content


@pytest.mark.parametrize(
    ("tool_input", "message"),
    [
        ({"command": "delete", "path": "pkg/mod.py"}, "unknown command 'delete'"),
        ({"path": "pkg/mod.py"}, "unknown command None"),
        ({"command": "view"}, "missing required parameter 'path'"),
        ({"command": "view", "path": 3}, "must be a string"),
    ],
)
def test_bad_calls_are_errors(tool: EditorTool, tool_input: dict[str, Any], message: str) -> None:
    out = tool.execute(tool_input)
    assert out.is_error and message in out.content and out.diff == ""


def test_non_dict_input_is_an_error(tool: EditorTool) -> None:
    out = tool.execute(["view", "x"])  # type: ignore[arg-type]
    assert out.is_error and "JSON object" in out.content


@pytest.mark.parametrize("path", ["../outside.txt", "/etc/passwd", "link_out", "dir_out/f.txt"])
def test_paths_leading_out_are_errors(tmp_path: Path, project: Path, path: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "f.txt").write_text("secret\n")
    os.symlink(outside / "f.txt", project / "link_out")
    os.symlink(outside, project / "dir_out")
    tool = EditorTool(Stage.create(project, project / ".gearshift" / "stages", "esc"))
    for command in ({"command": "view"}, {"command": "create", "file_text": "pwned\n"}):
        out = tool.execute({**command, "path": path})
        assert out.is_error and "refused" in out.content, out.content
    assert (outside / "f.txt").read_text() == "secret\n"


# -- hostile input ------------------------------------------------------------------------------


def test_written_text_over_max_edit_bytes_is_refused(stage: Stage) -> None:
    tool = EditorTool(stage, max_edit_bytes=100)
    big = "x" * 101
    for tool_input in (
        {"command": "create", "path": "big.txt", "file_text": big},
        {"command": "str_replace", "path": "pkg/mod.py", "old_str": "import os", "new_str": big},
        {"command": "insert", "path": "pkg/mod.py", "insert_line": 0, "insert_text": big},
    ):
        out = tool.execute(tool_input)
        assert out.is_error and "101 bytes, over the limit of 100 (session.max_edit_bytes)" in out.content
    assert not (stage.root / "big.txt").exists()
    assert raw(stage, "pkg/mod.py") == MOD.encode()
    # At the limit is fine; and the default is 1 MB.
    assert not tool.execute({"command": "create", "path": "ok.txt", "file_text": "x" * 100}).is_error
    assert EditorTool(stage).max_edit_bytes == 1_000_000


@pytest.mark.parametrize(
    ("tool_input", "message"),
    [
        (
            {"command": "create", "path": "a.py", "file_text": "x", "mode": "w"},
            "unexpected parameter(s) 'mode'",
        ),
        (
            {"command": "view", "path": "pkg/mod.py", "old_str": "x"},
            "unexpected parameter(s) 'old_str' for view",
        ),
        ({"command": "create", "path": "a.py", "file_text": ["x"]}, "'file_text' must be a string, not list"),
        ({"command": "create", "path": 7, "file_text": "x"}, "'path' must be a string, not int"),
        (
            {"command": "create", "path": "a.py", "file_text": "bad \ud800 text"},
            "invalid Unicode (a lone surrogate)",
        ),
        ({"command": "create", "path": "a\ud800.py", "file_text": "x"}, "'path' holds invalid Unicode"),
        ({"command": "create", "path": "a\x00.py", "file_text": "x"}, "'path' contains a NUL character"),
        (
            {"command": "create", "path": "a.py", "file_text": "a\x00b"},
            "'file_text' contains a NUL character",
        ),
        (
            {"command": "str_replace", "path": "pkg/mod.py", "old_str": "os", "new_str": None},
            "missing required",
        ),
        (
            {"command": "insert", "path": "pkg/mod.py", "insert_line": "1", "insert_text": "x"},
            "must be an integer",
        ),
        ({"command": "view", "path": "pkg/mod.py", "view_range": {"a": 1}}, "view_range must be a list"),
        ({"command": {"x": 1}, "path": "a.py"}, "unknown command"),
        ({"command": "create", "path": "a/" + "n" * 300 + ".py", "file_text": "x"}, "too long"),
    ],
)
def test_malformed_input_is_an_error_result_never_an_exception(
    stage: Stage, tool: EditorTool, tool_input: dict[str, Any], message: str
) -> None:
    before = sorted(p.relative_to(stage.root) for p in stage.root.rglob("*"))
    out = tool.execute(tool_input)
    assert out.is_error and not out.edited and message in out.content
    out.content.encode("utf-8")  # what goes back to the model is valid UTF-8
    out.path.encode("utf-8")
    assert sorted(p.relative_to(stage.root) for p in stage.root.rglob("*")) == before
