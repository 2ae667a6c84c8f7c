"""Python import resolution on a small fixture tree, one language feature per test."""

from __future__ import annotations

from pathlib import Path

import pytest
from gearshift.context.graph import ImportGraph

from tests.support.context_trees import copy_tree, write

UNTRACKED = {  # folders git would not keep in the fixture, all to be skipped
    ".venv/lib/ignored.py": "import pkg\n",
    "build/generated.py": "import pkg\n",
    "env2/pyvenv.cfg": "home = /usr\n",
    "env2/lib/site.py": "import pkg\n",
    "node_modules/x/index.js": "require('y')\n",
    "generated_out/x.py": "import pkg\n",  # the fixture's .gitignore: generated_*/
    "pkg/skip.gen.py": "import pkg\n",  # and *.gen.py
}


@pytest.fixture
def py_root(tmp_path: Path) -> Path:
    return copy_tree("py_project", tmp_path, UNTRACKED)


@pytest.fixture
def graph(py_root: Path) -> ImportGraph:
    return ImportGraph.load_or_build(py_root)


def test_skips_hidden_venv_build_node_modules_and_gitignored(graph: ImportGraph) -> None:
    files = graph.files
    assert "app.py" in files and "pkg/mod.py" in files
    for skipped in (".venv/lib/ignored.py", "build/generated.py", "env2/lib/site.py",
                    "node_modules/x/index.js", "generated_out/x.py", "pkg/skip.gen.py"):
        assert skipped not in files


def test_relative_imports_levels_one_and_two(graph: ImportGraph) -> None:
    # from . import sub / from .types import Sized
    assert graph.imports("pkg/mod.py") == {"pkg/sub/__init__.py", "pkg/types.py"}
    # from .. import mod / from ..mod import Thing; from ...outside goes above the tree: no edge
    assert graph.imports("pkg/sub/leaf.py") == {"pkg/mod.py"}


def test_from_import_of_a_submodule_versus_a_name(graph: ImportGraph) -> None:
    edges = graph.edges("app.py")
    # `from pkg import Shape, Thing, sub`: sub is a module, Shape and Thing names of pkg/__init__
    assert "pkg/sub/__init__.py" in edges
    assert sorted(edges["pkg/__init__.py"].bound()) == ["Shape", "Thing"]


def test_import_dotted_module_and_src_layout(graph: ImportGraph) -> None:
    imports = graph.imports("app.py")
    assert "pkg/sub/leaf.py" in imports  # import pkg.sub.leaf
    assert "src/srcpkg/core.py" in imports  # from srcpkg.core import run (src/ is a source root)
    assert graph.imports("src/srcpkg/core.py") == {"src/srcpkg/helpers.py"}


def test_external_modules_are_leaves(graph: ImportGraph) -> None:
    # json, typing, os and __future__ are not project files: no edges, no crash
    assert all(target.endswith(".py") and target in graph.files for target in graph.imports("app.py"))
    assert graph.imports("pkg/types.py") == set()


def test_type_checking_and_lazy_imports_are_marked(graph: ImportGraph) -> None:
    edges = graph.edges("app.py")
    assert edges["pkg/types.py"].type_only
    assert not edges["pkg/__init__.py"].type_only
    assert edges["cycle_a.py"].lazy
    assert not edges["pkg/sub/leaf.py"].lazy


def test_cycles(graph: ImportGraph) -> None:
    assert graph.imports("cycle_a.py") == {"cycle_b.py"}
    assert graph.imports("cycle_b.py") == {"cycle_a.py"}
    assert graph.importers("cycle_a.py") == {"cycle_b.py", "app.py"}
    assert graph.fanout(["cycle_a.py", "cycle_b.py"]) == 1  # only app.py; themselves excluded


def test_script_folder_is_on_its_own_path(graph: ImportGraph) -> None:
    assert graph.imports("scripts/tool.py") == {"scripts/sibling.py"}


def test_importers_and_fanout(graph: ImportGraph) -> None:
    assert graph.importers("pkg/mod.py") == {"pkg/__init__.py", "pkg/sub/leaf.py", "tests/test_mod.py"}
    linked = graph.imports("pkg/mod.py") | graph.importers("pkg/mod.py")
    assert graph.fanout(["pkg/mod.py"]) == len(linked) == 5


def test_definitions_follow_reexports(graph: ImportGraph) -> None:
    assert graph.definition("pkg/__init__.py", "Thing") == ("pkg/mod.py", "c")
    assert graph.definition("pkg/__init__.py", "Shape") == ("pkg/shapes.py", "t")  # via `import *`
    assert graph.definition("pkg/types.py", "Sized") == ("pkg/types.py", "t")
    assert graph.definition("pkg/types.py", "Count") == ("pkg/types.py", "t")
    assert graph.definition("pkg/__init__.py", "missing") is None


def test_resolve_module_names_and_paths(graph: ImportGraph) -> None:
    assert graph.resolve_module("pkg.mod") == "pkg/mod.py"
    assert graph.resolve_module("pkg") == "pkg/__init__.py"
    assert graph.resolve_module("srcpkg.core") == "src/srcpkg/core.py"
    assert graph.resolve_module("src/srcpkg/core") == "src/srcpkg/core.py"
    assert graph.resolve_module("pkg/sub") == "pkg/sub/__init__.py"
    assert graph.resolve_module("app.py") == "app.py"
    assert graph.resolve_module("json") is None
    assert graph.resolve_module("../elsewhere.py") is None


def test_syntax_error_file_is_indexed_without_edges(py_root: Path) -> None:
    write(py_root, "broken.py", "import pkg\ndef oops(:\n")
    graph = ImportGraph.load_or_build(py_root)
    assert "broken.py" in graph.files
    assert graph.imports("broken.py") == set()
    record = graph.record("broken.py")
    assert record is not None and record.error.startswith("SyntaxError")
