"""The first run in a folder: what the panes say when there is nothing to show, and `i`, which
writes a gearshift.toml for the folder (as `gearshift init` does) and starts using it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gearshift.config import Config, ConfigError
from gearshift.tasks import Task

if TYPE_CHECKING:
    from gearshift.ui.app import GearshiftApp

    _Base = GearshiftApp
else:
    _Base = object


class FirstRunMixin(_Base):
    def use_config(self, config: Config, tasks: list[Task]) -> None:
        """Start over on a new configuration (after `i` wrote one): only while nothing has run."""
        self.config = config
        self.session = self._new_session()
        for task in tasks:
            self.session.add(task)
        for pane in self.query(".pane"):
            if hasattr(pane, "config"):
                pane.config = config  # type: ignore[attr-defined]
        self._update_empty_text()

    def empty_text(self) -> str:
        """What the output pane says when there is no task to show: the next step to take."""
        if self.config.source == "(defaults)":
            return (
                f"No gearshift.toml in {self.config.root} — press i to write one "
                "(with the validators this project uses), a to add a task."
            )
        return "No tasks yet — press a to add one (saved to tasks.toml)."

    def _update_empty_text(self) -> None:
        from gearshift.ui.panes.output import OutputPane

        self.query_one(OutputPane).empty = self.empty_text()

    def action_init(self) -> None:
        """Write gearshift.toml (and an example tasks.toml) for this folder, as `gearshift init`
        does, and start using it — while nothing has run yet; afterwards it waits for a restart."""
        from gearshift.config import load_config
        from gearshift.initproject import detect_checks, init_project
        from gearshift.tasks import load_tasks

        root = self.config.root
        try:
            written = init_project(root)
            config = load_config(root)
            tasks = [info.task for info in self.session.queue()]
            if not tasks and self.tasks_path is not None and self.tasks_path.is_file():
                tasks = load_tasks(self.tasks_path, root)  # the example tasks init just wrote
        except (FileExistsError, FileNotFoundError, ConfigError, OSError) as exc:
            self.notify(f"Could not write the configuration: {exc}", severity="error", timeout=10)
            return
        names = ", ".join(p.name for p in written)
        checks = ", ".join(detect_checks(root)) or "none"
        if any(info.status != "queued" for info in self.session.queue()):
            self.notify(f"wrote {names} (validators: {checks}) — restart gearshift to use it", timeout=10)
            return
        self.use_config(config, tasks)
        self.call_after_refresh(self._refresh_all)
        self.notify(f"wrote {names} (validators: {checks}) — press a to add a task, r to run one", timeout=10)

    async def _refresh_all(self) -> None:
        self._update_header()
        async with self._paint_lock:
            await self._show_selected()
