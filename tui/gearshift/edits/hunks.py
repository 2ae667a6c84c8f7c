"""Hunks: a file change cut into pieces the user can accept or reject one by one.

The review screen shows a staged change as hunks and the user may take only some of them, so the
split and the partial apply must agree exactly on what a hunk is. Both come from one alignment
of the same lines with the same context, so hunk *i* in the review is precisely the set of edits
`apply_hunks` takes when *i* is accepted. Hunks are difflib's grouped opcodes: changes closer than
twice the context share a hunk, as in `diff -u`.

The alignment is exactly `difflib.SequenceMatcher(None, a, b, autojunk=False)`'s, computed faster:
its longest-match search is quadratic in how often a line repeats, so a one-line edit in a big
JSON file took seconds to minutes. `_Aligner` runs the same recursion but, where that search would
be costly, finds the same longest match (same length, same earliest-in-a-then-b tie-break) with
rolling hashes over the lines, checked against the lines themselves.

Lines are split on "\\n" only (not `str.splitlines`, which also breaks on form feeds and other
separators), and keep their "\\r", so CRLF files round-trip and the diff text applies with
`git apply`/`patch`. A file created or deleted is a single hunk: all or nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from difflib import Match, SequenceMatcher

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


_MOD = (1 << 61) - 1
_BASE = 0x9E3779B97F4A7C15 % _MOD
Opcode = tuple[str, int, int, int, int]


class _HashCollision(Exception):
    """Two different runs of lines hashed alike: answer that one search the slow, sure way."""


class _Aligner:
    """`SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()`, the same blocks.

    autojunk stays off: with it, lines common in big files (blank lines, braces) are ignored when
    aligning, which turns small edits into large replace blocks in the review.

    difflib's longest-match search walks, for each line of a, every position of that line in b:
    cheap for code, quadratic when lines repeat thousands of times. Such searches here find the
    longest common run of lines instead by hashing every window of a given length: the aligned
    prefix or suffix of the range gives a lower bound, one pass checks whether anything longer
    exists (for a small edit nothing does), and a binary search finds the length otherwise. The
    earliest window in a, then in b, is taken, as difflib does, and compared line by line; on a
    hash collision that search falls back to difflib's own.
    """

    # Searches cheaper than this many difflib steps are left to difflib (tests set both to -1).
    DIFFLIB_STEPS_PER_LINE = 48
    DIFFLIB_STEPS_FREE = 256

    def __init__(self, a: list[str], b: list[str]) -> None:
        ids: dict[str, int] = {}
        self.a = [ids.setdefault(line, len(ids)) for line in a]
        self.b = [ids.setdefault(line, len(ids)) for line in b]
        counts = [0] * len(ids)
        for x in self.b:
            counts[x] += 1
        self.counts = counts
        self.matcher = SequenceMatcher(None, self.a, self.b, autojunk=False)
        self.hashes: tuple[list[int], list[int], list[int]] | None = None

    def matching_blocks(self) -> list[Match]:
        """difflib's get_matching_blocks: recurse on both sides of the longest match, merge."""
        la, lb = len(self.a), len(self.b)
        queue = [(0, la, 0, lb)]
        blocks: list[Match] = []
        while queue:
            alo, ahi, blo, bhi = queue.pop()
            i, j, k = x = self.longest(alo, ahi, blo, bhi)
            if k:
                blocks.append(x)
                if alo < i and blo < j:
                    queue.append((alo, i, blo, j))
                if i + k < ahi and j + k < bhi:
                    queue.append((i + k, ahi, j + k, bhi))
        blocks.sort()
        i1 = j1 = k1 = 0
        merged: list[Match] = []
        for i2, j2, k2 in blocks:
            if i1 + k1 == i2 and j1 + k1 == j2:
                k1 += k2
            else:
                if k1:
                    merged.append(Match(i1, j1, k1))
                i1, j1, k1 = i2, j2, k2
        if k1:
            merged.append(Match(i1, j1, k1))
        merged.append(Match(la, lb, 0))
        return merged

    def longest(self, alo: int, ahi: int, blo: int, bhi: int) -> Match:
        """difflib's find_longest_match: the longest common run, earliest in a, then in b."""
        a, b = self.a, self.b
        limit = min(ahi - alo, bhi - blo)
        # difflib's cost is one step per (i, j) with a[i] == b[j] (roughly: it also walks the
        # positions before blo); a hash pass costs a few steps per line of the two ranges.
        cost = sum(map(self.counts.__getitem__, a[alo:ahi]))
        budget = self.DIFFLIB_STEPS_PER_LINE * (ahi - alo + bhi - blo) + self.DIFFLIB_STEPS_FREE
        if limit == 0 or cost <= budget:
            return self.matcher.find_longest_match(alo, ahi, blo, bhi)
        try:
            prefix = 0
            while prefix < limit and a[alo + prefix] == b[blo + prefix]:
                prefix += 1
            suffix = 0
            while suffix < limit and a[ahi - 1 - suffix] == b[bhi - 1 - suffix]:
                suffix += 1
            # (alo, blo) is the earliest start there is, so the prefix wins a tie; the suffix
            # only if no run as long starts earlier.
            best: Match | None = Match(alo, blo, prefix)
            if suffix > prefix:
                best = self.earliest(suffix, alo, ahi, blo, bhi)
            assert best is not None
            size = best[2] + 1
            if size <= limit and (found := self.earliest(size, alo, ahi, blo, bhi)) is not None:
                # Something longer than the aligned ends (never, after one small edit): search.
                best, lo, hi = found, size + 1, limit
                while lo <= hi:
                    size = (lo + hi) // 2
                    found = self.earliest(size, alo, ahi, blo, bhi)
                    if found is None:
                        hi = size - 1
                    else:
                        best, lo = found, size + 1
            return best
        except _HashCollision:
            return self.matcher.find_longest_match(alo, ahi, blo, bhi)

    def earliest(self, size: int, alo: int, ahi: int, blo: int, bhi: int) -> Match | None:
        """The first (i, j) with a[i:i+size] == b[j:j+size] inside the ranges, by i then j."""
        if self.hashes is None:
            self.hashes = (_prefix_hashes(self.a), _prefix_hashes(self.b), [1])
        ha, hb, powers = self.hashes
        while len(powers) <= size:
            powers.append(powers[-1] * _BASE % _MOD)
        p = powers[size]
        # Walked backwards so each hash keeps its first window in b.
        in_b = {(hb[j + size] - hb[j] * p) % _MOD: j for j in range(bhi - size, blo - 1, -1)}
        in_a = [(ha[i + size] - ha[i] * p) % _MOD for i in range(alo, ahi - size + 1)]
        common = in_b.keys() & in_a
        if not common:
            return None
        for offset, h in enumerate(in_a):
            if h in common:
                i, j = alo + offset, in_b[h]
                if self.a[i : i + size] != self.b[j : j + size]:
                    raise _HashCollision
                return Match(i, j, size)
        raise AssertionError("unreachable")


def _prefix_hashes(seq: list[int]) -> list[int]:
    out = [0]
    h = 0
    for x in seq:
        h = (h * _BASE + x + 1) % _MOD
        out.append(h)
    return out


def _opcodes(blocks: list[Match]) -> list[Opcode]:
    """difflib's get_opcodes, from the matching blocks."""
    i = j = 0
    answer: list[Opcode] = []
    for ai, bj, size in blocks:
        tag = ""
        if i < ai and j < bj:
            tag = "replace"
        elif i < ai:
            tag = "delete"
        elif j < bj:
            tag = "insert"
        if tag:
            answer.append((tag, i, ai, j, bj))
        i, j = ai + size, bj + size
        if size:
            answer.append(("equal", ai, i, bj, j))
    return answer


def _grouped(opcodes: list[Opcode], n: int) -> list[list[Opcode]]:
    """difflib's get_grouped_opcodes: changes with up to n lines of context around them."""
    codes = list(opcodes) or [("equal", 0, 1, 0, 1)]
    if codes[0][0] == "equal":
        tag, i1, i2, j1, j2 = codes[0]
        codes[0] = tag, max(i1, i2 - n), i2, max(j1, j2 - n), j2
    if codes[-1][0] == "equal":
        tag, i1, i2, j1, j2 = codes[-1]
        codes[-1] = tag, i1, min(i2, i1 + n), j1, min(j2, j1 + n)
    groups: list[list[Opcode]] = []
    group: list[Opcode] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > n + n:
            group.append((tag, i1, min(i2, i1 + n), j1, min(j2, j1 + n)))
            groups.append(group)
            group = []
            i1, j1 = max(i1, i2 - n), max(j1, j2 - n)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    return groups


def _opcodes_of(a: list[str], b: list[str]) -> list[Opcode]:
    return _opcodes(_Aligner(a, b).matching_blocks())


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
    for index, group in enumerate(_grouped(_opcodes_of(a, b), context)):
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
    opcodes = _opcodes_of(a, b)
    owner: dict[tuple[int, int, int, int], int] = {}
    for index, group in enumerate(_grouped(opcodes, context)):
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
