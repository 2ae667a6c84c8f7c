"""What both front doors need to start a run: the project's tasks and the model gateway.

`gearshift run --headless` (cli.py) and the app (`ui/launch.py`) build these the same way from
the same command-line choices, so they live here, below both, rather than in either: the app
importing the command line's helpers made a circle (cli → ui → cli). Heavy imports (the SDK)
stay inside the functions so `report`, `init` and `context` keep starting instantly.
"""

from __future__ import annotations

from pathlib import Path

# Where a project keeps its recorded model streams (replayed by default when present).
RECORDINGS_DIR = "gearshift-recordings"


class UsageError(Exception):
    """A mistake in what the person asked for: one line on stderr and exit status 2."""


def tasks_for(root: Path, tasks_file: str | None) -> list:
    """The tasks of `tasks_file`, or of the project's tasks.toml."""
    from gearshift.tasks import TASKS_FILE, load_tasks

    path = Path(tasks_file) if tasks_file else root / TASKS_FILE
    return load_tasks(path, root)


def gateway_for(root: Path, record: str | None, replay: str | None, speed: float):
    """The model gateway: live, recording to `record`, or replaying `replay` (or the project's recordings)."""
    from gearshift.models.client import ModelGateway

    default = root / RECORDINGS_DIR
    return ModelGateway.from_environment(
        record_dir=Path(record).resolve() if record else None,
        replay_dir=Path(replay).resolve() if replay else None,
        default_recordings=default if default.is_dir() else None,
        replay_speed=speed,
    )
