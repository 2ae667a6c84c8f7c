"""Code excerpts for the escalation payload: the lines around each new finding and changed hunk.

The escalation model gets the code around the failure, not the whole context again; this picks
those lines from the staged copy, merges overlapping ranges and stops at a character budget.
`whole` sends the files those lines are in, whole, instead: on a small project the excerpts leave
the payload just under the escalation model's minimum cacheable length, where every turn of the
escalation pays full price for it, and whole files make it a prefix the later turns read from
cache (the journey forecasts both and sends the cheaper).
"""

from __future__ import annotations

from gearshift.edits.cowstage import AnyStage
from gearshift.edits.hunks import split_hunks
from gearshift.validation.findings import ValidationResult

SNIPPET_RADIUS = 12
SNIPPET_BUDGET_CHARS = 12_000


def snippets(
    stage: AnyStage, result: ValidationResult, diff_paths: list[str]
) -> list[tuple[str, int, int, str]]:
    """Excerpts (with line numbers) around each finding and each changed hunk in the staged copy."""
    return _excerpts(stage, result, diff_paths, whole=False)[0]


def whole_files(
    stage: AnyStage, result: ValidationResult, diff_paths: list[str]
) -> list[tuple[str, int, int, str]] | None:
    """The files `snippets` takes its excerpts from, each entire; None when they do not all fit
    the budget (a whole-file payload that left some out would be cheaper only by saying less)."""
    out, complete = _excerpts(stage, result, diff_paths, whole=True)
    return out if complete else None


def _excerpts(
    stage: AnyStage, result: ValidationResult, diff_paths: list[str], *, whole: bool
) -> tuple[list[tuple[str, int, int, str]], bool]:
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
    out: list[tuple[str, int, int, str]] = []
    used = 0
    for path, ranges in wanted.items():
        try:
            lines = stage.read_text(path).splitlines()
        except Exception:  # a finding may point at a file outside the project (a library)
            continue
        merged: list[list[int]] = []
        for a, b in sorted(ranges):
            a, b = (1, len(lines)) if whole else (max(1, a), min(len(lines), b))
            if merged and a <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        for a, b in merged:
            text = "\n".join(f"{n}: {lines[n - 1]}" for n in range(a, b + 1))
            if used + len(text) > SNIPPET_BUDGET_CHARS:
                return out, False
            used += len(text)
            out.append((path, a, b, text))
    return out, True
