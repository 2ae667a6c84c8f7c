"""The tuning view's two small plots, drawn in text in the app's sparkline style.

`textual-plotext` (the Textual wrapper of plotext) was considered: its last release (1.0.1,
2024-11) pins plotext < 6 and predates Textual 8, so the plots are block characters instead —
the same look as the cost pane's Sparkline, themable, and stable in snapshots.

- `score_strip`: each scored task at its complexity score (0 → 1 left to right), one row per
  outcome (passed on the first route, escalated, failed), with today's threshold marked.
- `cost_bars`: the estimated session cost at each threshold of the what-if, as vertical bars,
  today's and the recommended threshold labelled.
"""

from __future__ import annotations

from typing import Any

from textual.content import Content

BLOCKS = " ▁▂▃▄▅▆▇█"
DOTS = " ·•●"  # 0, 1, 2, 3+ tasks in a cell


def _column(score: float, width: int) -> int:
    return min(int(score * width + 1e-9), width - 1)  # 0.6 × 20 is 11.999…


def score_strip(points: list[dict[str, Any]], threshold: float, width: int = 50) -> Content:
    """Score against outcome: a row per outcome, a cell per 1/width of the score range."""
    rows = {
        "passed": ("$outcome-pass", lambda p: p["success"] and not p["escalated"]),
        "escalated": ("$warning", lambda p: p["escalated"]),
        "failed": ("$outcome-fail", lambda p: not p["success"] and not p["escalated"]),
    }
    mark = _column(threshold, width)
    parts: list[Content | str | tuple[str, str]] = []
    for name, (style, chosen) in rows.items():
        counts = [0] * width
        for p in points:
            if chosen(p):
                counts[_column(p["score"], width)] += 1
        cells = "".join(DOTS[min(c, 3)] for c in counts)
        parts += [
            f"{name:>9} ",
            (cells[:mark], style),
            ("┃", "bold $warning"),
            (cells[mark:], style),
            "\n",
        ]
    axis = "0" + " " * (width - 1) + "1"  # width cells and the threshold mark
    parts += [" " * 10, (axis, "$text-muted"), "\n"]
    parts += [" " * 10, (f"{' ' * mark}↑ threshold {threshold:.2f}", "$text-muted")]
    return Content.assemble(*parts)


def cost_bars(
    what_if: list[dict[str, Any]], today: float, recommended: float | None, height: int = 4
) -> Content:
    """Estimated session cost per threshold: bars `height` rows tall, lowest cost shortest."""
    costs = [w["estimated_cost_usd"] for w in what_if]
    if not costs:
        return Content("")
    low, high = min(costs), max(costs)
    span = high - low
    # one eighth of a row at least, so the cheapest bar is still visible
    levels = [
        height * 8 if span == 0 else max(1, round(1 + (c - low) / span * (height * 8 - 1))) for c in costs
    ]
    parts: list[Content | str | tuple[str, str]] = []
    for row in range(height, 0, -1):
        parts.append(f"${high:>8.4f} " if row == height else (f"${low:>8.4f} " if row == 1 else " " * 10))
        for w, level in zip(what_if, levels, strict=True):
            fill = min(max(level - (row - 1) * 8, 0), 8)
            style = (
                "$outcome-pass"
                if recommended is not None and abs(w["threshold"] - recommended) < 1e-9
                else "$accent"
            )
            parts += [(BLOCKS[fill] * 3, style), " "]
        parts.append("\n")
    parts.append(" " * 10)
    for w in what_if:
        parts.append(
            (
                f"{w['threshold']:.2f}"[1:] + " ",
                "bold" if abs(w["threshold"] - today) < 1e-9 else "$text-muted",
            )
        )
    note = f"  bold: today ({today:.2f})"
    if recommended is not None:
        note += f" · green: recommended ({recommended:.2f})"
    parts += ["\n", (" " * 10 + note.strip(), "$text-muted")]
    return Content.assemble(*parts)
