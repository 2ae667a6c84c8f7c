"""Themes: shipped TOML files, a user folder, bad files reported once, built-ins still working."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gearshift.ui import themes
from textual.command import CommandPalette

from tests.app.conftest import SIZE

GOOD_USER_THEME = """
name = "mine"
dark = true
primary = "#112233"
[variables]
tier-escalation = "#ABCDEF"
"""


def test_shipped_themes_load_and_set_every_app_variable() -> None:
    result = themes.load_themes(themes.shipped_themes_dir())
    assert result.failed == []
    names = {t.name for t in result.loaded}
    assert {themes.DEFAULT_DARK, themes.DEFAULT_LIGHT} <= names
    for theme in result.loaded:
        assert set(themes.APP_VARIABLES) <= set(theme.variables)
    light = next(t for t in result.loaded if t.name == themes.DEFAULT_LIGHT)
    assert light.dark is False


def test_shipped_themes_are_package_data_linked_to_the_top_level_folder() -> None:
    """Found inside the package (gearshift/_themes), not by counting parent folders up to the
    checkout: in a checkout the package's _themes is the repository's themes/ folder itself,
    and a wheel holds the same files at the same package path (hatchling follows the link)."""
    import gearshift

    package = Path(gearshift.__file__).parent
    shipped = themes.shipped_themes_dir()
    assert shipped is not None and shipped == package / "_themes"
    repository_themes = package.parents[1] / "themes"
    if repository_themes.is_dir():  # a checkout, not an installed wheel
        assert shipped.resolve() == repository_themes.resolve()
    assert sorted(p.name for p in shipped.glob("*.toml")) == ["gearshift-dark.toml", "gearshift-light.toml"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("name = 'x'\nprimary = 'nonsense'", "primary: 'nonsense' is not a colour"),
        ("primary = '#fff'", "name: expected a non-empty string"),
        ("name = 'x'", "primary: required"),
        ("name = 'x'\nprimary = '#fff'\nshade = 1", "shade: unknown key"),
        ("name = 'x'\nprimary = '#fff'\n[variables]\ntier-default = 'blurple'", "variables.tier-default"),
        ("name = 'x'\nprimary = '#fff'\ndark = 'yes'", "dark: expected true or false"),
        ("name = = 'x'", "(file): expected valid TOML"),
        ("# caf\xe9\nname = 'x'\nprimary = '#fff'", "(file): expected UTF-8 text"),
        ("name = 'x'\nprimary = '#fff'\n[variables]\nblock-cursor-background = 'zzz'", "block-cursor-background: 'zzz' is not a colour"),
        ("name = 'x'\nprimary = '#fff'\n[variables]\nbutton-focus-text-style = 'shiny'", "is not a text style"),
    ],
)
def test_a_bad_theme_file_is_a_reported_failure(tmp_path: Path, text: str, words: str) -> None:
    (tmp_path / "bad.toml").write_bytes(text.encode("latin-1"))
    result = themes.load_themes(tmp_path)
    assert result.loaded == []
    [(path, reason)] = result.failed
    assert path.name == "bad.toml"
    assert words in reason


def test_user_folder_follows_xdg(tmp_path: Path) -> None:
    assert themes.user_themes_dir({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "gearshift" / "themes"
    assert themes.user_themes_dir({}) == Path.home() / ".config" / "gearshift" / "themes"


async def test_user_themes_load_and_a_bad_one_is_reported_once(build, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "user-themes"
    folder.mkdir()
    (folder / "mine.toml").write_text(GOOD_USER_THEME)
    (folder / "broken.toml").write_text("name = 'broken'\nprimary = 'not-a-colour'\n")
    (folder / "garbled.toml").write_text("[[[")
    app = build("story", user_themes_dir=folder, theme="mine")
    notes: list[tuple[str, Any]] = []
    original = app.notify
    app.notify = lambda message, **kw: (notes.append((message, kw.get("severity"))), original(message, **kw))[1]  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "mine"
        assert app.theme_variables["tier-escalation"] == "#ABCDEF"  # from the file
        assert app.theme_variables["outcome-pass"]  # derived default for what the file left out
        theme_notes = [(m, s) for m, s in notes if "theme" in m.lower()]
        assert len(theme_notes) == 1
        message, severity = theme_notes[0]
        assert severity == "error"
        assert "broken.toml" in message and "garbled.toml" in message and "mine.toml" not in message
        assert str(tmp_path) not in message  # no absolute paths on screen


async def test_switching_themes_keeps_app_variables(build) -> None:  # type: ignore[no-untyped-def]
    app = build("story")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == themes.DEFAULT_DARK
        dark_fail = app.theme_variables["outcome-fail"]
        # a Textual built-in theme: the app's variables fall back to its semantic colours
        app.theme = "nord"
        await pilot.pause()
        nord = app.get_theme("nord")
        assert nord is not None
        assert app.theme_variables["outcome-fail"] == themes.variable_defaults(nord)["outcome-fail"]
        assert app.theme_variables["outcome-fail"] != dark_fail
        # and through the key, the palette's theme picker
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"gearshift-light")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.theme == themes.DEFAULT_LIGHT
        assert app.theme_variables["tier-escalation"] == "#8338B5"


async def test_the_chosen_theme_is_remembered_for_the_next_start(build, no_user_config: Path) -> None:  # type: ignore[no-untyped-def]
    settings = no_user_config / "gearshift" / "settings.toml"
    first = build("story")
    async with first.run_test(size=SIZE) as pilot:
        await pilot.pause()
        first.theme = "nord"
        await pilot.pause()
    assert themes.saved_theme(settings) == "nord"
    second = build("story")
    async with second.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert second.theme == "nord"
    settings.write_text('theme = "no-such-theme"\n')  # a theme since removed: the default, no error
    third = build("story")
    async with third.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert third.theme == themes.DEFAULT_DARK


def test_a_broken_settings_file_is_ignored_and_rewritten_keeping_nothing_unreadable(tmp_path: Path) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text("theme = = broken")
    assert themes.saved_theme(settings) is None
    themes.save_theme("gearshift-light", settings)
    assert themes.saved_theme(settings) == "gearshift-light"


def _contrast(a: Any, b: Any) -> float:
    """WCAG contrast ratio of two textual Colors."""

    def luminance(c: Any) -> float:
        def channel(v: int) -> float:
            x = v / 255
            return x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b)

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("theme", [themes.DEFAULT_DARK, themes.DEFAULT_LIGHT])
async def test_every_pane_has_a_visible_border_in_each_shipped_theme(build, theme: str) -> None:  # type: ignore[no-untyped-def]
    """Unfocused and focused, every pane's border stands out from the background behind it
    (gearshift-light's unfocused borders were white on white)."""
    app = build("story", theme=theme)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == theme
        background = app.screen.styles.background
        for pane in app.query(".pane"):
            (_, colour) = pane.styles.border_top
            behind = pane.styles.background if pane.styles.background.a > 0 else background
            assert _contrast(colour, behind) >= 1.8, (theme, pane.id, colour.hex, behind.hex)
