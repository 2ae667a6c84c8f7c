"""Selection: named files byte-exact, neighbours ranked and explained, caps and budgets honoured."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from gearshift.config import ContextConfig
from gearshift.context.graph import ImportGraph
from gearshift.context.select import ContextError, Selection, select_context
from gearshift.models.pricing import estimate_tokens

from tests.support.context_trees import copy_tree, write

CFG = ContextConfig()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_tree("py_project", tmp_path)


def by_path(selection: Selection) -> dict[str, object]:
    return {f.path: f for f in selection.files}


def test_named_files_go_first_whole_and_byte_exact(root: Path) -> None:
    write(root, "pkg/mod.py", (root / "pkg/mod.py").read_text() + "# trailing comment kept\r\n")
    sel = select_context(root, CFG, ["pkg/mod.py"])
    first = sel.files[0]
    assert (first.path, first.reason, first.mode) == ("pkg/mod.py", "named", "full")
    assert first.text == (root / "pkg/mod.py").read_bytes().decode("utf-8")
    assert first.tokens == estimate_tokens(first.text)


def test_every_neighbour_has_its_reason(root: Path) -> None:
    sel = select_context(root, CFG, ["pkg/mod.py"])
    reasons = {f.path: f.reason for f in sel.files}
    assert reasons["pkg/types.py"] == "type of pkg/mod.py"  # Sized is a Protocol
    assert reasons["pkg/sub/__init__.py"] == "imported by pkg/mod.py"
    assert reasons["tests/test_mod.py"] == "imports pkg/mod.py"
    assert reasons["pkg/sub/leaf.py"] == "imports pkg/mod.py"
    # three dependents at most with the default max_files (15 // 5): the test ranks first
    dependents = [f.path for f in sel.files if f.reason.startswith("imports")]
    assert dependents[0] == "tests/test_mod.py"
    assert sel.fanout == ImportGraph.load_or_build(root).fanout(["pkg/mod.py"]) == 5


def test_context_files_are_stripped_or_sent_full_as_configured(root: Path) -> None:
    named = "pkg/sub/leaf.py"
    stripped = by_path(select_context(root, CFG, [named]))
    full = by_path(select_context(root, replace(CFG, strip_documentation=False), [named]))
    mod_s, mod_f = stripped["pkg/mod.py"], full["pkg/mod.py"]
    assert mod_s.mode == "stripped" and "A thing." not in mod_s.text  # type: ignore[attr-defined]
    assert mod_f.mode == "full" and mod_f.text == (root / "pkg/mod.py").read_text()  # type: ignore[attr-defined]
    assert stripped[named].text == full[named].text == (root / named).read_text()  # type: ignore[attr-defined]


def test_max_files_caps_the_neighbours_never_the_named_files(root: Path) -> None:
    sel = select_context(root, replace(CFG, max_files=2), ["pkg/mod.py"])
    assert len(sel.files) == 2
    assert any(p["reason"].endswith("over max_files (2)") for p in sel.pruned)
    # more named files than max_files: every one is sent whole, nothing is added around them
    named = ["app.py", "pkg/mod.py", "cycle_a.py"]
    sel = select_context(root, replace(CFG, max_files=1), named)
    assert [(f.path, f.reason, f.mode) for f in sel.files] == [(p, "named", "full") for p in named]
    assert [f.text for f in sel.files] == [(root / p).read_text() for p in named]
    assert not any(p["path"] in named for p in sel.pruned)
    assert sel.pruned and all(p["reason"].endswith("over max_files (1)") for p in sel.pruned)


def big_module(n: int) -> str:
    funcs = "\n\n".join(
        f'def helper_{i}(value: int) -> int:\n    """Helper {i}."""\n'
        + "".join(f"    value = value * {k} + {i}  # step {k}\n" for k in range(12))
        + "    return value\n"
        for i in range(n)
    )
    return f'"""A large module."""\n\nimport os\n\n\n{funcs}\n\n\ndef wanted(x: int) -> int:\n    return helper_1(x) + 1\n'


def test_tight_budget_sends_signatures_with_the_used_definitions_whole(root: Path) -> None:
    write(root, "pkg/big.py", big_module(60))
    write(root, "user.py", "from pkg.big import wanted\n\nprint(wanted(2))\n")
    named_tokens = estimate_tokens((root / "user.py").read_text())
    budget = named_tokens + 1500
    sel = select_context(root, replace(CFG, token_budget=budget), ["user.py"])
    big = by_path(sel)["pkg/big.py"]
    assert big.mode == "signatures"  # type: ignore[attr-defined]
    text = big.text  # type: ignore[attr-defined]
    assert "def wanted(x: int) -> int:\n    return helper_1(x) + 1\n" in text  # what user.py uses
    assert "def helper_7(value: int) -> int:\n    ...\n" in text  # the rest as signatures
    assert "import os" not in text and "step" not in text
    assert sel.tokens_sent <= budget
    full = estimate_tokens((root / "pkg/big.py").read_text())
    assert sel.tokens_naive == named_tokens + full


def test_what_does_not_fit_is_pruned_with_the_numbers(root: Path) -> None:
    write(root, "pkg/big.py", big_module(60))
    write(root, "user.py", "from pkg.big import wanted\n\nprint(wanted(2))\n")
    sel = select_context(root, replace(CFG, token_budget=30), ["user.py"])
    assert [f.path for f in sel.files] == ["user.py"]
    (pruned,) = [p for p in sel.pruned if p["path"] == "pkg/big.py"]
    assert pruned["reason"].startswith("imported by user.py; over token budget (")


def test_pruning_strategy_none_sends_only_named_files(root: Path) -> None:
    cfg = replace(CFG, pruning_strategy="none")
    sel = select_context(root, cfg, ["app.py", "pkg/mod.py"])
    assert [(f.path, f.reason, f.mode) for f in sel.files] == [("app.py", "named", "full"), ("pkg/mod.py", "named", "full")]
    assert sel.pruned == []
    assert sel.tokens_naive > sel.tokens_sent  # the naive selection adds what they import


def test_include_types_off_leaves_type_only_imports_out(root: Path) -> None:
    on = select_context(root, CFG, ["app.py"])
    off = select_context(root, replace(CFG, include_types=False), ["app.py"])
    assert by_path(on)["pkg/types.py"].reason == "type of app.py"  # type: ignore[attr-defined]
    assert "pkg/types.py" not in by_path(off)
    assert {"path": "pkg/types.py", "reason": "type-only import of app.py (include_types is off)"} in off.pruned


def test_type_definitions_behind_reexports_are_found(root: Path) -> None:
    sel = select_context(root, CFG, ["app.py"])
    reasons = {f.path: f.reason for f in sel.files}
    # `from pkg import Shape`: pkg/__init__ re-exports it from pkg/shapes.py (an Enum)
    assert "type of app.py" in reasons["pkg/shapes.py"]
    assert "imported by app.py" in reasons["pkg/__init__.py"]


def test_tokens_naive_is_named_plus_direct_imports(root: Path) -> None:
    sel = select_context(root, CFG, ["pkg/sub/leaf.py"])
    direct = ["pkg/mod.py"]  # leaf.py's only project import
    expected = sum(estimate_tokens((root / p).read_text()) for p in ["pkg/sub/leaf.py", *direct])
    assert sel.tokens_naive == expected
    assert sel.tokens_sent == sum(f.tokens for f in sel.files)


def test_prompt_mentions_name_files(root: Path) -> None:
    sel = select_context(root, CFG, [], "Fix pkg.sub.leaf, then cycle_a.py and src/srcpkg/core (see srcpkg.helpers.table).")
    named = [f.path for f in sel.files if f.reason == "named"]
    assert named == ["pkg/sub/leaf.py", "cycle_a.py", "src/srcpkg/core.py", "src/srcpkg/helpers.py"]


def test_ambiguous_mentions_are_reported(root: Path) -> None:
    write(root, "a/util.py", "X = 1\n")
    write(root, "b/util.py", "Y = 2\n")
    sel = select_context(root, CFG, ["app.py"], "look at util.py")
    assert not any(f.path.endswith("util.py") for f in sel.files)
    (entry,) = [p for p in sel.pruned if p["path"] == "util.py"]
    assert entry["reason"] == "mentioned in the prompt but ambiguous: a/util.py, b/util.py"


def test_named_module_names_and_non_source_files(root: Path) -> None:
    write(root, "README.md", "# read me\n")
    sel = select_context(root, CFG, ["pkg.types", "README.md"])
    assert [f.path for f in sel.files[:2]] == ["pkg/types.py", "README.md"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [("nope.py", "nope.py: no such file in "), ("pkg", "pkg: is a folder, not a file"),
     ("../outside.py", "../outside.py: outside the project")],
)
def test_bad_named_paths_raise_a_clear_error(root: Path, entry: str, message: str) -> None:
    (root.parent / "outside.py").write_text("x = 1\n")
    with pytest.raises(ContextError) as info:
        select_context(root, CFG, [entry])
    assert str(info.value).startswith(message)


def test_binary_named_file_is_refused(root: Path) -> None:
    (root / "blob.bin").write_bytes(b"\x00\x01\x02")
    with pytest.raises(ContextError, match="not a text file"):
        select_context(root, CFG, ["blob.bin"])


def test_edits_made_without_a_watcher_are_seen(root: Path) -> None:
    graph = ImportGraph.load_or_build(root)
    write(root, "cycle_b.py", "import cycle_a\nimport pkg.shapes\n\n\ndef pong() -> str:\n    return 'new'\n")
    sel = select_context(root, CFG, ["cycle_b.py"], graph=graph)
    assert "pkg/shapes.py" in by_path(sel)
    assert "return 'new'" in sel.files[0].text


def test_a_file_created_after_the_load_is_indexed_when_named(root: Path) -> None:
    graph = ImportGraph.load_or_build(root)
    write(root, "fresh.py", "from pkg.mod import Thing\n")
    sel = select_context(root, CFG, ["fresh.py"], graph=graph)
    assert "fresh.py" in graph.files
    assert by_path(sel)["pkg/mod.py"].reason == "imported by fresh.py"  # type: ignore[attr-defined]


def test_to_dict_is_json_and_matches(root: Path) -> None:
    sel = select_context(root, CFG, ["pkg/mod.py"])
    data = json.loads(json.dumps(sel.to_dict()))
    assert set(data) == {"files", "pruned", "tokens_sent", "tokens_naive", "fanout", "timings_ms"}
    assert [f["path"] for f in data["files"]] == [f.path for f in sel.files]
    assert set(data["files"][0]) == {"path", "reason", "tokens", "mode"}
    assert set(data["timings_ms"]) == {"graph", "update", "select"}
    assert "text" in sel.to_dict(include_text=True)["files"][0]


def test_typescript_selection(tmp_path: Path) -> None:
    root = copy_tree("ts_project", tmp_path)
    sel = select_context(root, CFG, ["src/lib/util.ts"], "")
    reasons = {f.path: f.reason for f in sel.files}
    assert reasons["src/lib/util.ts"] == "named"
    assert reasons["src/models/index.ts"] == "type of src/lib/util.ts"  # Shape is an interface
    assert reasons["src/models/shape.ts"] == "type of src/lib/util.ts"  # behind the re-export
    assert reasons["src/app.ts"] == "imports src/lib/util.ts"
    assert "// width times height" in sel.files[0].text  # named: byte-exact


# Files the prompt mentions: whole when they fit the budget, cut or left out (with why) when not


def big_json(rows: int, indent: int | None = 2) -> str:
    data = {f"key_{i}": {"id": i, "name": f"row {i}", "tags": ["a", "b", "c"]} for i in range(rows)}
    return json.dumps(data, indent=indent) + "\n"


def test_a_huge_mentioned_file_is_cut_to_its_first_lines_within_the_budget(root: Path) -> None:
    text = write(root, "data.json", big_json(20_000)).read_text()
    whole = estimate_tokens(text)
    assert whole > 10 * CFG.token_budget
    sel = select_context(root, CFG, [], "what keys are in data.json?")
    data = by_path(sel)["data.json"]
    assert data.mode == "truncated"  # type: ignore[attr-defined]
    assert data.reason == (  # type: ignore[attr-defined]
        f"mentioned in the prompt; over token budget ({whole} tokens, {CFG.token_budget} left); "
        "sent its first lines"
    )
    head = data.text  # type: ignore[attr-defined]
    body, _, note = head.rstrip("\n").rpartition("\n")
    assert text.startswith(body + "\n") and '"key_0"' in body
    assert note.startswith("… [truncated: the first ") and f" of {text.count(chr(10)):,} lines shown" in note
    assert data.tokens == estimate_tokens(head) <= CFG.token_budget  # type: ignore[attr-defined]
    assert sel.tokens_sent <= CFG.token_budget
    assert sel.tokens_naive >= whole  # a tool without pruning would have sent all of it


def test_a_single_huge_line_is_cut_mid_line(root: Path) -> None:
    text = write(root, "data.json", big_json(5_000, indent=None)).read_text()
    cfg = replace(CFG, token_budget=2_000)
    sel = select_context(root, cfg, [], "what keys are in data.json?")
    data = by_path(sel)["data.json"]
    assert data.mode == "truncated" and data.tokens <= 2_000  # type: ignore[attr-defined]
    assert text.startswith(data.text.split("\n… [truncated: ")[0])  # type: ignore[attr-defined]
    assert f"of {len(text):,} characters shown" in data.text  # type: ignore[attr-defined]


def test_a_mention_that_fits_is_sent_whole_as_named(root: Path) -> None:
    write(root, "data.json", '{"a": 1, "b": 2}\n')
    sel = select_context(root, CFG, [], "what keys are in data.json?")
    data = by_path(sel)["data.json"]
    assert (data.reason, data.mode, data.text) == ("named", "full", '{"a": 1, "b": 2}\n')  # type: ignore[attr-defined]


def test_context_files_stay_whole_whatever_their_size(root: Path) -> None:
    text = write(root, "data.json", big_json(2_000)).read_text()
    cfg = replace(CFG, token_budget=1_000)
    sel = select_context(root, cfg, ["data.json"], "add a key to data.json")
    assert [(f.path, f.reason, f.mode) for f in sel.files] == [("data.json", "named", "full")]
    assert sel.files[0].text == text


def test_a_large_mentioned_module_is_sent_as_an_outline(root: Path) -> None:
    write(root, "pkg/big.py", big_module(80))
    cfg = replace(CFG, token_budget=3_000)
    sel = select_context(root, cfg, ["app.py"], "Why does wanted in pkg/big.py return the wrong value?")
    big = by_path(sel)["pkg/big.py"]
    assert big.mode == "signatures"  # type: ignore[attr-defined]
    assert big.reason.startswith("mentioned in the prompt; over token budget (")  # type: ignore[attr-defined]
    assert big.reason.endswith("; sent as an outline")  # type: ignore[attr-defined]
    assert "def wanted(x: int) -> int:\n    return helper_1(x) + 1\n" in big.text  # type: ignore[attr-defined]
    assert "def helper_7(value: int) -> int:\n    ...\n" in big.text  # type: ignore[attr-defined]
    assert sel.tokens_sent <= 3_000


def test_a_mention_with_no_room_left_is_pruned_with_the_numbers(root: Path) -> None:
    text = write(root, "data.json", big_json(2_000)).read_text()
    named = estimate_tokens((root / "app.py").read_text())
    cfg = replace(CFG, token_budget=named + 100)
    sel = select_context(root, cfg, ["app.py"], "load data.json in app.py")
    assert "data.json" not in by_path(sel)
    assert {
        "path": "data.json",
        "reason": f"mentioned in the prompt; over token budget ({estimate_tokens(text)} tokens, 100 left); left out",
    } in sel.pruned
    assert sum(p["path"] == "data.json" for p in sel.pruned) == 1


def test_a_binary_mention_is_skipped_with_why_not_a_failed_task(root: Path) -> None:
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    write(root, "README.md", "# read me\n")
    sel = select_context(root, CFG, ["README.md"], "Add a link to logo.png in README.md")
    assert [f.path for f in sel.files] == ["README.md"]
    assert sel.pruned == [{"path": "logo.png", "reason": "mentioned in the prompt; not a text file"}]
    # named in context_files it is still refused: the model cannot edit it
    with pytest.raises(ContextError, match=r"^logo\.png: not a text file$"):
        select_context(root, CFG, ["logo.png"], "Add a link to logo.png in README.md")
