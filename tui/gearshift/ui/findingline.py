"""One review finding as a line of text: the badge, file:line, message and rule.

Shared by the findings list in the output pane and the finding screen it opens; kept apart
from both so neither imports the other.
"""

from __future__ import annotations

from typing import Any

from textual.content import Content

BADGES = {"error": ("ERROR", "$error"), "warning": ("WARN ", "$warning"), "note": ("NOTE ", "$primary")}


def finding_line(f: dict[str, Any]) -> Content:
    """`[ERROR] shop/auth.py:12-14  message  (rule)` with the badge in the severity's colour."""
    label, colour = BADGES.get(f.get("severity", ""), (str(f.get("severity", "?")).upper(), "$secondary"))
    where = f"{f['file']}:{f['start_line']}" + (f"-{f['end_line']}" if f["end_line"] != f["start_line"] else "")
    return Content.assemble(
        (f" {label} ", f"bold $text on {colour}"),
        " ",
        (where, "bold"),
        "  ",
        f["message"],
        (f"  ({f['rule']})", "$text-muted"),
    )
