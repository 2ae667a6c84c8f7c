"""Hunks: a file change cut into pieces the user can accept or reject one by one.

The review screen shows a staged change as hunks and the user may take only some of them, so the
split and the partial apply must agree exactly on what a hunk is. Both come from one
`difflib.SequenceMatcher` over the same lines with the same context, so hunk *i* in the review is
precisely the set of edits `apply_hunks` takes when *i* is accepted. Hunks are difflib's grouped
opcodes: changes closer than twice the context share a hunk, as in `diff -u`.

Lines are split on "\\n" only (not `str.splitlines`, which also breaks on form feeds and other
separators), and keep their "\\r", so CRLF files round-trip and the diff text applies with
`git apply`/`patch`. A file created or deleted is a single hunk: all or nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

NO_NEWLINE = "\\ No newline at end of file"


@dataclass(frozen=True)
class Hunk:
    """One reviewable piece of a file's diff.

    `lines` are the diff body without line terminators: " " context, "-" removed, "+" added, and
    `NO_NEWLINE` after a line that ends its file without a newline. Starts are 1-based as printed
    in `header` (for an empty range the start is the line before it, as in `diff -u`).
    """

    index: int
    path: str
    header: str
    lines: list[str]
    before_start: int
    before_len: int
    after_start: int
    after_len: int


def split_lines(text: str) -> list[str]:
    """Split on "\\n", keeping terminators; the last line may lack one."""
    if not text:
        return []
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _matcher(a: list[str], b: list[str]) -> SequenceMatcher[str]:
    # autojunk off: with it, lines common in big files (blank lines, braces) are ignored when
    # aligning, which turns small edits into large replace blocks in the review.
    return SequenceMatcher(None, a, b, autojunk=False)


def _range(start: int, stop: int) -> tuple[int, int]:
    length = stop - start
    return (start + 1 if length else start), length


def _fmt(start: int, length: int) -> str:
    return str(start) if length == 1 else f"{start},{length}"


def _emit(out: list[str], prefix: str, lines: Iterable[str]) -> None:
    for line in lines:
        if line.endswith("\n"):
            out.append(prefix + line[:-1])
        else:
            out.append(prefix + line)
            out.append(NO_NEWLINE)


def split_hunks(path: str, before: str | None, after: str | None, context: int = 3) -> list[Hunk]:
    """The hunks turning `before` into `after` (None = the file is absent)."""
    a, b = split_lines(before or ""), split_lines(after or "")
    if (before is None) != (after is None) and not a and not b:
        # Creating or deleting an empty file changes no line, yet it is a change to review.
        return [Hunk(0, path, "@@ -0,0 +0,0 @@", [], 0, 0, 0, 0)]
    hunks: list[Hunk] = []
    for index, group in enumerate(_matcher(a, b).get_grouped_opcodes(context)):
        before_start, before_len = _range(group[0][1], group[-1][2])
        after_start, after_len = _range(group[0][3], group[-1][4])
        lines: list[str] = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                _emit(lines, " ", a[i1:i2])
            else:
                _emit(lines, "-", a[i1:i2])
                _emit(lines, "+", b[j1:j2])
        header = f"@@ -{_fmt(before_start, before_len)} +{_fmt(after_start, after_len)} @@"
        hunks.append(Hunk(index, path, header, lines, before_start, before_len, after_start, after_len))
    return hunks


def unified_diff(path: str, before: str | None, after: str | None, context: int = 3) -> str:
    """One file's unified diff with a/… b/… headers (/dev/null for an absent side); '' if equal."""
    hunks = split_hunks(path, before, after, context)
    if not hunks:
        return ""
    out = [
        f"--- {'/dev/null' if before is None else 'a/' + path}\n",
        f"+++ {'/dev/null' if after is None else 'b/' + path}\n",
    ]
    for hunk in hunks:
        if hunk.lines:
            out.append(hunk.header + "\n")
            out.extend(line + "\n" for line in hunk.lines)
    return "".join(out)


def apply_hunks(before: str | None, after: str | None, accepted: set[int], context: int = 3) -> str | None:
    """`before` with only the accepted hunks (indices from `split_hunks`) applied.

    All accepted gives `after`, none gives `before`. A created or deleted file is one hunk, so a
    partial choice can never leave half a file behind.
    """
    if before is None or after is None:
        if not split_hunks("", before, after, context):
            return before
        return after if 0 in accepted else before
    a, b = split_lines(before), split_lines(after)
    matcher = _matcher(a, b)
    # Copy first: get_grouped_opcodes trims the cached opcode list in place.
    opcodes = list(matcher.get_opcodes())
    owner: dict[tuple[int, int, int, int], int] = {}
    for index, group in enumerate(matcher.get_grouped_opcodes(context)):
        for tag, i1, i2, j1, j2 in group:
            if tag != "equal":
                owner[(i1, i2, j1, j2)] = index
    out: list[str] = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag != "equal" and owner[(i1, i2, j1, j2)] in accepted:
            out.extend(b[j1:j2])
        else:
            out.extend(a[i1:i2])
    return "".join(out)
