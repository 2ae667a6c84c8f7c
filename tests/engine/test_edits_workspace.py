"""The stage: confinement, hard-link safety, what counts as a change, overlay, clone, reset."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from gearshift.edits.workspace import FileChange, PathRefused, Stage


def make_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_tree(
        tmp_path / "proj",
        {
            "pkg/__init__.py": "",
            "pkg/mod.py": "def f():\n    return 1\n",
            "README.md": "hello\n",
            ".git/HEAD": "ref: refs/heads/main\n",
            "pkg/__pycache__/mod.cpython-311.pyc": "compiled",
            ".pytest_cache/v/x": "cache",
            "node_modules/lib/index.js": "module.exports = 1\n",
            ".venv/bin/python": "#!",
            ".coverage": "sqlite-ish",
            "app.tsbuildinfo": "{}",
        },
    )


@pytest.fixture
def stage(project: Path) -> Stage:
    return Stage.create(project, project / ".gearshift" / "stages", "s1")


# -- building the stage -------------------------------------------------------------------------


def test_stage_links_sources_and_skips_caches(project: Path, stage: Stage) -> None:
    assert stage.root == project / ".gearshift" / "stages" / "s1"
    assert (stage.root / "pkg/mod.py").read_text() == "def f():\n    return 1\n"
    assert os.stat(stage.root / "pkg/mod.py").st_ino == os.stat(project / "pkg/mod.py").st_ino
    for skipped in (".git", "pkg/__pycache__", ".pytest_cache", ".gearshift"):
        assert not (stage.root / skipped).exists(), skipped


def test_dependency_dirs_are_symlinked_not_copied(project: Path, stage: Stage) -> None:
    for name in ("node_modules", ".venv"):
        assert (stage.root / name).is_symlink()
        assert os.path.realpath(stage.root / name) == os.path.realpath(project / name)
    assert (stage.root / "node_modules/lib/index.js").read_text() == "module.exports = 1\n"


def test_files_tools_rewrite_in_place_are_copied(project: Path, stage: Stage) -> None:
    for name in (".coverage", "app.tsbuildinfo"):
        assert os.stat(stage.root / name).st_ino != os.stat(project / name).st_ino
        assert (stage.root / name).read_text() == (project / name).read_text()


def test_internal_symlinks_stay_inside_the_stage(project: Path) -> None:
    os.symlink(project / "pkg" / "mod.py", project / "abs_link.py")
    os.symlink("pkg/mod.py", project / "rel_link.py")
    stage = Stage.create(project, project / ".gearshift" / "stages", "links")
    assert stage.rel("abs_link.py") == "pkg/mod.py"
    assert stage.rel("rel_link.py") == "pkg/mod.py"
    stage.write_text("abs_link.py", "x = 1\n")
    assert (stage.root / "abs_link.py").is_symlink()  # the link's target was rewritten
    assert (project / "pkg/mod.py").read_text() == "def f():\n    return 1\n"


def test_stale_stage_of_the_same_name_is_replaced(project: Path, stage: Stage) -> None:
    (stage.root / "junk.txt").write_text("left over")
    again = Stage.create(project, project / ".gearshift" / "stages", "s1")
    assert not (again.root / "junk.txt").exists()
    assert (again.root / "pkg/mod.py").exists()


def test_bad_stage_name_and_missing_project(project: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="plain folder name"):
        Stage.create(project, tmp_path / "stages", "../evil")
    with pytest.raises(NotADirectoryError):
        Stage.create(tmp_path / "nope", tmp_path / "stages", "s")


def test_stages_dir_inside_project_is_not_staged_into_itself(project: Path) -> None:
    stage = Stage.create(project, project / "tmp_stages", "a")
    assert not (stage.root / "tmp_stages").exists()
    assert (stage.root / "README.md").exists()


# -- path confinement ---------------------------------------------------------------------------


def test_relative_and_absolute_paths_resolve_into_the_stage(project: Path, stage: Stage) -> None:
    assert stage.resolve("pkg/mod.py") == stage.root / "pkg/mod.py"
    assert stage.resolve(str(project / "pkg/mod.py")) == stage.root / "pkg/mod.py"
    assert stage.resolve(str(stage.root / "pkg/mod.py")) == stage.root / "pkg/mod.py"
    assert stage.rel(str(project / "pkg" / "sub" / ".." / "mod.py")) == "pkg/mod.py"
    assert stage.rel("./pkg/./mod.py") == "pkg/mod.py"
    assert stage.rel(str(project)) == "."


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("../outside.txt", "'..' leads outside"),
        ("pkg/../../outside.txt", "'..' leads outside"),
        ("/etc/passwd", "outside the project root"),
        ("", "empty"),
        (".git/HEAD", "inside .git/"),
        ("node_modules/lib/index.js", "inside node_modules/"),
        (".gearshift/stages/s1/README.md", "inside .gearshift/"),
        ("a\x00b", "NUL"),
    ],
)
def test_paths_outside_are_refused(stage: Stage, path: str, reason: str) -> None:
    with pytest.raises(PathRefused, match=reason):
        stage.resolve(path)


def test_absolute_path_escaping_with_dotdot_is_refused(project: Path, stage: Stage) -> None:
    with pytest.raises(PathRefused, match="outside the project root"):
        stage.resolve(str(project / ".." / "elsewhere.txt"))


def test_symlinks_leading_out_are_refused(project: Path, tmp_path: Path) -> None:
    outside = make_tree(tmp_path / "outside", {"secret.txt": "s3cret\n"})
    os.symlink(outside / "secret.txt", project / "file_out")
    os.symlink(outside, project / "dir_out")
    os.symlink("../outside/secret.txt", project / "rel_out")
    stage = Stage.create(project, project / ".gearshift" / "stages", "sym")
    for path in ("file_out", "dir_out/secret.txt", "rel_out", "dir_out/new.txt"):
        with pytest.raises(PathRefused, match="symlink leads outside"):
            stage.resolve(path)
    with pytest.raises(PathRefused):
        stage.write_text("dir_out/new.txt", "x")
    assert not (outside / "new.txt").exists()


# -- writing ------------------------------------------------------------------------------------


def test_write_never_touches_the_project_file(project: Path, stage: Stage) -> None:
    original = project / "pkg/mod.py"
    inode = os.stat(original).st_ino
    stage.write_text("pkg/mod.py", "def f():\n    return 2\n")
    assert original.read_text() == "def f():\n    return 1\n"
    assert os.stat(original).st_ino == inode
    assert os.stat(original).st_nlink == 1  # the stage's link was replaced, not written through
    assert (stage.root / "pkg/mod.py").read_text() == "def f():\n    return 2\n"


def test_write_keeps_the_file_mode_and_creates_folders(project: Path, stage: Stage) -> None:
    os.chmod(stage.root / "README.md", 0o755)
    stage.write_text("README.md", "changed\n")
    assert os.stat(stage.root / "README.md").st_mode & 0o777 == 0o755
    stage.write_text("new/deep/file.py", "x = 1\n")
    assert (stage.root / "new/deep/file.py").read_text() == "x = 1\n"
    assert not (project / "new").exists()
    assert not [p for p in (stage.root / "new/deep").iterdir() if p.name.startswith(".")]


def test_write_refuses_directories_and_non_text(stage: Stage) -> None:
    with pytest.raises(IsADirectoryError):
        stage.write_text("pkg", "x")
    with pytest.raises(TypeError):
        stage.write_text("pkg/mod.py", b"bytes")  # type: ignore[arg-type]


def test_read_text_keeps_newlines_exactly(project: Path) -> None:
    (project / "crlf.txt").write_bytes(b"a\r\nb\r\n")
    stage = Stage.create(project, project / ".gearshift" / "stages", "nl")
    assert stage.read_text("crlf.txt") == "a\r\nb\r\n"
    with pytest.raises(FileNotFoundError):
        stage.read_text("missing.txt")


# -- changes and diff ---------------------------------------------------------------------------


def test_changes_compare_content_not_writes(stage: Stage) -> None:
    stage.write_text("README.md", "hello\n")  # identical: no change
    stage.write_text("pkg/mod.py", "def f():\n    return 2\n")
    stage.write_text("pkg/new.py", "NEW = 1\n")
    assert stage.changes() == [
        FileChange("pkg/mod.py", "def f():\n    return 1\n", "def f():\n    return 2\n"),
        FileChange("pkg/new.py", None, "NEW = 1\n"),
    ]
    diff = stage.diff()
    assert "--- a/pkg/mod.py\n+++ b/pkg/mod.py\n" in diff
    assert "-    return 1\n+    return 2\n" in diff
    assert "--- /dev/null\n+++ b/pkg/new.py\n@@ -0,0 +1 @@\n+NEW = 1\n" in diff
    assert "README" not in diff


def test_write_back_to_original_is_no_change(stage: Stage) -> None:
    stage.write_text("pkg/mod.py", "changed\n")
    stage.write_text("pkg/mod.py", "def f():\n    return 1\n")
    assert stage.changes() == []
    assert stage.diff() == ""


def test_before_is_the_text_first_seen_even_if_the_project_moves_on(project: Path, stage: Stage) -> None:
    seen = stage.read_text("pkg/mod.py")
    # The user saves the file with an editor that replaces it: the stage keeps the old inode.
    tmp = project / "pkg/mod.py.tmp"
    tmp.write_text("user edit\n")
    os.replace(tmp, project / "pkg/mod.py")
    stage.write_text("pkg/mod.py", seen.replace("1", "2"))
    [change] = stage.changes()
    assert change.before == seen


def test_remove_is_a_change_to_absent(project: Path, stage: Stage) -> None:
    stage.remove("README.md")
    assert stage.changes() == [FileChange("README.md", "hello\n", None)]
    assert (project / "README.md").read_text() == "hello\n"


# -- overlay, clone, reset, discard -------------------------------------------------------------


def test_overlay_is_the_base_for_the_next_task(project: Path) -> None:
    overlay = [
        FileChange("pkg/mod.py", "def f():\n    return 1\n", "def f():\n    return 10\n"),
        FileChange("pkg/added.py", None, "ADDED = 1\n"),
        FileChange("README.md", "hello\n", None),
    ]
    stage = Stage.create(project, project / ".gearshift" / "stages", "n1", overlay)
    assert stage.read_text("pkg/mod.py") == "def f():\n    return 10\n"
    assert stage.read_text("pkg/added.py") == "ADDED = 1\n"
    assert not (stage.root / "README.md").exists()
    assert stage.changes() == []  # the overlay is the starting point, not this task's change
    stage.write_text("pkg/mod.py", "def f():\n    return 11\n")
    assert stage.changes() == [
        FileChange("pkg/mod.py", "def f():\n    return 10\n", "def f():\n    return 11\n")
    ]
    assert (project / "pkg/mod.py").read_text() == "def f():\n    return 1\n"
    assert (project / "README.md").exists()


def test_overlay_paths_are_confined(project: Path) -> None:
    with pytest.raises(PathRefused):
        Stage.create(project, project / ".gearshift" / "stages", "bad", [FileChange("../x", None, "x")])
    assert not (project / ".gearshift" / "stages" / "bad").exists()


def test_clone_starts_from_this_stage(project: Path, stage: Stage) -> None:
    stage.write_text("pkg/mod.py", "def f():\n    return 2\n")
    stage.remove("README.md")
    other = stage.clone("s2")
    assert other.root == stage.root.parent / "s2"
    assert other.read_text("pkg/mod.py") == "def f():\n    return 2\n"
    assert not (other.root / "README.md").exists()
    assert other.changes() == stage.changes()
    other.write_text("pkg/mod.py", "def f():\n    return 3\n")
    assert stage.read_text("pkg/mod.py") == "def f():\n    return 2\n"


def test_reset_returns_to_the_base(project: Path, stage: Stage) -> None:
    stage.write_text("pkg/mod.py", "def f():\n    return 2\n")
    stage.write_text("pkg/new.py", "x\n")
    stage.reset()
    assert stage.changes() == []
    assert stage.read_text("pkg/mod.py") == "def f():\n    return 1\n"
    assert not (stage.root / "pkg/new.py").exists()


def test_discard_removes_the_stage_but_not_linked_dependencies(project: Path, stage: Stage) -> None:
    stage.discard()
    assert not stage.root.exists()
    assert (project / "node_modules/lib/index.js").read_text() == "module.exports = 1\n"
    assert (project / "pkg/mod.py").read_text() == "def f():\n    return 1\n"


def test_copy_fallback_when_linking_fails(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def refuse(src: str, dst: str) -> None:
        calls.append(src)
        raise OSError(18, "Invalid cross-device link")  # EXDEV

    monkeypatch.setattr(os, "link", refuse)
    stage = Stage.create(project, project / ".gearshift" / "stages", "copied")
    assert len(calls) == 1  # gave up linking after the first cross-device error
    assert (stage.root / "pkg/mod.py").read_text() == "def f():\n    return 1\n"
    assert os.stat(stage.root / "pkg/mod.py").st_ino != os.stat(project / "pkg/mod.py").st_ino
