from __future__ import annotations

import os
from pathlib import Path

import pytest
from gearshift.config import ConfigError
from gearshift.tasks import Task, append_task, load_tasks, task_from_mapping, task_to_mapping


def test_load_tasks_with_defaults_and_tags(tmp_path: Path) -> None:
    path = tmp_path / "tasks.toml"
    path.write_text("""
[[task]]
id = "t1"
prompt = "Add a discount"
context_files = ["shop/cart.py"]
[task.tags]
task_type = "feature"
team = "checkout"
ticket = 42

[[task]]
id = "t2"
prompt = "Audit login"
scope = "security"
interactive = true
requires_validation = false
""")
    t1, t2 = load_tasks(path)
    assert t1.scope == "single-file" and t1.requires_validation and not t1.interactive
    assert t1.context_files == ("shop/cart.py",)
    assert t1.tags == {"task_type": "feature", "team": "checkout", "ticket": "42"}
    assert t2.scope == "security" and t2.interactive and not t2.requires_validation


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"prompt": "x"}, "task[0].id"),
        ({"id": "a"}, "task[0].prompt"),
        ({"id": "a", "prompt": "x", "scope": "huge"}, "task[0].scope"),
        ({"id": "a b", "prompt": "x"}, "task[0].id"),
        ({"id": "a", "prompt": "x", "interactive": "yes"}, "task[0].interactive"),
        ({"id": "a", "prompt": "x", "colour": "red"}, "task[0].colour"),
        ({"id": "a", "prompt": "   "}, "task[0].prompt"),
        ({"id": "a", "prompt": "x", "kind": "audit"}, "task[0].kind"),
        ({"id": "a", "prompt": "x", "expect_findings": False}, "task[0].expect_findings"),
        ({"id": "a", "prompt": "x", "kind": "review", "expect_findings": "no"}, "task[0].expect_findings"),
        (1, "task[0]"),
        ("abc", "task[0]"),
    ],
)
def test_bad_tasks(raw: object, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        task_from_mapping(raw, "tasks.toml", "task[0]")
    assert info.value.key == key


def test_duplicate_ids_rejected(tmp_path: Path) -> None:
    path = tmp_path / "tasks.toml"
    path.write_text('[[task]]\nid="a"\nprompt="x"\n[[task]]\nid="a"\nprompt="y"\n')
    with pytest.raises(ConfigError, match="unique"):
        load_tasks(path)


def test_round_trip() -> None:
    raw = {
        "id": "a",
        "prompt": "x",
        "scope": "multi-module",
        "context_files": ["a.py"],
        "interactive": True,
        "tags": {"team": "t"},
    }
    assert task_to_mapping(task_from_mapping(raw, "f", "task[0]")) == raw


def test_review_tasks_round_trip_and_edit_stays_the_default() -> None:
    raw = {"id": "r", "prompt": "review", "scope": "security", "kind": "review", "expect_findings": False}
    task = task_from_mapping(raw, "f", "task[0]")
    assert task.is_review and not task.expect_findings
    assert task_to_mapping(task) == raw
    plain = task_from_mapping({"id": "e", "prompt": "x"}, "f", "task[0]")
    assert plain.kind == "edit" and not plain.is_review and "kind" not in task_to_mapping(plain)


def test_append_task_keeps_comments_and_refuses_duplicates(tmp_path: Path) -> None:
    from gearshift.tasks import Task, append_task

    path = tmp_path / "tasks.toml"
    path.write_text('# my queue\n[[task]]\nid = "a"\nprompt = "x"\n')
    append_task(path, Task(id="b", prompt="y", scope="security", tags={"team": "t"}))
    assert path.read_text().startswith("# my queue\n")
    assert [t.id for t in load_tasks(path)] == ["a", "b"]
    assert load_tasks(path)[1].tags == {"team": "t"}
    before = path.read_text()
    with pytest.raises(ConfigError, match="unique"):
        append_task(path, Task(id="a", prompt="again"))
    assert path.read_text() == before
    fresh = tmp_path / "new.toml"
    append_task(fresh, Task(id="c", prompt="z"))
    assert [t.id for t in load_tasks(fresh)] == ["c"]


def test_append_task_checks_before_writing_and_replaces_the_file_whole(tmp_path: Path) -> None:
    from gearshift.tasks import Task, append_task

    path = tmp_path / "tasks.toml"
    path.write_text('[[task]]\nid = "a"\nprompt = "x"\n')
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    with pytest.raises(ConfigError, match="unique"):
        append_task(path, Task(id="a", prompt="again"))
    assert path.stat().st_mtime_ns == 1_000_000_000  # refused without a write (nor a restore)
    inode = path.stat().st_ino
    append_task(path, Task(id="b", prompt="y"))
    # A new file renamed over the old one: an interrupted append cannot leave it half-written.
    assert path.stat().st_ino != inode
    assert [t.id for t in load_tasks(path)] == ["a", "b"]


def test_append_task_that_cannot_write_leaves_everything_alone(tmp_path: Path) -> None:
    """Provoked without file modes (root may write anywhere): the tasks file's folder is a
    regular file, or a folder stands where the tasks file should be."""
    from gearshift.tasks import Task, append_task

    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    with pytest.raises(NotADirectoryError):
        append_task(blocker / "tasks.toml", Task(id="b", prompt="y"))
    assert blocker.read_text() == "not a folder"
    folder = tmp_path / "tasks.toml"
    (folder / "inside").mkdir(parents=True)
    with pytest.raises(IsADirectoryError):
        append_task(folder, Task(id="b", prompt="y"))
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["blocker", "inside", "tasks.toml"]


def test_a_tasks_file_that_is_not_utf8_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "tasks.toml"
    path.write_bytes('[[task]]\nid = "a"\nprompt = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="UTF-8"):
        load_tasks(path)
    with pytest.raises(ConfigError, match="UTF-8"):
        append_task(path, Task(id="b", prompt="y"))
    assert path.read_bytes().endswith(b'caf\xe9"\n')  # untouched


def test_load_errors_name_the_task_by_id_or_by_its_1_based_position(tmp_path: Path) -> None:
    path = tmp_path / "tasks.toml"
    path.write_text('[[task]]\nid="a"\nprompt="x"\n[[task]]\nid="fix-2"\nprompt="y"\nscope="huge"\n')
    with pytest.raises(ConfigError) as info:
        load_tasks(path)
    assert info.value.key == 'task "fix-2".scope'
    path.write_text('[[task]]\nid="a"\nprompt="x"\n[[task]]\nid="no spaces"\nprompt="y"\n')
    with pytest.raises(ConfigError) as info:
        load_tasks(path)
    assert info.value.key == "task #2.id"  # the second table, counted as a person counts
    path.write_text(
        '[[task]]\nid="a"\nprompt="x"\n[[task]]\nid="b"\nprompt="y"\n[[task]]\nid="a"\nprompt="z"\n'
    )
    with pytest.raises(ConfigError) as info:
        load_tasks(path)
    assert info.value.key == "task #3.id" and "task #1 has it too" in str(info.value)


def test_missing_context_files_are_a_load_error_naming_the_task(tmp_path: Path) -> None:
    (tmp_path / "here.py").write_text("x = 1\n")
    path = tmp_path / "tasks.toml"
    path.write_text(
        '[[task]]\nid="ok"\nprompt="x"\ncontext_files=["here.py"]\n'
        '[[task]]\nid="typo"\nprompt="y"\ncontext_files=["here.py", "hre.py"]\n'
    )
    assert len(load_tasks(path)) == 2  # without a project root nothing is looked up
    with pytest.raises(ConfigError) as info:
        load_tasks(path, tmp_path)
    assert info.value.key == 'task "typo".context_files' and "hre.py" in str(info.value)
    assert "here.py," not in str(info.value)
    # a file an earlier task is asked to create may be context for a later one
    path.write_text(
        '[[task]]\nid="make"\nprompt="Add hre.py with a helper"\n'
        '[[task]]\nid="use"\nprompt="y"\ncontext_files=["hre.py"]\n'
    )
    assert [t.id for t in load_tasks(path, tmp_path)] == ["make", "use"]
