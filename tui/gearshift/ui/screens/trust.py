"""The trust question: the project's own commands, shown exactly, before any of them runs."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class TrustScreen(ModalScreen[bool]):
    """Trust (recorded, like `gearshift trust`) or not now (the app runs none of them)."""

    DEFAULT_CSS = """
    TrustScreen { align: center middle; }
    TrustScreen > Grid {
        grid-size: 2; grid-gutter: 1 2; grid-rows: auto auto auto 3; padding: 1 2;
        width: 90; height: auto; max-height: 90%; border: thick $warning 80%; background: $surface;
    }
    TrustScreen #question, TrustScreen #commands, TrustScreen #why { column-span: 2; width: 1fr; }
    TrustScreen #commands { background: $panel; padding: 0 1; }
    TrustScreen Button { width: 100%; }
    """
    BINDINGS = [
        Binding("t", "answer(True)", "Trust", id="trust-yes"),
        Binding("n,escape", "answer(False)", "Not now", id="trust-no"),
    ]

    def __init__(self, project: str, lines: list[str], reason: str = "") -> None:
        super().__init__()
        self.project, self.lines, self.reason = project, lines, reason

    def compose(self) -> ComposeResult:
        with Grid():
            yield Label(
                f"{self.project}'s config runs its own code when its checks run"
                + (f" ({self.reason})" if self.reason else "")
                + ":",
                id="question",
            )
            yield Static("\n".join(self.lines), id="commands", markup=False)
            yield Label(
                "Trust it only if you have read it. Not now: none of it runs (its checks show "
                "as untrusted, not run); built-in checks use gearshift's own Python.",
                id="why",
            )
            yield Button("Trust (t)", variant="warning", id="yes")
            yield Button("Not now (n)", variant="primary", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
