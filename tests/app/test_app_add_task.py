"""The add-task form: the engine's own task rules, errors in the form, nothing typed lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from gearshift import events as ev
from gearshift.tasks import load_tasks
from gearshift.ui.screens.add_task import AddTaskScreen, FormError, build_task, parse_tags
from textual.widgets import Input, Select, Static, TextArea

from tests.app.conftest import SIZE
from tests.app.project import wait_for


def test_build_task_uses_the_task_file_rules(tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text("")
    values = {"id": "fix-1", "prompt": "Fix it", "scope": "multi-module", "context_files": "calc.py", "tags": "team=core, task_type=bugfix"}
    task = build_task(values, tmp_path, lambda _: False)
    assert (task.id, task.scope, task.context_files, task.tags) == ("fix-1", "multi-module", ("calc.py",), {"team": "core", "task_type": "bugfix"})
    with pytest.raises(FormError, match="prompt: expected a non-empty prompt"):
        build_task({**values, "prompt": "  "}, tmp_path, lambda _: False)
    with pytest.raises(FormError) as bad_id:
        build_task({**values, "id": "no spaces"}, tmp_path, lambda _: False)
    assert bad_id.value.field == "id"
    with pytest.raises(FormError, match="not a file in the project: nope.py"):
        build_task({**values, "context_files": "nope.py"}, tmp_path, lambda _: False)
    with pytest.raises(FormError, match="already a task in this session"):
        build_task(values, tmp_path, lambda task_id: task_id == "fix-1")
    with pytest.raises(FormError, match="key=value"):
        parse_tags("team")


async def test_the_form_shows_errors_keeps_input_and_adds_a_valid_task(build) -> None:  # type: ignore[no-untyped-def]
    app = build("story")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, AddTaskScreen)
        assert form.query_one("#task-id", Input).value == "task-2"
        # no prompt yet
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert "prompt: expected a non-empty prompt" in str(form.query_one("#form-error", Static).render())
        assert form.query_one("#task-prompt", TextArea).has_class("-invalid")

        await pilot.press(*"Add a div function")
        form.query_one("#task-tags", Input).value = "team"
        form.query_one("#task-scope", Select).value = "multi-module"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert "tags: expected key=value" in str(form.query_one("#form-error", Static).render())
        assert form.query_one("#task-prompt", TextArea).text == "Add a div function"  # nothing lost

        form.query_one("#task-tags", Input).value = "team=core"
        form.query_one("#task-context-files", Input).value = "calc.py"
        form.query_one("#task-kind", Select).value = "review"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is not form
        record = app.session.records["task-2"]
        assert (record.task.prompt, record.task.scope, record.task.context_files, record.task.tags) == (
            "Add a div function", "multi-module", ("calc.py",), {"team": "core"},
        )
        assert record.task.is_review and record.task.expect_findings
        queued = [e for e in app.state.events if isinstance(e, ev.TaskQueued)]
        assert [e.task_id for e in queued] == ["story", "task-2"]
        # the queue moves the cursor to the new row on a later refresh: wait for it, with a ceiling
        await wait_for(lambda: app.selected == "task-2", pilot, limit_s=10)
        assert app.selected == "task-2"


async def test_escape_cancels_the_form(build) -> None:  # type: ignore[no-untyped-def]
    app = build("story")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, AddTaskScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, AddTaskScreen)
        assert list(app.session.records) == ["story"]


async def _fill_and_save(pilot, app, task_id: str, prompt: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("a")
    await pilot.pause()
    form = app.screen
    assert isinstance(form, AddTaskScreen)
    form.query_one("#task-id", Input).value = task_id
    form.query_one("#task-prompt", TextArea).text = prompt
    form.query_one("#task-tags", Input).value = "team=core"
    await pilot.press("ctrl+s")
    await pilot.pause()
    assert app.screen is not form


async def test_an_added_task_is_saved_to_the_tasks_file_keeping_its_comments(build, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tasks_file = tmp_path / "tasks.toml"
    tasks_file.write_text('# our tasks\n[[task]]\nid = "story"\nprompt = "Tell a story"\n')
    app = build("story", tasks_path=tasks_file)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await _fill_and_save(pilot, app, "task-2", "Add a div function")
        assert "task-2" in app.session.records
    assert tasks_file.read_text().startswith('# our tasks\n[[task]]\nid = "story"')
    saved = {task.id: task for task in load_tasks(tasks_file)}
    assert list(saved) == ["story", "task-2"]
    assert (saved["task-2"].prompt, saved["task-2"].tags) == ("Add a div function", {"team": "core"})


async def test_a_task_the_file_cannot_take_stays_in_the_session_and_the_file_is_untouched(build, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tasks_file = tmp_path / "tasks.toml"
    before = '[[task]]\nid = "task-2"\nprompt = "Already here"\n'
    tasks_file.write_text(before)
    app = build("story", tasks_path=tasks_file)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await _fill_and_save(pilot, app, "task-2", "Add a div function")
        assert app.session.records["task-2"].task.prompt == "Add a div function"
        warnings = [n.message for n in app._notifications if n.severity == "warning"]
        assert any("task-2 added for this session only, not saved" in m for m in warnings)
    assert tasks_file.read_text() == before


async def test_without_a_tasks_file_the_form_adds_to_the_session_only(build, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = build("story")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await _fill_and_save(pilot, app, "task-2", "Add a div function")
        assert "task-2" in app.session.records
    assert not _tasks_files(tmp_path)


def _tasks_files(root: Path) -> list[Path]:
    return list(root.rglob("tasks.toml"))


async def test_the_form_refuses_the_id_of_a_finished_task_and_replaces_nothing(build) -> None:  # type: ignore[no-untyped-def]
    """A duplicate id, even of a task that already finished, is an inline error in the form:
    the finished task keeps its prompt and its status, and no second TaskQueued is sent."""

    app = build("story")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await wait_for(lambda: app.session.records["story"].final, pilot)
        status = app.session.records["story"].status
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, AddTaskScreen)
        form.query_one("#task-id", Input).value = "story"
        form.query_one("#task-prompt", TextArea).text = "A different question"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert "id: 'story' is already a task in this session" in str(form.query_one("#form-error", Static).render())
        assert form.query_one("#task-id", Input).has_class("-invalid")
        assert app.session.records["story"].task.prompt != "A different question"
        assert app.session.records["story"].status == status
        assert [e.task_id for e in app.state.events if isinstance(e, ev.TaskQueued)] == ["story"]
