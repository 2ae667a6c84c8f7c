"""Every TOML file a person writes is read by one reader and its mistakes said in one shape.

The config, a tasks file, a theme and the app's settings used to each map tomllib's errors to
words of their own; now `config.read_toml` does it once: `(file): expected …, got …` with
tomllib's line and column, after the file's path (a theme's list names the file itself).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gearshift.config import ConfigError, load_config
from gearshift.tasks import load_tasks
from gearshift.ui import themes

CASES = {
    "not TOML": (b"[routing\nx = 1\n", "(file): expected valid TOML, got", "line 1, column 9"),
    "not UTF-8": (b"# caf\xe9\n", "(file): expected UTF-8 text (TOML files are UTF-8), got", "decode"),
}


def said_by_each(tmp_path: Path, text: bytes) -> dict[str, str]:
    """What each caller says about the same bad bytes, with its own file's path taken off."""
    said: dict[str, str] = {}
    project = tmp_path / "project"
    project.mkdir()
    (project / "gearshift.toml").write_bytes(text)
    with pytest.raises(ConfigError) as config_error:
        load_config(project)
    said["config"] = str(config_error.value).removeprefix(f"{(project / 'gearshift.toml').resolve()}: ")
    tasks = tmp_path / "tasks.toml"
    tasks.write_bytes(text)
    with pytest.raises(ConfigError) as tasks_error:
        load_tasks(tasks)
    said["tasks"] = str(tasks_error.value).removeprefix(f"{tasks}: ")
    folder = tmp_path / "themes"
    folder.mkdir()
    (folder / "bad.toml").write_bytes(text)
    [(_, reason)] = themes.load_themes(folder).failed
    said["theme"] = reason
    return said


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_each_caller_says_a_bad_file_in_the_same_words(tmp_path: Path, case: str) -> None:
    text, shape, where = CASES[case]
    said = said_by_each(tmp_path, text)
    assert len(set(said.values())) == 1, said  # word for word the same
    message = said["config"]
    assert message.startswith(shape) and where in message and "\n" not in message


def test_unreadable_settings_are_no_fuss_a_missing_tasks_file_says_so(tmp_path: Path) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_bytes(b"theme = = 'x'")
    assert themes.saved_theme(settings) is None  # the app starts with its default theme
    with pytest.raises(
        ConfigError, match=r"expected a tasks file with \[\[task\]\] tables, got 'no such file'"
    ):
        load_tasks(tmp_path / "nope.toml")
