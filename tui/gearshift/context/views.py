"""What a context file looks like when sent: stripped of documentation, or cut to signatures.

Stripping removes comments and docstrings and nothing else: every other byte of code stays as it
was (tests compare the ASTs / token streams), so the model reads the same code it would edit. A
docstring that is a body's only statement becomes `...` so the code stays valid. Lines that held
only documentation disappear; a trailing comment takes the spaces before it along.

The signatures view keeps the definitions that matter (the names the task's files use) in full
and every other definition as its signature with the body elided — "AST-aware chunking": the cut
points come from the outline `ast` gave the graph (Python) or from the token stream (TS/JS).
Named files never come through here: they are sent byte-exact.
"""

from __future__ import annotations

import bisect
import operator
import re
from itertools import accumulate, count
from typing import Any

from gearshift.context import jsscan
from gearshift.context.scan import Record

Span = tuple[int, int, str]  # start offset, end offset, replacement

# Python comments, and the strings a "#" may hide in. The loops are unrolled: this runs at
# selection time and must stay close to the speed of a plain scan.
_PY_LEX = re.compile(
    r"(\#[^\r\n]*)"
    r"|'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''"
    r'|"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""'
    r"""|'[^'\\\n]*(?:\\.[^'\\\n]*)*'|"[^"\\\n]*(?:\\.[^"\\\n]*)*\"""",
    re.S,
)
_JSX = (".jsx", ".tsx")


def can_strip(path: str) -> bool:
    """JSX text is not lexed as such, so those files are never rewritten."""
    return not path.endswith(_JSX)


# ---------------------------------------------------------------------------------------------
# Span removal


def remove_spans(text: str, spans: list[Span], lo: int = 0, hi: int | None = None) -> str:
    """`text[lo:hi]` with the spans inside it replaced, tidying the lines they leave behind."""
    hi = len(text) if hi is None else hi
    starts = [s[0] for s in spans]
    first = bisect.bisect_left(starts, lo)
    out: list[str] = []
    pos = lo
    for s, e, rep in spans[first:]:
        if e > hi:
            break
        if s < pos:  # overlapping: keep the first
            continue
        if not rep:
            line_start = max(text.rfind("\n", 0, s) + 1, lo)
            line_end = text.find("\n", e, hi)
            line_end = hi if line_end < 0 else line_end
            before_blank = not text[line_start:s].strip()
            after_blank = not text[e:line_end].strip()
            if before_blank and after_blank and line_start >= pos:
                s, e = line_start, min(line_end + 1, hi)  # the whole line goes
            elif after_blank:
                s = line_start + len(text[line_start:s].rstrip())  # trailing comment
                s = max(s, pos)
            elif s > lo and not text[s - 1].isspace() and not text[e : e + 1].isspace():
                rep = " "  # an inline block comment still separates two tokens
        out.append(text[pos:s])
        out.append(rep)
        pos = e
    out.append(text[pos:hi])
    return "".join(out)


def line_starts(text: str) -> list[int]:
    """Offsets where each line begins (lines split on "\\n" only, as `ast` counts them)."""
    # All C iterators: start of line k+1 = sum of the first k line lengths + k newlines.
    return [0, *map(operator.add, accumulate(map(len, text.split("\n"))), count(1))]


def _offset(text: str, starts: list[int], line: int, col_bytes: int, ascii_text: bool = False) -> int:
    """`ast` columns are UTF-8 byte offsets; turn one into a string offset."""
    begin = starts[line - 1]
    if ascii_text:
        return begin + col_bytes
    row = text[begin : starts[line] if line < len(starts) else len(text)]
    if row.isascii():
        return begin + col_bytes
    return begin + len(row.encode("utf-8")[:col_bytes].decode("utf-8", errors="ignore"))


# ---------------------------------------------------------------------------------------------
# Python


class PythonView:
    """One Python file, ready to be rendered whole or as signatures, stripped or not.

    Comments are found by lexing only the regions rendered — a region always starts at a
    statement the outline knows, never inside a string — because the lexer is the costly part.
    """

    def __init__(self, text: str, record: Record, strip: bool) -> None:
        docstrings, outline = record.docstrings, record.outline
        if record.chars != len(text) or outline is None or docstrings is None:
            # another version of this file, or no details made (see ImportGraph.detailed)
            docstrings, outline = (), ()
        self.text = text
        self.outline: tuple[Any, ...] = outline
        self.strip = strip
        self.starts = line_starts(text)
        self.n_lines = len(self.starts) - 1
        self.ascii = text.isascii()
        self.docs = {d[0]: d for d in docstrings if d[2] <= self.n_lines}
        self._doc_lines = sorted(self.docs)
        self._doc_spans: dict[int, Span] = {}  # by first line, made when a region needs them
        self._rendered: dict[tuple[Any, ...], str] = {}

    def _doc_span(self, line: int) -> Span:
        span = self._doc_spans.get(line)
        if span is None:
            _, col, end, end_col, sole = self.docs[line]
            text, starts, fast = self.text, self.starts, self.ascii
            s, e = _offset(text, starts, line, col, fast), _offset(text, starts, end, end_col, fast)
            span = self._doc_spans[line] = _string_statement(text, s, e, sole)
        return span

    def _spans(self, a: int, b: int, lo: int, hi: int) -> list[Span]:
        """What stripping removes from lines a..b (offsets lo..hi)."""
        if not self.strip:
            return []
        spans: list[Span] = []
        if self.text.find("#", lo, hi) >= 0:  # most regions have no comment: skip the lexer
            found = _PY_LEX.finditer(self.text, lo, hi)
            spans = [(m.start(1), m.end(1), "") for m in found if m.group(1)]
        doc_lines = self._doc_lines
        i = bisect.bisect_left(doc_lines, a)
        while i < len(doc_lines) and doc_lines[i] <= b:
            spans.append(self._doc_span(doc_lines[i]))
            i += 1
        spans.sort()
        return spans

    def lines(self, a: int, b: int) -> str:
        """Lines a..b (1-based, inclusive), stripped when asked."""
        lo, hi = self.starts[a - 1], self.starts[b] if b < self.n_lines else len(self.text)
        spans = self._spans(a, b, lo, hi)
        chunk = remove_spans(self.text, spans, lo, hi) if spans else self.text[lo:hi]
        return chunk if chunk.endswith("\n") or not chunk else chunk + "\n"

    def whole(self) -> str:
        if not self.strip:
            return self.text
        key = ("whole",)
        if key not in self._rendered:
            self._rendered[key] = remove_spans(self.text, self._spans(1, self.n_lines, 0, len(self.text)))
        return self._rendered[key]

    def signatures(self, keep: set[str], members: bool = True) -> str:
        """Functions in `keep` whole, other functions as signatures, imports left out.

        A class shows its members' signatures when it is in `keep` or `members` is set, else
        only its header; a method named "Class.method" in `keep` is shown whole.
        """
        key = (frozenset(keep), members)
        if key not in self._rendered:
            self._rendered[key] = self._signatures(keep, members)
        return self._rendered[key]

    def _signatures(self, keep: set[str], members: bool) -> str:
        parts: list[str] = []
        for item in self.outline:
            part = self._item(item, keep, members, "")
            if part:
                parts.append(("\n" if item[0] in ("c", "d") and parts else "") + part)
        return "".join(parts)

    def _item(self, item: tuple[Any, ...], keep: set[str], members: bool, owner: str) -> str:
        kind, name, start, body, body_col, end, inner_items = item
        if kind == "i" or (kind == "o" and start in self.docs) or end > self.n_lines:
            return ""
        if kind == "o":
            return self.lines(start, end) if end - start < 2 else _first_line(self.lines(start, start))
        qualified = f"{owner}.{name}" if owner else name
        if kind == "d" and qualified in keep:
            return self.lines(start, end)
        text, starts = self.text, self.starts
        body_at = _offset(text, starts, body, body_col, self.ascii)
        indent = text[starts[body - 1] : body_at]
        if indent.strip():  # the body shares the header's last line
            return self.lines(start, end) if end == body else _first_line(self.lines(start, body))
        out = self.lines(start, body - 1)
        doc = self.docs.get(body)
        if doc is not None and not self.strip:
            out += self.lines(body, doc[2])
        inner = ""
        if kind == "c" and (members or name in keep) and not owner:
            inner = "".join(self._item(m, keep, members, name) for m in inner_items)
        return out + (inner or f"{indent}...\n")


_SEMICOLON_AFTER = re.compile(r"[ \t]*;[ \t]*")


def _string_statement(text: str, s: int, e: int, sole: bool) -> Span:
    """The span that removes a bare-string statement, taking along a `;` that joins it to another."""
    if sole:
        return (s, e, "...")
    after = _SEMICOLON_AFTER.match(text, e)
    if after:  # `"doc"; x = 1` → `x = 1`
        return (s, after.end(), "")
    i = s
    while i > 0 and text[i - 1] in " \t":
        i -= 1
    if i > 0 and text[i - 1] == ";":  # `x = 1; "doc"` → `x = 1`
        return (i - 1, e, "")
    return (s, e, "")


def strip_python(text: str, record: Record) -> str:
    return PythonView(text, record, True).whole()


def _first_line(chunk: str) -> str:
    return chunk.split("\n", 1)[0].rstrip() + " ...\n"


# ---------------------------------------------------------------------------------------------
# TypeScript / JavaScript


def js_spans(toks: list[jsscan.Tok]) -> list[Span]:
    """Comments, except `/// <reference>` directives, which tell the compiler what to load."""
    return [(t.start, t.end, "") for t in toks if t.kind == "cm" and not t.text.startswith("///")]


def strip_js(text: str) -> str:
    return JsView(text, True).whole()


class JsView:
    """One TS/JS file, rendered whole or as signatures (see `jsscan.outline`)."""

    def __init__(self, text: str, strip: bool) -> None:
        self.text = text
        self.toks = jsscan.tokenize(text)
        self.spans = js_spans(self.toks) if strip else []
        self._token_starts = [t.start for t in self.toks]
        self._rendered: dict[tuple[Any, ...], str] = {}

    def whole(self) -> str:
        if ("whole",) not in self._rendered:
            self._rendered[("whole",)] = remove_spans(self.text, self.spans) if self.spans else self.text
        return self._rendered[("whole",)]

    def signatures(self, keep: set[str], members: bool = True) -> str:
        """Like `PythonView.signatures`: declarations in `keep` whole, the rest as headers."""
        key = (frozenset(keep), members)
        if key not in self._rendered:
            items = jsscan.outline(self.text, self.toks)
            self._rendered[key] = "".join(self._render(item, keep, members, 0) for item in items)
        return self._rendered[key]

    def _chunk(self, lo: int, hi: int) -> str:
        line_start = self.text.rfind("\n", 0, lo) + 1
        if not self.text[line_start:lo].strip():
            lo = line_start  # keep the indentation
        return remove_spans(self.text, self.spans, lo, hi)

    def _render(self, item: jsscan.Item, keep: set[str], members: bool, depth: int) -> str:
        if item.kind == "import":
            return ""
        is_class = item.body >= 0 and "class" in self.text[item.start : item.body].split()
        if item.kind == "type" or (item.name in keep and not is_class):
            return self._chunk(item.start, item.end) + "\n"
        if item.body >= 0:
            header = self._chunk(item.start, item.body)
            if is_class and depth == 0 and (members or item.name in keep):
                lo = bisect.bisect_right(self._token_starts, item.body)
                hi = bisect.bisect_left(self._token_starts, item.end - 1)
                members_ = jsscan.outline(self.text, self.toks[lo:hi])
                inner = "".join(self._render(m, set(), members, depth + 1) for m in members_)
                return f"{header}{{\n{inner}{'  ' * depth}}}\n"
            return header + "{ ... }\n"
        body = self._chunk(item.start, item.end)
        return body + "\n" if body.count("\n") < 2 else _first_line(body)
