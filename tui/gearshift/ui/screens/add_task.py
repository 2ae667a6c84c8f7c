"""The add-task form: prompt, kind (edit or review), scope, context files, tags — checked by the engine's own rules.

The form builds the same mapping a `[[task]]` table holds and hands it to
`tasks.task_from_mapping`, so a task added here is held to exactly the rules of tasks.toml. A
mistake is shown in the form, naming the field, and nothing typed is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from gearshift.config import SCOPES, ConfigError
from gearshift.tasks import KINDS, Task, task_from_mapping

SOURCE = "add-task form"


class FormError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def parse_list(text: str) -> list[str]:
    return [part for part in text.replace(",", " ").split() if part]


def parse_tags(text: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise FormError("tags", f"expected key=value pairs separated by commas, got {item!r}")
        tags[key.strip()] = value.strip()
    return tags


def build_task(
    values: dict[str, str], root: Path, is_taken: Callable[[str], bool]
) -> Task:
    """The Task the form describes, or FormError naming the first field at fault."""
    raw: dict[str, Any] = {"id": values["id"].strip(), "prompt": values["prompt"], "scope": values["scope"]}
    if values.get("kind", "edit") != "edit":
        raw["kind"] = values["kind"]
    files = parse_list(values.get("context_files", ""))
    if files:
        raw["context_files"] = files
    tags = parse_tags(values.get("tags", ""))
    if tags:
        raw["tags"] = tags
    try:
        task = task_from_mapping(raw, SOURCE, "task")
    except ConfigError as exc:
        field = exc.key.removeprefix("task.").split("[")[0].split(".")[0]
        got = "" if exc.got is None else f", got {exc.got!r}"
        raise FormError(field, f"expected {exc.expected}{got}") from None
    missing = [f for f in task.context_files if not (root / f).is_file()]
    if missing:
        raise FormError("context_files", f"not a file in the project: {', '.join(missing)}")
    if is_taken(task.id):
        raise FormError("id", f"{task.id!r} is already a task in this session: choose another id")
    return task


class AddTaskScreen(ModalScreen[Task | None]):
    DEFAULT_CSS = """
    AddTaskScreen { align: center middle; }
    AddTaskScreen > VerticalScroll {
        width: 90; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary 70%; background: $surface; padding: 0 1;
    }
    AddTaskScreen Label { margin-top: 1; color: $text-muted; }
    AddTaskScreen TextArea { height: 5; }
    AddTaskScreen #form-error { color: $text-error; text-style: bold; height: auto; margin-top: 1; }
    AddTaskScreen .-invalid { border: tall $error; }
    AddTaskScreen #form-buttons { height: auto; margin-top: 1; align-horizontal: right; }
    AddTaskScreen #form-buttons Button { margin-left: 2; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form-cancel"),
        Binding("ctrl+s", "submit", "Add task", id="form-submit"),
    ]

    def __init__(self, root: Path, default_id: str, is_taken: Callable[[str], bool], *, cursor_blink: bool = True) -> None:
        super().__init__()
        self.root = root
        self.default_id = default_id
        self.is_taken = is_taken
        self.cursor_blink = cursor_blink

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("[b]Add a task[/b]  (ctrl+s to add, esc to cancel)")
            yield Label("id")
            yield self._input(self.default_id, id="task-id")
            yield Label("prompt")
            area = TextArea(id="task-prompt", soft_wrap=True, show_line_numbers=False)
            area.cursor_blink = self.cursor_blink
            yield area
            yield Label("kind (edit: the model changes code · review: it only views files and reports findings)")
            yield Select([(k, k) for k in KINDS], value=KINDS[0], allow_blank=False, id="task-kind")
            yield Label("scope")
            yield Select([(s, s) for s in SCOPES], value=SCOPES[0], allow_blank=False, id="task-scope")
            yield Label("context files (space or comma separated, relative to the project)")
            yield self._input(id="task-context-files", placeholder="shop/cart.py tests/test_cart.py")
            yield Label("tags (key=value, comma separated)")
            yield self._input(id="task-tags", placeholder="task_type=bugfix, team=payments")
            yield Static("", id="form-error")
            with Horizontal(id="form-buttons"):
                yield Button("Add", variant="primary", id="form-add")
                yield Button("Cancel", id="form-cancel-button")

    def _input(self, value: str = "", **kwargs: str) -> Input:
        field = Input(value, **kwargs)
        field.cursor_blink = self.cursor_blink
        return field

    def on_mount(self) -> None:
        self.query_one("#task-prompt", TextArea).focus()

    def values(self) -> dict[str, str]:
        scope = self.query_one("#task-scope", Select).value
        return {
            "id": self.query_one("#task-id", Input).value,
            "prompt": self.query_one("#task-prompt", TextArea).text,
            "scope": str(scope),
            "kind": str(self.query_one("#task-kind", Select).value),
            "context_files": self.query_one("#task-context-files", Input).value,
            "tags": self.query_one("#task-tags", Input).value,
        }

    def has_input(self) -> bool:
        """Whether the user typed anything that quitting would lose (the id is pre-filled)."""
        values = self.values()
        return any(values[k].strip() for k in ("prompt", "context_files", "tags"))

    FIELD_WIDGETS = {"id": "#task-id", "prompt": "#task-prompt", "scope": "#task-scope", "kind": "#task-kind", "context_files": "#task-context-files", "tags": "#task-tags"}

    def action_submit(self) -> None:
        for widget in self.query(".-invalid"):
            widget.remove_class("-invalid")
        try:
            task = build_task(self.values(), self.root, self.is_taken)
        except FormError as exc:
            self.query_one("#form-error", Static).update(Content(str(exc)))
            selector = self.FIELD_WIDGETS.get(exc.field)
            if selector:
                self.query_one(selector).add_class("-invalid")
            return
        self.dismiss(task)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "form-add":
            self.action_submit()
        else:
            self.action_cancel()
