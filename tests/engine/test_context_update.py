"""Incremental updates equal a cold rebuild; the cache is trusted only while mtime and size match."""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest
from gearshift.context import cache
from gearshift.context.graph import ImportGraph

from tests.support.context_trees import copy_tree, write

MODULES = ["pkg.mod", "pkg.types", "pkg.shapes", "pkg.sub", "pkg.sub.leaf", "cycle_a", "cycle_b",
           "srcpkg.core", "srcpkg.helpers", "pkg.extra", "pkg.sub.more", "newtop"]


def snapshot(graph: ImportGraph) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    return {f: (frozenset(graph.imports(f)), frozenset(graph.importers(f))) for f in graph.files}


def cold(root: Path, tmp: Path) -> ImportGraph:
    """A graph built from nothing (its cache goes elsewhere, so nothing is reused)."""
    fresh = tmp / f"cold-{random.random()}"
    graph = ImportGraph.load_or_build(root, cache_dir=fresh)
    assert graph.stats["cold"]
    return graph


def random_source(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(0, 4)):
        module = rng.choice(MODULES)
        head, _, tail = module.rpartition(".")
        if head and rng.random() < 0.5:
            lines.append(f"from {head} import {tail}")
        else:
            lines.append(f"import {module}")
    if rng.random() < 0.3:
        lines.append("from . import sibling")
    lines.append(f"VALUE = {rng.randint(0, 10**6)}")
    return "\n".join(lines) + "\n"


def test_randomised_edits_update_equals_cold_rebuild(tmp_path: Path) -> None:
    root = copy_tree("py_project", tmp_path)
    graph = ImportGraph.load_or_build(root)
    rng = random.Random(20240611)
    pool = ["pkg/extra.py", "pkg/sub/more.py", "newtop.py", "pkg/sibling.py", "pkg/sub/sibling.py"]
    for _round in range(40):
        before = snapshot(graph)
        touched: list[str] = []
        for _ in range(rng.randint(1, 3)):
            existing = sorted(graph.files | {p for p in pool if (root / p).exists()})
            action = rng.random()
            if action < 0.55:
                rel = rng.choice(existing)
                write(root, rel, random_source(rng))
            elif action < 0.8:
                rel = rng.choice(pool)
                write(root, rel, random_source(rng))
            else:
                rel = rng.choice(existing)
                (root / rel).unlink(missing_ok=True)
            touched.append(rel)
        changed = graph.update(touched)
        after = snapshot(graph)
        reference = cold(root, tmp_path)
        assert graph.files == reference.files
        assert after == snapshot(reference)
        imports_before = {f: v[0] for f, v in before.items()}
        imports_after = {f: v[0] for f, v in after.items()}
        expected = {f for f in imports_before.keys() | imports_after.keys()
                    if imports_before.get(f, frozenset()) != imports_after.get(f, frozenset())}
        assert set(changed) == expected
    # and what was persisted (cache + journal) loads to the same graph
    warm = ImportGraph.load_or_build(root)
    assert warm.stats["parsed"] == 0
    assert snapshot(warm) == snapshot(graph)


def test_update_returns_files_whose_resolution_changed(tmp_path: Path) -> None:
    root = copy_tree("py_project", tmp_path)
    graph = ImportGraph.load_or_build(root)
    write(root, "pkg/Shape.py", "X = 1\n")  # `from pkg import Shape` now means this module
    changed = graph.update(["pkg/Shape.py"])
    assert "app.py" in changed
    assert "pkg/Shape.py" in graph.imports("app.py")
    (root / "pkg/Shape.py").unlink()
    assert "app.py" in graph.update([str(root / "pkg/Shape.py")])  # absolute paths work too
    assert "pkg/Shape.py" not in graph.files


def test_update_of_a_deleted_folder_and_paths_to_ignore(tmp_path: Path) -> None:
    root = copy_tree("py_project", tmp_path)
    graph = ImportGraph.load_or_build(root)
    shutil.rmtree(root / "src")
    write(root, "node_modules/dep/index.py", "import pkg\n")
    changed = graph.update(["src", "/elsewhere/x.py", "README.md", ".venv/lib/x.py", "node_modules"])
    assert not any(f.startswith("node_modules/") for f in graph.files)
    assert not any(f.startswith("src/") for f in graph.files)
    assert changed == ["app.py", "src/srcpkg/core.py"]
    assert snapshot(graph) == snapshot(cold(root, tmp_path))


def test_update_after_tsconfig_change(tmp_path: Path) -> None:
    root = copy_tree("ts_project", tmp_path)
    graph = ImportGraph.load_or_build(root)
    assert "src/lib/util.ts" in graph.imports("src/app.ts")
    write(root, "tsconfig.json", '{"extends": "./tsconfig.base.json"}')
    changed = graph.update(["tsconfig.json"])
    assert "src/app.ts" in changed
    assert "src/lib/util.ts" not in graph.imports("src/app.ts")  # "@lib/*" is gone
    assert snapshot(graph) == snapshot(cold(root, tmp_path))


def test_warm_load_reparses_only_files_whose_mtime_or_size_changed(tmp_path: Path) -> None:
    root = copy_tree("py_project", tmp_path)
    first = ImportGraph.load_or_build(root)
    assert first.stats["cold"] and first.stats["parsed"] == len(first.files)
    assert ImportGraph.load_or_build(root).stats["parsed"] == 0

    same_size = root / "pkg/sub/__init__.py"
    old = same_size.stat()
    same_size.write_text('NAME = "bus"\n')  # same length, new mtime
    os.utime(same_size, ns=(old.st_atime_ns, old.st_mtime_ns + 1_000_000))
    other = root / "cycle_b.py"
    old_b = other.stat()
    other.write_text(other.read_text() + "\n")  # new size, old mtime
    os.utime(other, ns=(old_b.st_atime_ns, old_b.st_mtime_ns))

    warm = ImportGraph.load_or_build(root)
    assert warm.stats["parsed"] == 2
    assert not warm.stats["cold"]
    assert warm.record("pkg/sub/__init__.py").defs == {"NAME": "v"}  # type: ignore[union-attr]


def test_update_is_journalled_then_folded_into_the_cache(tmp_path: Path) -> None:
    root = copy_tree("py_project", tmp_path)
    graph = ImportGraph.load_or_build(root)
    cache_path = root / ".gearshift" / cache.CACHE_NAME
    journal = cache.journal_path(cache_path)
    snapshot_bytes = cache_path.read_bytes()
    write(root, "cycle_b.py", "import pkg.mod\n")
    graph.update(["cycle_b.py"])
    assert cache_path.read_bytes() == snapshot_bytes  # not rewritten
    assert journal.exists()
    warm = ImportGraph.load_or_build(root)
    assert warm.stats["parsed"] == 0  # the journal had the new record
    assert warm.imports("cycle_b.py") == {"pkg/mod.py"}
    assert not journal.exists()  # folded in


def test_corrupt_or_foreign_cache_means_a_rebuild(tmp_path: Path) -> None:
    root = copy_tree("py_project", tmp_path)
    ImportGraph.load_or_build(root)
    cache_path = root / ".gearshift" / cache.CACHE_NAME
    cache_path.write_bytes(b"\x00garbage")
    cache.journal_path(cache_path).write_bytes(b"\x01more garbage")
    graph = ImportGraph.load_or_build(root)
    assert graph.stats["cold"]
    assert graph.imports("cycle_a.py") == {"cycle_b.py"}
    moved = tmp_path / "moved"
    shutil.copytree(root, moved)  # its cache names the old root: not trusted
    assert ImportGraph.load_or_build(moved).stats["cold"]


def test_unwritable_cache_still_gives_a_graph(tmp_path: Path) -> None:
    """The cache cannot be written whoever runs the test (root included): its folder's path
    runs through a regular file, and in a second project a folder stands where the file goes."""
    root = copy_tree("py_project", tmp_path)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file on the cache folder's path")
    graph = ImportGraph.load_or_build(root, cache_dir=blocker / "sub")
    assert "cache_error" in graph.stats
    assert graph.imports("cycle_a.py") == {"cycle_b.py"}
    assert blocker.read_text() == "a file on the cache folder's path"
    occupied = tmp_path / "occupied"
    (occupied / cache.CACHE_NAME).mkdir(parents=True)
    graph = ImportGraph.load_or_build(root, cache_dir=occupied)
    assert "cache_error" in graph.stats
    assert graph.imports("cycle_a.py") == {"cycle_b.py"}


def test_unwritable_cache_path_is_reported_not_raised(tmp_path: Path) -> None:
    root = copy_tree("py_project", tmp_path)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the cache folder should be")
    graph = ImportGraph.load_or_build(root, cache_dir=blocker)
    assert "cache_error" in graph.stats
    write(root, "cycle_b.py", "import pkg\n")
    assert graph.update(["cycle_b.py"]) == ["cycle_b.py"]


def test_refresh_picks_up_edits_made_without_a_watcher(tmp_path: Path) -> None:
    root = copy_tree("py_project", tmp_path)
    graph = ImportGraph.load_or_build(root)
    write(root, "cycle_a.py", "import pkg.types\n")
    assert graph.refresh(["cycle_a.py", "cycle_b.py"]) == ["cycle_a.py"]
    assert graph.imports("cycle_a.py") == {"pkg/types.py"}


@pytest.mark.parametrize("tree", ["py_project", "ts_project"])
def test_two_process_cold_build_equals_one_process(tree: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gearshift.context import scan

    root = copy_tree(tree, tmp_path)
    single = cold(root, tmp_path)
    assert single.stats["workers"] == 1
    monkeypatch.setattr(scan, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(scan.os, "cpu_count", lambda: 2)
    double = cold(root, tmp_path)
    assert double.stats["workers"] == 2
    assert snapshot(double) == snapshot(single)
    assert {f: double.record(f) for f in double.files} == {f: single.record(f) for f in single.files}
    monkeypatch.setattr(scan.sys, "executable", str(tmp_path / "no-such-python"))
    fallback = cold(root, tmp_path)  # the worker cannot start: its half is parsed here
    assert fallback.stats["workers"] == 1
    assert snapshot(fallback) == snapshot(single)


def test_a_folder_event_indexes_new_files_and_reparses_changed_ones(tmp_path: Path) -> None:
    root = copy_tree("py_project", tmp_path)
    graph = ImportGraph.load_or_build(root)
    write(root, "pkg/newsub/__init__.py", "")
    write(root, "pkg/newsub/a.py", "from pkg import mod\n")
    changed = graph.update(["pkg/newsub"])
    assert "pkg/newsub/a.py" in graph.files and "pkg/newsub/a.py" in changed
    assert graph.imports("pkg/newsub/a.py") == {"pkg/mod.py"}
    write(root, "pkg/newsub/a.py", "from pkg import types\n")
    assert graph.update([str(root / "pkg/newsub")]) == ["pkg/newsub/a.py"]
    assert snapshot(graph) == snapshot(cold(root, tmp_path))
