"""The task queue: one row per task, the row under the cursor is the task every pane shows."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widgets import DataTable

from gearshift.config import Config
from gearshift.ui.format import model_label, money, tier_variable
from gearshift.ui.state import TaskView, UIState

COLUMNS = ("id", "scope", "status", "model", "cost")
# Widths that fit the longest value of each column ("awaiting approval", "Sonnet 4.6 ⇧", "$0.0123⚠");
# a longer id is cut with an ellipsis so the cost column always stays in view.
WIDTHS = {"id": 16, "scope": 12, "status": 17, "model": 12, "cost": 8}
# A narrow queue (an 80-column terminal) keeps what cannot be seen elsewhere — id, status, cost —
# with short status words (vocab.STATUS_LOOKS); scope and model give way (the routing pane names the model).
COMPACT_COLUMNS = ("id", "status", "cost")
COMPACT_WIDTHS = {"id": 10, "status": 11, "cost": 8}
COMPACT_BELOW = 70  # the queue's width in cells
MAX_ID_WIDTH = 40  # a wide queue shows ids whole, up to this (ids are at most 64 characters)


class TaskQueue(DataTable[Text]):
    """A DataTable keyed by task id; `sync` adds new rows and rewrites only changed ones."""

    DEFAULT_CSS = """
    TaskQueue { height: 1fr; scrollbar-size-vertical: 1; }
    """

    class Selected(Message):
        """The highlighted task changed (cursor moved, or a row appeared under it)."""

        def __init__(self, task_id: str | None) -> None:
            self.task_id = task_id
            super().__init__()

    def __init__(self, config: Config, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.config = config
        self.border_title = "Tasks"
        self.compact = False
        self._width = 0
        self._state: UIState | None = None

    @property
    def columns_shown(self) -> tuple[str, ...]:
        return COMPACT_COLUMNS if self.compact else COLUMNS

    def on_mount(self) -> None:
        self._add_columns(0)

    def _add_columns(self, width: int) -> None:
        widths = dict(COMPACT_WIDTHS if self.compact else WIDTHS)
        # the id takes what the other columns leave (2 cells of padding a column), so a wide
        # queue shows long ids whole
        rest = sum(w + 2 for w in widths.values()) - widths["id"] + 2 + 1  # border, scrollbar
        widths["id"] = max(widths["id"], min(MAX_ID_WIDTH, width - rest))
        for name in self.columns_shown:
            self.add_column(name, key=name, width=widths[name])

    def on_resize(self, event: events.Resize) -> None:
        compact = event.size.width < COMPACT_BELOW
        if compact == self.compact and event.size.width == self._width:
            return
        self._width = event.size.width
        selected = self.selected
        self.clear(columns=True)
        self.compact = compact
        self._add_columns(event.size.width)
        if self._state is not None:
            self.sync(self._state)
        if selected is not None:
            self.select(selected)

    @property
    def selected(self) -> str | None:
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return None if row_key.value is None else str(row_key.value)

    def _colour(self, variable: str) -> str:
        return self.app.theme_variables.get(variable, "")

    def _cells(self, t: TaskView) -> dict[str, Text]:
        look = t.look  # label, short form and colour: vocab.STATUS_LOOKS
        label = look.short if self.compact else look.label
        forced = {"escalation": " ⇧", "default": " ⇩"}.get(t.forced or "", "")
        forced += " ✓" if t.signoff else ""  # signed off (by the reviewer the routing pane names)
        model = t.model or (t.routed or {}).get("model")
        return {
            "id": Text(t.id, overflow="ellipsis", no_wrap=True),
            "scope": Text(t.scope),
            "status": Text(label, style=self._colour(look.variable)),
            "model": Text(model_label(self.config, model) + forced, style=self._colour(tier_variable(self.config, model)) if model else ""),
            "cost": Text(money(t.cost) + ("⚠" if t.alerted else ""), style=self._colour("cost-warning") if t.alerted else "", justify="right"),
        }

    def sync(self, state: UIState, only: set[str] | None = None) -> None:
        """Bring the rows in line with `state` (all rows, or only the tasks in `only`)."""
        self._state = state
        had = self.row_count
        columns = self.columns_shown
        for task_id, t in state.tasks.items():
            cells = self._cells(t)
            if task_id not in self.rows:
                self.add_row(*(cells[c] for c in columns), key=task_id)
            elif only is None or task_id in only:
                for column in columns:
                    self.update_cell(task_id, column, cells[column])
        if had == 0 and self.row_count:
            self.post_message(self.Selected(self.selected))

    def select(self, task_id: str) -> None:
        if task_id in self.rows:
            self.move_cursor(row=self.get_row_index(task_id))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(self.Selected(None if event.row_key.value is None else str(event.row_key.value)))
