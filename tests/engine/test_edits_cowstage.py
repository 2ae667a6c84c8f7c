"""The copy-on-write stage: edits in a layer, reads falling through, the project never written;
the pending layer laid once per session; stages of dead processes swept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from gearshift.edits.cowstage import CowStage, PendingLayer, stages_home, sweep_dead
from gearshift.edits.workspace import FileChange, PathRefused

from tests.engine.test_edits_workspace import make_tree


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_tree(
        tmp_path / "proj",
        {"pkg/__init__.py": "", "pkg/mod.py": "def f():\n    return 1\n", "README.md": "hello\n"},
    )


@pytest.fixture
def stage(project: Path, tmp_path: Path) -> CowStage:
    return CowStage.create(project, tmp_path / "stages", "t-1-1")


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_new_stage_is_empty_and_reads_fall_through(project: Path, stage: CowStage) -> None:
    assert list(stage.root.iterdir()) == []  # nothing copied, whatever the project's size
    assert stage.read_text("pkg/mod.py") == "def f():\n    return 1\n"
    assert stage.workdir == project and stage.shares_inodes is False


def test_edits_land_in_the_layer_and_the_project_is_never_written(project: Path, stage: CowStage) -> None:
    before = snapshot(project)
    stage.write_text("pkg/mod.py", "def f():\n    return 2\n")
    stage.write_text("pkg/new/extra.py", "X = 1\n")
    stage.remove("README.md")
    assert snapshot(project) == before
    assert (stage.root / "pkg/mod.py").read_text() == "def f():\n    return 2\n"
    assert stage.read_text("pkg/new/extra.py") == "X = 1\n"
    with pytest.raises(FileNotFoundError):
        stage.read_text("README.md")
    assert [(c.path, c.before is None, c.after is None) for c in stage.changes()] == [
        ("README.md", False, True),
        ("pkg/mod.py", False, False),
        ("pkg/new/extra.py", True, False),
    ]
    layers = stage.layers()
    assert layers.project == project and layers.layers == (stage.root,)
    assert layers.deleted == frozenset({"README.md"})


def test_the_merged_view_lists_new_files_and_hides_deleted_ones(stage: CowStage) -> None:
    stage.write_text("pkg/new.py", "")
    stage.remove("pkg/mod.py")
    assert stage.listdir("pkg") == [("pkg/__init__.py", False), ("pkg/new.py", False)]
    assert stage.exists("pkg/new.py") and not stage.exists("pkg/mod.py") and stage.is_dir("pkg")
    with pytest.raises(IsADirectoryError):
        stage.write_text("pkg", "x")


def test_paths_are_confined_to_the_project(project: Path, stage: CowStage, tmp_path: Path) -> None:
    for bad in ("../escape.py", "/etc/passwd", ".git/config", "node_modules/x.js"):
        with pytest.raises(PathRefused):
            stage.write_text(bad, "x")
    (project / "out").symlink_to(tmp_path)
    with pytest.raises(PathRefused):
        stage.write_text("out/x.py", "x")
    assert stage.rel(str(project / "pkg" / "mod.py")) == "pkg/mod.py"
    assert stage.rel(str(stage.root / "pkg" / "mod.py")) == "pkg/mod.py"


def test_clone_copies_the_edits_and_reset_falls_back_to_the_project(stage: CowStage) -> None:
    stage.write_text("pkg/mod.py", "edited\n")
    stage.remove("README.md")
    other = stage.clone("t-1-2")
    assert other.read_text("pkg/mod.py") == "edited\n" and not other.exists("README.md")
    assert [c.path for c in other.changes()] == ["README.md", "pkg/mod.py"]
    stage.reset()
    assert stage.changes() == [] and list(stage.root.rglob("*.py")) == []
    assert stage.read_text("README.md") == "hello\n" and stage.layers().deleted == frozenset()
    assert other.read_text("pkg/mod.py") == "edited\n"  # the clone is its own


def test_pending_layer_is_the_base_and_changes_are_measured_from_it(project: Path, tmp_path: Path) -> None:
    pending = PendingLayer.create(project, tmp_path / "stages" / "pending-1-1")
    pending.add("a", [FileChange("pkg/mod.py", "def f():\n    return 1\n", "pending\n")])
    pending.add("b", [FileChange("README.md", "hello\n", None), FileChange("NEW.md", None, "new\n")])
    stage = CowStage.create(project, tmp_path / "stages", "t-1-3", base=pending)
    assert stage.read_text("pkg/mod.py") == "pending\n" and stage.read_text("NEW.md") == "new\n"
    assert not stage.exists("README.md")
    stage.write_text("pkg/mod.py", "task\n")
    stage.write_text("README.md", "back\n")
    (change_mod,) = [c for c in stage.changes() if c.path == "pkg/mod.py"]
    assert change_mod.before == "pending\n" and change_mod.after == "task\n"
    layers = stage.layers()
    assert layers.layers == (pending.root, stage.root)
    assert layers.deleted == frozenset()  # README.md is written again above the pending deletion


def test_stages_live_outside_the_project(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    home = stages_home(project)
    assert home.is_relative_to(tmp_path / "cache") and not home.is_relative_to(project)
    assert stages_home(project) == home and stages_home(tmp_path / "other") != home


def test_stages_of_dead_processes_are_swept(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(dead.stdout)
    folder = tmp_path / "stages"
    for name in (f"t-{dead_pid}-1", f"pending-{dead_pid}-2", f"t-{os.getpid()}-1", "unrelated"):
        (folder / name).mkdir(parents=True)
    assert sorted(sweep_dead(folder)) == [f"pending-{dead_pid}-2", f"t-{dead_pid}-1"]
    assert sorted(p.name for p in folder.iterdir()) == [f"t-{os.getpid()}-1", "unrelated"]
