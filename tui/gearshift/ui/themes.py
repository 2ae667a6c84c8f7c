"""Theme files (TOML) → Textual `Theme`s, with the app's own colour variables.

The app paints a few things that Textual's palette has no name for — the colour of each model
tier, a check's pass / fail, the cost warning — so those are theme *variables*. A theme file may
set them; when it does not (or a Textual built-in theme is active) `variable_defaults` derives
them from the theme's semantic colours, so every built-in theme keeps working.

Theme files are user input: each is checked field by field, and a bad file becomes an entry in
`ThemeLoadResult.failed` (path and reason) instead of an exception, so the app can report all of
them once and carry on with the rest.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.css.stylesheet import Stylesheet, StylesheetParseError
from textual.theme import Theme

from gearshift.config import ConfigError, read_toml

# The app's theme variables and the semantic colour each falls back to.
APP_VARIABLES: dict[str, str] = {
    "tier-default": "primary",
    "tier-escalation": "accent",
    "tier-fast": "secondary",
    "outcome-pass": "success",
    "outcome-fail": "error",
    "outcome-syntax": "warning",
    "cost-ok": "success",
    "cost-warning": "warning",
    "pane-border": "panel-lighten-2",  # on a light theme: panel-darken-2 (see variable_defaults)
}
COLOUR_FIELDS = ("primary", "secondary", "warning", "error", "success", "accent", "foreground", "background", "surface", "panel", "boost")
DEFAULT_DARK = "gearshift-dark"
DEFAULT_LIGHT = "gearshift-light"


@dataclass
class ThemeLoadResult:
    loaded: list[Theme] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)

    def extend(self, other: ThemeLoadResult) -> None:
        self.loaded.extend(other.loaded)
        self.failed.extend(other.failed)


class ThemeFileError(ValueError):
    pass


def shipped_themes_dir() -> Path | None:
    """The themes shipped with gearshift: package data, `gearshift/_themes` — in a checkout a
    symlink to the repository's top-level `themes/`, in a wheel the files themselves."""
    folder = Path(str(resources.files("gearshift") / "_themes"))
    return folder if folder.is_dir() else None


def user_themes_dir(environ: dict[str, str] | None = None) -> Path:
    """`$XDG_CONFIG_HOME/gearshift/themes`, by default `~/.config/gearshift/themes`."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "gearshift" / "themes"


def _colour(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise ThemeFileError(f"{key}: expected a colour string, got {value!r}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeFileError(f"{key}: {value!r} is not a colour") from None
    return value


@functools.cache
def _textual_variable_names() -> frozenset[str]:
    """The variables Textual's own widgets read (a bad value there breaks the app's CSS)."""
    return frozenset(Theme(name="probe", primary="#0178D4").to_color_system().generate())


def _textual_variable(key: str, value: str) -> str:
    """Check a value for one of Textual's variables the way its CSS will use it: parsed as a
    text style or a colour by Textual's own stylesheet parser, so a theme that loads also
    applies — choosing it can never take the app down."""
    if key not in _textual_variable_names():
        return value  # the theme's own variable: nothing reads it but the theme's author
    rule = "text-style" if key.endswith("style") else "color"
    sheet = Stylesheet()
    sheet.add_source(f"Screen {{ {rule}: {value}; }}", read_from=("theme", key))
    try:
        sheet.parse()
    except StylesheetParseError:
        what = "a text style (e.g. bold underline)" if rule == "text-style" else "a colour"
        raise ThemeFileError(f"variables.{key}: {value!r} is not {what}") from None
    return value


def settings_path(environ: dict[str, str] | None = None) -> Path:
    """Where the app remembers the user's choices (the theme), beside the themes folder."""
    return user_themes_dir(environ).parent / "settings.toml"


def _settings(path: Path) -> dict[str, Any]:
    """The settings file's table; {} when it is missing or does not read (no fuss)."""
    try:
        return read_toml(path)
    except ConfigError:
        return {}


def saved_theme(path: Path | None = None) -> str | None:
    """The theme picked last time, or None."""
    value = _settings(path or settings_path()).get("theme")
    return value if isinstance(value, str) and value else None


def save_theme(name: str, path: Path | None = None) -> None:
    """Remember `name` for the next start (other keys of the file are kept)."""
    import tomli_w

    from gearshift.edits.workspace import atomic_write_text

    target = path or settings_path()
    data = _settings(target)
    data["theme"] = name
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, tomli_w.dumps(data))


def theme_from_mapping(data: dict[str, Any]) -> Theme:
    """Check one theme table and build the Theme; ThemeFileError names the first bad key."""
    known = {f.name for f in fields(Theme)}
    for key in data:
        if key not in known:
            raise ThemeFileError(f"{key}: unknown key (known: {', '.join(sorted(known))})")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ThemeFileError("name: expected a non-empty string")
    if "primary" not in data:
        raise ThemeFileError("primary: required")
    kwargs: dict[str, Any] = {"name": name.strip()}
    for key in COLOUR_FIELDS:
        if key in data:
            kwargs[key] = _colour(data[key], key)
    for key in ("dark", "ansi"):
        if key in data:
            if not isinstance(data[key], bool):
                raise ThemeFileError(f"{key}: expected true or false, got {data[key]!r}")
            kwargs[key] = data[key]
    for key in ("luminosity_spread", "text_alpha"):
        if key in data:
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ThemeFileError(f"{key}: expected a number between 0 and 1, got {value!r}")
            kwargs[key] = float(value)
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise ThemeFileError("variables: expected a table")
    checked: dict[str, str] = {}
    for key, value in variables.items():
        if key in APP_VARIABLES:
            checked[key] = _colour(value, f"variables.{key}")
        elif isinstance(value, str):
            checked[key] = _textual_variable(key, value)
        else:
            raise ThemeFileError(f"variables.{key}: expected a string, got {value!r}")
    kwargs["variables"] = checked
    theme = Theme(**kwargs)
    try:
        theme.to_color_system().generate()
    except Exception as exc:  # Textual's own check of the palette as a whole
        raise ThemeFileError(f"the palette does not build: {exc}") from None
    return theme


def load_theme_file(path: Path) -> Theme:
    try:
        data = read_toml(path)
    except ConfigError as exc:  # said as the config says it; the list names the file already
        raise ThemeFileError(exc.detail) from None
    return theme_from_mapping(data)


def load_themes(folder: Path | None) -> ThemeLoadResult:
    """Every `*.toml` in `folder`, in name order; a missing folder is simply empty."""
    result = ThemeLoadResult()
    if folder is None or not folder.is_dir():
        return result
    for path in sorted(folder.glob("*.toml")):
        try:
            result.loaded.append(load_theme_file(path))
        except ThemeFileError as exc:
            result.failed.append((path, str(exc)))
    return result


def variable_defaults(theme: Theme) -> dict[str, str]:
    """The app variables for a theme that does not set them, from its semantic colours."""
    system = theme.to_color_system().generate()
    sources = dict(APP_VARIABLES)
    if not theme.dark:  # a lighter panel vanishes on a light background: borders go darker
        sources["pane-border"] = "panel-darken-2"
    return {name: system[source] for name, source in sources.items() if source in system}


def failure_message(failed: list[tuple[Path, str]]) -> str:
    """One notification for every bad theme file (file names only: no absolute paths on screen)."""
    lines = [f"{path.name}: {reason}" for path, reason in failed]
    return "Skipped theme files:\n" + "\n".join(lines)
