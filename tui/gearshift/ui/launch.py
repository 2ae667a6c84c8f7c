"""`launch()`: what `gearshift [PROJECT]` and `gearshift demo` call to open the app.

The CLI has already loaded and checked the configuration (ConfigError never reaches here); this
builds the gateway exactly as the headless runner's command does (`startup.gateway_for`), makes the app
with the same factory the tests use, runs it, and returns its exit code.
"""

from __future__ import annotations

from pathlib import Path


def launch(
    root: Path,
    *,
    tasks_file: str | None = None,
    record: str | None = None,
    replay: str | None = None,
    speed: float = 1.0,
    run_all: bool = False,
    notice: str | None = None,
    trust_once: bool = False,
) -> int:
    from gearshift import trust
    from gearshift.config import load_config
    from gearshift.startup import UsageError, gateway_for, tasks_for
    from gearshift.tasks import TASKS_FILE
    from gearshift.ui.app import make_app

    # Untrusted, the app asks (a modal) before anything of the project's own runs.
    config = trust.checked(load_config(root), once=trust_once)
    tasks = tasks_for(root, tasks_file) if tasks_file or (root / "tasks.toml").is_file() else []
    try:
        gateway = gateway_for(root, record, replay, speed)
    except ValueError as exc:  # --record without a key, a missing replay folder, ...
        raise UsageError(str(exc)) from None
    tasks_path = Path(tasks_file) if tasks_file else root / TASKS_FILE
    app = make_app(config, tasks, gateway, run_all=run_all, tasks_path=tasks_path, notice=notice)
    result = app.run()
    return app.return_code if app.return_code is not None else (result or 0)
