"""Diffs as highlighted Content: pygments' diff lexer through Textual's theme-aware highlighter.

Textual's default highlight theme has no colours for inserted and deleted lines, so this adds
them from the app's own variables (`$outcome-pass` / `$outcome-fail`): a diff then follows the
active theme like every other pane, instead of carrying fixed terminal colours.
"""

from __future__ import annotations

from pygments.token import Token
from textual.content import Content
from textual.highlight import HighlightTheme, highlight

from gearshift.edits.hunks import Hunk


class DiffHighlightTheme(HighlightTheme):
    STYLES = {
        **HighlightTheme.STYLES,
        Token.Generic.Inserted: "$outcome-pass",
        Token.Generic.Deleted: "$outcome-fail",
        Token.Generic.Subheading: "$text-accent bold",
        Token.Generic.Heading: "$text-primary bold",
    }


def diff_content(diff: str) -> Content:
    """A unified diff, highlighted; trailing newline dropped so widgets do not grow a blank row."""
    return highlight(diff.rstrip("\n"), language="diff", theme=DiffHighlightTheme)


def hunk_text(hunk: Hunk) -> str:
    return "\n".join([hunk.header, *hunk.lines])


def hunk_content(hunk: Hunk) -> Content:
    return diff_content(hunk_text(hunk))
