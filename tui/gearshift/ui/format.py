"""Small pure helpers the panes share: money, model names and tiers, text bars.

Kept apart from the widgets so the wording of the UI is in one place and testable without a
running app.
"""

from __future__ import annotations

from gearshift.config import Config

# Said in the header and when a task is refused: with no key and no recordings nothing can run.
NO_KEY = "no API key: set ANTHROPIC_API_KEY or try gearshift demo"
BADGE_VARIABLE = {
    "pass": "outcome-pass",
    "fail-syntax": "outcome-syntax",
    "fail-logic": "outcome-fail",
    "fail (syntax: collection error)": "outcome-syntax",
    "timeout": "outcome-fail",
    "error": "outcome-fail",
    "cancelled": "text-muted",
}


def money(value: float) -> str:
    """Dollars with enough places that a cache read still shows up."""
    if value == 0:
        return "$0"
    if abs(value) < 0.01:
        return f"${value:.4f}"
    return f"${value:.3f}"


def model_label(config: Config, model_id: str | None) -> str:
    if not model_id:
        return "–"
    spec = config.model_by_id(model_id)
    return spec.label if spec is not None else model_id


def tier_variable(config: Config, model_id: str | None) -> str:
    """The theme variable that colours a model: one per catalogue tier."""
    spec = config.model_by_id(model_id) if model_id else None
    return f"tier-{spec.tier if spec is not None else 'default'}"  # config checks it is a vocab.ModelTier


def bar(fraction: float, width: int, marker: float | None = None) -> str:
    """A text bar of `width` cells filled to `fraction`; `marker` puts a │ at that fraction."""
    width = max(4, width)
    filled = round(max(0.0, min(1.0, fraction)) * width)
    cells = ["█"] * filled + ["░"] * (width - filled)  # the routing pane colours each run
    if marker is not None:
        at = min(width - 1, max(0, round(max(0.0, min(1.0, marker)) * width) - 1))
        cells[at] = "┃"
    return "".join(cells)


def tokens(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 10_000 else str(n)
