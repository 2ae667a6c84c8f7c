"""Applying to the user's files: all or nothing, atomic, journaled, undoable after a restart."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from gearshift.edits.apply import ApplyConflict, applied_tasks, apply_changes, undo
from gearshift.edits.workspace import FileChange, PathRefused, Stage

A = "def a():\n    return 1\n"
B = "def b():\n    return 1\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg/a.py").write_text(A)
    (root / "pkg/b.py").write_text(B)
    (root / "run.sh").write_text("echo hi\n")
    os.chmod(root / "run.sh", 0o755)
    return root


@pytest.fixture
def journal_dir(project: Path) -> Path:
    return project / ".gearshift" / "journal"


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".gearshift" not in p.parts
    }


def test_apply_writes_every_file_and_journals(project: Path, journal_dir: Path) -> None:
    changes = [
        FileChange("pkg/a.py", A, A.replace("1", "2")),
        FileChange("pkg/new/c.py", None, "C = 3\n"),
        FileChange("pkg/b.py", B, None),
        FileChange("run.sh", "echo hi\n", "echo bye\n"),
    ]
    applied = apply_changes(project, changes, journal_dir, "t1")
    assert applied.task_id == "t1"
    assert applied.files == ["pkg/a.py", "pkg/new/c.py", "pkg/b.py", "run.sh"]
    assert applied.journal == journal_dir / "t1.json"
    assert (project / "pkg/a.py").read_text() == A.replace("1", "2")
    assert (project / "pkg/new/c.py").read_text() == "C = 3\n"
    assert not (project / "pkg/b.py").exists()
    assert os.stat(project / "run.sh").st_mode & 0o777 == 0o755  # mode kept
    journal = json.loads(applied.journal.read_text())
    assert [f["path"] for f in journal["files"]] == applied.files
    assert journal["files"][0]["before"] == A and journal["files"][1]["before"] is None
    assert not [p for p in project.rglob("*gearshift-tmp*")]  # no temp files left
    assert applied_tasks(journal_dir) == ["t1"]


def test_apply_replaces_files_atomically_new_inode(project: Path, journal_dir: Path) -> None:
    inode = os.stat(project / "pkg/a.py").st_ino
    held = (project / "pkg/a.py").open()  # a reader holding the old file still sees old text
    apply_changes(project, [FileChange("pkg/a.py", A, "new\n")], journal_dir, "t1")
    assert os.stat(project / "pkg/a.py").st_ino != inode
    assert held.read() == A
    held.close()


def test_conflict_refuses_before_writing_anything(project: Path, journal_dir: Path) -> None:
    (project / "pkg/b.py").write_text("the user edited this\n")
    before = snapshot(project)
    changes = [FileChange("pkg/a.py", A, "changed\n"), FileChange("pkg/b.py", B, "changed\n")]
    with pytest.raises(ApplyConflict, match="pkg/b.py: was edited since it was staged") as info:
        apply_changes(project, changes, journal_dir, "t1")
    assert info.value.path == "pkg/b.py"
    assert snapshot(project) == before
    assert applied_tasks(journal_dir) == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (FileChange("pkg/a.py", None, "x\n"), "was created since"),
        (FileChange("pkg/gone.py", "x\n", "y\n"), "was deleted since"),
        (FileChange("pkg", "x\n", "y\n"), "no longer a text file"),
    ],
)
def test_each_kind_of_conflict(project: Path, journal_dir: Path, change: FileChange, reason: str) -> None:
    before = snapshot(project)
    with pytest.raises(ApplyConflict, match=reason):
        apply_changes(project, [change], journal_dir, "t1")
    assert snapshot(project) == before


def test_paths_outside_the_project_are_refused(project: Path, journal_dir: Path, tmp_path: Path) -> None:
    for path in ("../escape.txt", "/etc/passwd", ".git/config"):
        with pytest.raises(PathRefused):
            apply_changes(project, [FileChange(path, None, "x")], journal_dir, "t1")
    assert not (tmp_path / "escape.txt").exists()


def test_bad_task_id_and_duplicate_paths(project: Path, journal_dir: Path) -> None:
    with pytest.raises(ValueError, match="cannot name a journal"):
        apply_changes(project, [], journal_dir, "../evil")
    twice = [FileChange("pkg/a.py", A, "1\n"), FileChange("pkg/./a.py", A, "2\n")]
    with pytest.raises(ValueError, match="appears twice"):
        apply_changes(project, twice, journal_dir, "t1")
    assert (project / "pkg/a.py").read_text() == A


def test_failed_write_rolls_back(project: Path, journal_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(project)
    real_replace = os.replace

    def flaky(src: str | Path, dst: str | Path) -> None:
        if str(dst).endswith("b.py"):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    changes = [
        FileChange("pkg/a.py", A, "changed\n"),
        FileChange("pkg/new/c.py", None, "C\n"),
        FileChange("pkg/b.py", B, "changed\n"),
    ]
    with pytest.raises(OSError, match="No space"):
        apply_changes(project, changes, journal_dir, "t1")
    assert snapshot(project) == before
    assert not (project / "pkg/new").exists()
    assert applied_tasks(journal_dir) == []


def test_undo_restores_and_removes_created_files(project: Path, journal_dir: Path) -> None:
    before = snapshot(project)
    changes = [
        FileChange("pkg/a.py", A, "changed\n"),
        FileChange("pkg/new/deeper/c.py", None, "C\n"),
        FileChange("pkg/b.py", B, None),
        FileChange("run.sh", "echo hi\n", "echo bye\n"),
    ]
    apply_changes(project, changes, journal_dir, "t1")
    restored = undo(project, journal_dir, "t1")
    assert restored == ["pkg/a.py", "pkg/new/deeper/c.py", "pkg/b.py", "run.sh"]
    assert snapshot(project) == before
    assert not (project / "pkg/new").exists()
    assert os.stat(project / "run.sh").st_mode & 0o777 == 0o755
    assert applied_tasks(journal_dir) == []
    assert list((journal_dir / "undone").glob("t1-*.json"))
    with pytest.raises(ValueError, match="no applied task"):
        undo(project, journal_dir, "t1")


def test_undo_keeps_a_created_folder_the_user_filled(project: Path, journal_dir: Path) -> None:
    apply_changes(project, [FileChange("docs/x.md", None, "x\n")], journal_dir, "t1")
    (project / "docs/mine.md").write_text("mine\n")
    undo(project, journal_dir, "t1")
    assert not (project / "docs/x.md").exists()
    assert (project / "docs/mine.md").read_text() == "mine\n"


def test_undo_conflict_writes_nothing(project: Path, journal_dir: Path) -> None:
    changes = [FileChange("pkg/a.py", A, "changed\n"), FileChange("pkg/b.py", B, "changed b\n")]
    apply_changes(project, changes, journal_dir, "t1")
    (project / "pkg/b.py").write_text("user kept editing\n")
    with pytest.raises(ApplyConflict, match="pkg/b.py: was edited since task t1 was applied"):
        undo(project, journal_dir, "t1")
    assert (project / "pkg/a.py").read_text() == "changed\n"  # not restored either
    assert applied_tasks(journal_dir) == ["t1"]


def test_undo_works_from_the_journal_alone_after_a_restart(project: Path, journal_dir: Path) -> None:
    apply_changes(project, [FileChange("pkg/a.py", A, "v2\n")], journal_dir, "t1")
    # A new process knows nothing but the folders.
    assert undo(Path(str(project)), Path(str(journal_dir)), "t1") == ["pkg/a.py"]
    assert (project / "pkg/a.py").read_text() == A


def test_undo_after_interrupted_apply_restores_only_what_was_written(
    project: Path, journal_dir: Path
) -> None:
    apply_changes(
        project,
        [FileChange("pkg/a.py", A, "v2\n"), FileChange("pkg/b.py", B, "b2\n")],
        journal_dir,
        "t1",
    )
    (project / "pkg/b.py").write_text(B)  # as if the process died before writing b.py
    assert undo(project, journal_dir, "t1") == ["pkg/a.py"]
    assert (project / "pkg/a.py").read_text() == A


def test_damaged_journal_is_a_clear_error(project: Path, journal_dir: Path) -> None:
    journal_dir.mkdir(parents=True)
    (journal_dir / "t1.json").write_text("{not json")
    with pytest.raises(ValueError, match="unreadable or damaged"):
        undo(project, journal_dir, "t1")


def test_applied_tasks_in_order_and_reapplying_an_id(project: Path, journal_dir: Path) -> None:
    assert applied_tasks(journal_dir) == []
    apply_changes(project, [FileChange("pkg/a.py", A, "a2\n")], journal_dir, "zeta")
    apply_changes(project, [FileChange("pkg/b.py", B, "b2\n")], journal_dir, "alpha")
    assert applied_tasks(journal_dir) == ["zeta", "alpha"]
    apply_changes(project, [FileChange("pkg/a.py", "a2\n", "a3\n")], journal_dir, "zeta")
    assert applied_tasks(journal_dir) == ["alpha", "zeta"]
    assert len(list((journal_dir / "superseded").glob("zeta-*.json"))) == 1
    assert undo(project, journal_dir, "zeta") == ["pkg/a.py"]
    assert (project / "pkg/a.py").read_text() == "a2\n"  # the latest application was undone


def test_stage_to_apply_round_trip(project: Path, journal_dir: Path) -> None:
    """The pipeline's path: edit in a stage, apply its changes, then stage the next task."""
    stage = Stage.create(project, project / ".gearshift" / "stages", "s")
    stage.write_text("pkg/a.py", "def a():\n    return 2\n")
    stage.write_text("pkg/z.py", "Z = 1\n")
    inode = os.stat(project / "pkg/a.py").st_ino
    assert (project / "pkg/a.py").read_text() == A and os.stat(project / "pkg/a.py").st_ino == inode
    apply_changes(project, stage.changes(), journal_dir, "t1")
    assert (project / "pkg/a.py").read_text() == "def a():\n    return 2\n"
    assert (project / "pkg/z.py").read_text() == "Z = 1\n"
    stage.discard()
    assert (project / "pkg/a.py").exists()


def test_overlay_task_applies_after_the_task_it_builds_on(project: Path, journal_dir: Path) -> None:
    first = Stage.create(project, project / ".gearshift" / "stages", "n")
    first.write_text("pkg/a.py", "def a():\n    return 2\n")
    task_n = first.changes()
    second = Stage.create(project, project / ".gearshift" / "stages", "n1", overlay=task_n)
    second.write_text("pkg/a.py", "def a():\n    return 3\n")
    task_n1 = second.changes()
    with pytest.raises(ApplyConflict):  # N+1 was made on top of N: N must go first
        apply_changes(project, task_n1, journal_dir, "n1")
    apply_changes(project, task_n, journal_dir, "n")
    apply_changes(project, task_n1, journal_dir, "n1")
    assert (project / "pkg/a.py").read_text() == "def a():\n    return 3\n"
