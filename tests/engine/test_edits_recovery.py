"""An apply or undo killed (SIGKILL) between two files: the next start leaves the whole change or none of it.

The child process really dies: `os.replace` is wrapped so that the process kills itself just
before or just after the k-th write into the project, and the test then runs the recovery a
fresh start runs, for every k.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from gearshift.edits.apply import applied_tasks, apply_changes, undo
from gearshift.edits.intent import begin, intent_path
from gearshift.edits.recovery import recover
from gearshift.edits.workspace import FileChange

TUI = str(Path(__file__).resolve().parents[2] / "tui")
FILES = {f"pkg/m{i}.py": f"X = {i}\n" for i in range(5)}
CHANGES = [  # four edits, a file created in a new folder, a file deleted
    *(FileChange(path, text, text.replace("X", "Y")) for path, text in FILES.items() if path != "pkg/m4.py"),
    FileChange("pkg/new/made.py", None, "MADE = 1\n"),
    FileChange("pkg/m4.py", FILES["pkg/m4.py"], None),
]
KILLER = textwrap.dedent(
    """
    import json, os, signal, sys
    from pathlib import Path
    from gearshift.edits.apply import apply_changes, undo
    from gearshift.edits.workspace import FileChange

    op, project, k, when = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    changes = [FileChange(**c) for c in json.loads(sys.argv[5])]
    real_replace, real_unlink, writes = os.replace, os.unlink, [0]

    def counted(real):
        def wrapper(*args, **kwargs):
            target = str(args[-1] if real is real_replace else args[0])
            into_project = ".gearshift" not in target and ".gearshift-tmp" not in target
            if into_project:
                writes[0] += 1
                if writes[0] == k and when == "before":
                    os.kill(os.getpid(), signal.SIGKILL)
            result = real(*args, **kwargs)
            if into_project and writes[0] == k and when == "after":
                os.kill(os.getpid(), signal.SIGKILL)
            return result
        return wrapper

    os.replace, os.unlink = counted(real_replace), counted(real_unlink)
    journal = project / ".gearshift" / "undo"
    if op == "apply":
        apply_changes(project, changes, journal, "t1")
    else:
        undo(project, journal, "t1")
    """
)


def make_project(root: Path) -> Path:
    for path, text in FILES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".gearshift" not in p.parts
    }


def run_killed(op: str, project: Path, k: int, when: str) -> int:
    env = {**os.environ, "PYTHONPATH": TUI}
    payload = json.dumps([c.__dict__ for c in CHANGES])
    proc = subprocess.run(
        [sys.executable, "-c", KILLER, op, str(project), str(k), when, payload], env=env, capture_output=True
    )
    return proc.returncode


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("k", range(1, len(CHANGES) + 1))
def test_apply_killed_between_files_is_completed_at_the_next_start(tmp_path: Path, k: int, when: str) -> None:
    project = make_project(tmp_path / "proj")
    journal_dir = project / ".gearshift" / "undo"
    before = tree(project)
    assert run_killed("apply", project, k, when) == -signal.SIGKILL
    assert intent_path(journal_dir).exists()  # the dead process left its intent behind
    if when == "before" and CHANGES[k - 1].after is not None:  # died between temp file and rename
        assert list(project.rglob("*.gearshift-tmp"))
    said = recover(project, journal_dir)
    assert said[0] == f"an interrupted apply of task t1 was completed ({len(CHANGES)} file(s))"
    expected = dict(before)
    for change in CHANGES:
        if change.after is None:
            expected.pop(change.path)
        else:
            expected[change.path] = change.after
    assert tree(project) == expected
    assert not list(project.rglob("*gearshift-tmp*"))
    assert not intent_path(journal_dir).exists()
    assert applied_tasks(journal_dir) == ["t1"]
    undo(project, journal_dir, "t1")  # and the completed change undoes like any other
    assert tree(project) == before


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("k", range(1, len(CHANGES) + 1))
def test_undo_killed_between_files_is_completed_at_the_next_start(tmp_path: Path, k: int, when: str) -> None:
    project = make_project(tmp_path / "proj")
    journal_dir = project / ".gearshift" / "undo"
    before = tree(project)
    apply_changes(project, CHANGES, journal_dir, "t1")
    assert run_killed("undo", project, k, when) == -signal.SIGKILL
    said = recover(project, journal_dir)
    assert said[0] == f"an interrupted undo of task t1 was completed ({len(CHANGES)} file(s))"
    assert tree(project) == before
    assert not (project / "pkg/new").exists()  # the folder the change created went with it
    assert not list(project.rglob("*gearshift-tmp*"))
    assert applied_tasks(journal_dir) == []


def test_killed_before_the_journal_was_saved_is_rolled_back(tmp_path: Path) -> None:
    """Killed while the journal itself was being written: no project file had been touched."""
    project = make_project(tmp_path / "proj")
    journal_dir = project / ".gearshift" / "undo"
    before = tree(project)
    code = textwrap.dedent(
        """
        import os, signal, sys
        from pathlib import Path
        from gearshift.edits import apply
        from gearshift.edits.workspace import FileChange
        real = apply._write_json
        def die(path, data):
            os.kill(os.getpid(), signal.SIGKILL)
        apply._write_json = die
        project = Path(sys.argv[1])
        apply.apply_changes(project, [FileChange("pkg/m0.py", "X = 0\\n", "Z\\n")], project / ".gearshift" / "undo", "t1")
        """
    )
    proc = subprocess.run([sys.executable, "-c", code, str(project)], env={**os.environ, "PYTHONPATH": TUI})
    assert proc.returncode == -signal.SIGKILL
    said = recover(project, journal_dir)
    assert said == ["an interrupted apply of task t1 was rolled back (none of its files had been written)"]
    assert tree(project) == before
    assert applied_tasks(journal_dir) == []


def test_a_file_edited_after_the_crash_rolls_the_apply_back(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    journal_dir = project / ".gearshift" / "undo"
    assert run_killed("apply", project, 2, "after") == -signal.SIGKILL
    (project / "pkg/m3.py").write_text("edited by hand\n")
    said = recover(project, journal_dir)
    assert said[0].startswith("an interrupted apply of task t1 was rolled back; pkg/m3.py changed since")
    assert tree(project) == {**FILES, "pkg/m3.py": "edited by hand\n"}
    assert applied_tasks(journal_dir) == []


def test_a_clean_start_says_nothing_and_sweeps_stray_temp_files(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    assert recover(project, project / ".gearshift" / "undo") == []
    (project / "pkg/.m0.py.0a1b2c3d.gearshift-tmp").write_text("half")
    (project / "pkg/keep.gearshift-tmp").write_text("not ours: no hex tag")
    (project / "node_modules").mkdir()
    (project / "node_modules/.x.js.0a1b2c3d.gearshift-tmp").write_text("not swept: dependencies")
    said = recover(project, project / ".gearshift" / "undo")
    assert said == ["removed 1 temp file(s) left by an interrupted write (pkg/.m0.py.0a1b2c3d.gearshift-tmp)"]
    assert (project / "pkg/keep.gearshift-tmp").exists()
    assert (project / "node_modules/.x.js.0a1b2c3d.gearshift-tmp").exists()


def test_a_headless_start_finishes_the_interrupted_apply_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gearshift.cli import main

    project = make_project(tmp_path / "proj")
    (project / "gearshift.toml").write_text("[validation]\nenabled = false\n")
    (project / "tasks.toml").write_text('[[task]]\nid = "a"\nprompt = "x"\nrequires_validation = false\n')
    assert run_killed("apply", project, 3, "before") == -signal.SIGKILL
    main(["run", str(project), "--headless", "--replay", str(tmp_path)])  # no recordings: the task fails
    out = capsys.readouterr().out
    assert f"warning: an interrupted apply of task t1 was completed ({len(CHANGES)} file(s))" in out
    assert out.index("interrupted apply") < out.index("[a]")  # before any task ran
    assert (project / "pkg/new/made.py").read_text() == "MADE = 1\n"
    assert not list(project.rglob("*gearshift-tmp*"))


def test_an_undo_killed_after_its_last_step_is_just_closed(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    journal_dir = project / ".gearshift" / "undo"
    apply_changes(project, CHANGES, journal_dir, "t1")
    undo(project, journal_dir, "t1")
    begin(journal_dir, {"op": "undo", "task_id": "t1", "stamp": 1})  # as if killed before the record went
    assert recover(project, journal_dir) == ["an interrupted undo of task t1 was completed"]
    assert tree(project) == FILES and not intent_path(journal_dir).exists()


def test_an_apply_rolled_back_gives_the_earlier_application_back_to_undo(tmp_path: Path) -> None:
    """The same id applied twice: the first journal is set aside; a rollback of the second restores it."""
    project = make_project(tmp_path / "proj")
    journal_dir = project / ".gearshift" / "undo"
    apply_changes(project, [FileChange("pkg/m0.py", "X = 0\n", "first\n")], journal_dir, "t1")
    change = [
        FileChange("pkg/m1.py", "X = 1\n", "second\n").__dict__,
        FileChange("pkg/m2.py", "X = 2\n", "2\n").__dict__,
    ]
    env = {**os.environ, "PYTHONPATH": TUI}
    proc = subprocess.run(
        [sys.executable, "-c", KILLER, "apply", str(project), "1", "after", json.dumps(change)], env=env
    )
    assert proc.returncode == -signal.SIGKILL
    assert (project / "pkg/m1.py").read_text() == "second\n"  # killed after the first file
    (project / "pkg/m2.py").write_text("edited by hand\n")  # so the second apply cannot complete
    said = recover(project, journal_dir)
    assert said[0].startswith("an interrupted apply of task t1 was rolled back; pkg/m2.py changed since")
    assert (project / "pkg/m1.py").read_text() == "X = 1\n"  # the file it had written is put back
    assert json.loads((journal_dir / "t1.json").read_text())["files"][0]["after"] == "first\n"
    assert undo(project, journal_dir, "t1") == ["pkg/m0.py"]
