"""Code for the escalation payload: the lines around each new finding and changed hunk, and the
same files whole.

The escalation model gets the code around the failure, not the whole context again; this picks
those lines from the staged copy, merges overlapping ranges and stops at a character budget.
The files those lines are in, whole, are the other offer: on a small project the excerpts leave
the payload just under the escalation model's minimum cacheable length, where every turn of the
escalation pays full price for it, and whole files make it a prefix the later turns read from
cache (`escalating.cheaper_payload` forecasts both and sends the cheaper). Each file is read
once for both.
"""

from __future__ import annotations

from dataclasses import dataclass

from gearshift.edits.cowstage import AnyStage
from gearshift.edits.hunks import split_hunks
from gearshift.validation.findings import ValidationResult

SNIPPET_RADIUS = 12
SNIPPET_BUDGET_CHARS = 12_000

Excerpt = tuple[str, int, int, str]  # path, first line, last line, numbered text


@dataclass(frozen=True)
class Excerpts:
    around: list[Excerpt]  # the lines around the failures and the hunks, within the budget
    # each of those files entire; None when they do not all fit the budget (a whole-file payload
    # that left some out would be cheaper only by saying less)
    whole: list[Excerpt] | None


def excerpts(stage: AnyStage, result: ValidationResult, diff_paths: list[str]) -> Excerpts:
    """Both offers from the staged copy, with line numbers."""
    wanted: dict[str, list[tuple[int, int]]] = {}
    for f in result.findings:
        if f.file and f.line and not f.preexisting:
            wanted.setdefault(f.file, []).append((f.line - SNIPPET_RADIUS, f.line + SNIPPET_RADIUS))
    for change in stage.changes():
        if change.path in diff_paths:
            for h in split_hunks(change.path, change.before, change.after):
                wanted.setdefault(change.path, []).append(
                    (h.after_start - 4, h.after_start + h.after_len + 4)
                )
    around, whole = _Budget(), _Budget()
    for path, ranges in wanted.items():
        try:
            lines = stage.read_text(path).splitlines()
        except Exception:  # a finding may point at a file outside the project (a library)
            continue
        merged: list[list[int]] = []
        for a, b in sorted(ranges):
            a, b = max(1, a), min(len(lines), b)
            if merged and a <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        for a, b in merged:
            around.add(path, lines, a, b)
        whole.add(path, lines, 1, len(lines))
    return Excerpts(around.out, whole.out if not whole.full else None)


class _Budget:
    """Excerpts taken in order until the next one would pass the character budget."""

    def __init__(self) -> None:
        self.out: list[Excerpt] = []
        self.used = 0
        self.full = False

    def add(self, path: str, lines: list[str], a: int, b: int) -> None:
        if self.full:
            return
        text = "\n".join(f"{n}: {lines[n - 1]}" for n in range(a, b + 1))
        if self.used + len(text) > SNIPPET_BUDGET_CHARS:
            self.full = True
            return
        self.used += len(text)
        self.out.append((path, a, b, text))
