"""A review's findings in the output pane: one line each, severity badge, file:line, message.

An `OptionList`, so the keyboard works as everywhere else in Textual: tab into it, arrows to move,
Enter (or a click) opens the finding's lines in the project (`FindingScreen`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import OptionList, Static

from gearshift.ui.findingline import finding_line


class FindingsList(Vertical):
    DEFAULT_CSS = """
    FindingsList { height: auto; padding: 0 1; margin-bottom: 1; }
    FindingsList > .findings-head { text-style: bold; }
    FindingsList > .findings-head.-fail { color: $text-error; }
    FindingsList > OptionList { height: auto; max-height: 16; border: none; padding: 0; }
    """

    def __init__(self, head: str, findings: list[dict[str, Any]], root: Path, *, ok: bool = True) -> None:
        super().__init__(classes="seg-findings")
        self.head = head
        self.findings = list(findings)
        self.root = root
        self.ok = ok

    def compose(self) -> ComposeResult:
        hint = "  — Enter on one shows its lines" if self.findings else ""
        yield Static(Content(self.head + hint), classes="findings-head" + ("" if self.ok else " -fail"))
        if self.findings:
            yield OptionList(*(finding_line(f) for f in self.findings))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        from gearshift.ui.screens.finding import FindingScreen

        self.app.push_screen(FindingScreen(self.root, self.findings[event.option_index]))
