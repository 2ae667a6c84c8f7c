"""Both stages measure a change alike: they share StagedEdits (workspace.py), so the same edits
over the same overlay give the same change and diff — from the stage and from its clone."""

from __future__ import annotations

from pathlib import Path

import pytest
from gearshift.edits.cowstage import CowStage
from gearshift.edits.workspace import FileChange, Stage

OVERLAY = [FileChange("a.py", "a = 1\n", "a = 2\n"), FileChange("new.py", None, "n = 0\n")]


def make(kind: str, project: Path, stages: Path, name: str) -> Stage | CowStage:
    if kind == "hard-linked":
        return Stage.create(project, stages, name, OVERLAY)
    return CowStage.create(project, stages, name, OVERLAY)


@pytest.mark.parametrize("kind", ["hard-linked", "copy-on-write"])
def test_the_same_edits_give_the_same_change_from_the_stage_and_its_clone(tmp_path: Path, kind: str) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "a.py").write_text("a = 1\n")
    (project / "b.py").write_text("b = 1\n")
    stage = make(kind, project, tmp_path / "stages", "s1")
    assert stage.changes() == [] and stage.diff() == ""  # the overlay is where it starts, not an edit
    stage.write_text("a.py", "a = 3\n")
    stage.write_text("new.py", "n = 0\n")  # written back to its overlay text: no change
    stage.remove("b.py")
    expected = [FileChange("a.py", "a = 2\n", "a = 3\n"), FileChange("b.py", "b = 1\n", None)]
    assert stage.changes() == expected
    assert "-a = 2\n+a = 3\n" in stage.diff() and "-b = 1\n" in stage.diff()
    clone = stage.clone("s2")
    try:
        assert clone.changes() == expected and clone.diff() == stage.diff()
        assert (project / "a.py").read_text() == "a = 1\n" and (project / "b.py").exists()
    finally:
        clone.discard()
        stage.discard()


@pytest.mark.parametrize("kind", ["hard-linked", "copy-on-write"])
@pytest.mark.parametrize("name", ["", "..", "a/b", "x\x00"])
def test_both_refuse_a_stage_name_that_is_not_a_plain_folder_name(
    tmp_path: Path, kind: str, name: str
) -> None:
    (tmp_path / "p").mkdir()
    with pytest.raises(ValueError, match="plain folder name"):
        make(kind, tmp_path / "p", tmp_path / "stages", name)
