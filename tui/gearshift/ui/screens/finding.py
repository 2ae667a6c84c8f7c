"""One review finding with the project's lines it points at (a review writes nothing, so the
file on disk is what the reviewer saw), and its suggested fix when there is one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from gearshift.ui.findingline import finding_line

CONTEXT_LINES = 4


def excerpt(root: Path, f: dict[str, Any]) -> tuple[str, int] | None:
    """The finding's lines with a little context around them, and the first line's number."""
    try:
        lines = (root / f["file"]).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    first = max(1, f["start_line"] - CONTEXT_LINES)
    last = min(len(lines), f["end_line"] + CONTEXT_LINES)
    return "\n".join(lines[first - 1 : last]), first


class FindingScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    FindingScreen { align: center middle; }
    FindingScreen > VerticalScroll {
        width: 100; max-width: 100%; height: auto; max-height: 90%;
        border: thick $primary 70%; background: $surface; padding: 0 1;
    }
    FindingScreen .finding-fix-title { margin-top: 1; color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "close", "Close", id="finding-close"), Binding("enter", "close", show=False)]

    def __init__(self, root: Path, finding: dict[str, Any]) -> None:
        super().__init__()
        self.root = root
        self.finding = finding
        self.syntax: Any = None  # the rich Syntax shown, kept for tests and copy

    def compose(self) -> ComposeResult:
        from rich.syntax import Syntax

        f = self.finding
        with VerticalScroll():
            yield Static(finding_line(f), id="finding-title")
            shown = excerpt(self.root, f)
            if shown is None:
                yield Static(Content(f"{f['file']} cannot be read any more"), id="finding-lines")
            else:
                code, first = shown
                lexer = Syntax.guess_lexer(f["file"], code)
                marked = set(range(f["start_line"], f["end_line"] + 1))
                self.syntax = Syntax(code, lexer, line_numbers=True, start_line=first, highlight_lines=marked)
                yield Static(self.syntax, id="finding-lines")
            if f.get("suggested_fix") is not None:
                title = f.get("fix_description") or "suggested fix"
                yield Static(Content(f"{title} (replaces lines {f['start_line']}-{f['end_line']}):"), classes="finding-fix-title")
                yield Static(Content(f["suggested_fix"]), id="finding-fix")
            yield Static(Content("esc to close"), classes="finding-fix-title")

    def action_close(self) -> None:
        self.dismiss(None)
