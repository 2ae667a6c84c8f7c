"""A Python file cut down to what the import graph needs, so `ast` parses a fraction of it.

The graph needs every import statement (with whether it sits in a function body or under
`if TYPE_CHECKING:`) and the module's top-level names; `ast.parse` of whole files costs more
than a cold build may take. So the text is reduced first, with regular expressions (they run
in C), and only the rest is parsed:

1. Strings become empty literals (their prefix letters stay) and comments go, so no quote,
   bracket or keyword inside one can mislead the next steps; backslash continuations join.
2. Every `def` or `class` whose body holds no `import` keyword (a hard keyword: outside strings
   and comments it always starts or belongs to an import statement) becomes an empty stub.
3. A `def` whose body does import keeps only its import statements: under a `def` every import
   is lazy, whatever block it sits in — unless the body mentions TYPE_CHECKING, then it stays.

Exactness comes from the parser, not from trusting the cuts. A body ends at the first line
indented no deeper than its header; a line that only *looks* like that (a bracket continuation
at a shallow indent) leaves behind a closing bracket whose opener was cut, and the parse fails.
`pass` inserted inside brackets cannot parse either. So a wrong cut is a SyntaxError, not a
different tree (the tests hold the result to the full parse's on the installed stdlib and
site-packages, about 7,000 files); on any doubt (tabs, other encodings, odd quotes, a failed parse) the caller
parses the whole file. The one thing a cut cannot show is an error inside a cut body: such a
file still yields the imports it has (the full parse, when a view needs one, records the error).

Standard library only: the cold build's second process imports this.
"""

from __future__ import annotations

import codecs
import re
import sys

# Every alternative starts with a literal, so the regex engine skips to the next `#`, `'` or `"`
# with a character-set scan. Group 1/2: the rest of a '…' / "…" string (None for a comment).
_TOKENS = re.compile(
    r"""\#[^\n]*"""
    r"""|'(''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''|[^'\\\n]*(?:\\.[^'\\\n]*)*')"""
    r'''|"(""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""|[^"\\\n]*(?:\\.[^"\\\n]*)*")''',
    re.S,
)
# The placeholder keeps a space after it: `"a""b"` must not become the triple quote `""""`.
_EMPTY = '"" '
_COOKIE = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.M)
_TAB_INDENT = re.compile(r"\n[ ]*[\t\f]")
_PREFIX = re.compile(r"[A-Za-z]{1,2}\Z")
# Python 3.12 lets an f-string nest its own quotes inside `{…}` (PEP 701), which a regular
# expression cannot follow; there a literal that might do so sends the file to the full parse.
_NESTING_FSTRINGS = sys.version_info >= (3, 12)

# A def/class header: one line ending in `:`, or `name(` … `)…:` with the closing line at the
# header's own indentation (black's layout). It ends at the end of its line.
_HEADER = (
    r"(?P<h>[^\n]*:[ ]*"
    r"|[^\n]*[(\[][ ]*(?:\n(?P=i)[ ]+[^ \n][^\n]*|\n[ ]*(?=\n))*?\n(?P=i)[)\]][^\n]*:[ ]*)(?=\n)"
)
# Possessive quantifiers are spelled as atomic groups, `(?>X*)` for `X*+`: CPython before
# 3.11.5 mis-matches a possessive repeat of a subpattern that can backtrack (gh-106052), and
# later versions implement `X*+` as exactly this atomic group.
# The rest of a line holding no `import` keyword (atomic: linear, never backtracks).
_NO_IMPORT = r"(?>(?:(?>[^i\n]+)|\Bi|i(?!mport\b))*)(?=\n)"
# A def or class with a non-empty body free of imports, ended by a line no deeper than it.
# Blank lines and non-blank lines are told apart so no line can match two ways.
_STUB = re.compile(
    r"\n(?P<i>(?>[ ]*))(?:(?:async[ \t]+)?def[ \t]+(?P<n>\w+)|(?P<c>class\b))" + _HEADER
    + r"(?>(?:\n[ ]*(?=\n))*)\n(?P=i)(?>[ ]+)(?=[^\n])" + _NO_IMPORT
    + r"(?>(?:\n(?P=i)[ ]" + _NO_IMPORT + r"|\n[ ]*(?=\n))*)(?!\n(?P=i)[ ])"
)
# Any remaining def with its whole body.
_DEF = re.compile(
    r"\n(?P<i>(?>[ ]*))(?:async[ \t]+)?def[ \t]+(?P<n>\w+)" + _HEADER
    + r"(?P<b>(?>(?:\n(?P=i)[ ][^\n]*|\n[ ]*(?=\n))*))(?!\n(?P=i)[ ])"
)
_IMPORT = re.compile(r"\bimport\b")
_STATEMENT = re.compile(r"[ ]*(?:import|from)\b")


def reduced_source(source: bytes) -> str | None:
    """The source cut down for the import graph, or None when only a full parse can be trusted."""
    if b"\0" in source:
        return None
    try:
        text = source.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return None
    text = text.removeprefix("\ufeff")
    if "coding" in text[:400] and not _utf8_cookie(text):
        return None
    skeleton = _skeleton(text)
    if skeleton is None:
        return None
    return _DEF.sub(_imports_only, _STUB.sub(_stub, skeleton))


def _utf8_cookie(text: str) -> bool:
    """False when the first two lines declare an encoding other than UTF-8."""
    for line in text.split("\n", 2)[:2]:
        m = _COOKIE.match(line)
        if m:
            try:
                return codecs.lookup(m.group(1)).name == "utf-8"
            except LookupError:
                return False
    return True


def _skeleton(text: str) -> str | None:
    """The code with strings emptied and comments and backslash continuations removed."""
    parts = _TOKENS.split(text)
    singles, doubles = parts[1::3], parts[2::3]
    if _NESTING_FSTRINGS and _may_nest(parts):
        return None
    emptied = zip(singles, doubles, strict=True)
    parts[1::3] = [_EMPTY if a is not None or b is not None else "" for a, b in emptied]
    parts[2::3] = [""] * len(doubles)
    parts[0] = "\n" + parts[0]  # every line, the first too, starts after a newline
    parts.append("\n")
    skeleton = "".join(parts)
    if "'" in skeleton or '"' in skeleton.replace('""', ""):
        return None  # a quote the lexer could not pair: unterminated, or something it missed
    skeleton = skeleton.replace("\\\n", " ")
    if _TAB_INDENT.search(skeleton):
        return None  # tabs (and form feeds) make indentation depend on tab stops
    return skeleton


def _may_nest(parts: list[str | None]) -> bool:
    """Whether an f-string (or t-string) might hold quotes or comments inside a `{…}` field."""
    for k in range(1, len(parts), 3):
        rest = parts[k] if parts[k] is not None else parts[k + 1]
        if rest is None or "{" not in rest:
            continue
        prefix = _PREFIX.search(parts[k - 1] or "")
        if prefix is None or not {"f", "t"} & set(prefix.group().lower()):
            continue
        body = rest.replace("{{", "").replace("}}", "").strip("'\"")
        if "{" in body and (body.count("{") != body.count("}") or any(q in body for q in "'\"#")):
            return True
    return False


def _stub(m: re.Match[str]) -> str:
    indent = m.group("i")
    if m.group("c"):
        return f"\n{indent}class{m.group('h')}\n{indent} pass"
    return f"\n{indent}def {m.group('n')}():\n{indent} pass"


def _imports_only(m: re.Match[str]) -> str:
    """A def reduced to its import statements, each whole (parenthesised lists span lines)."""
    body = m.group("b")
    if "import" not in body:
        return m.group(0)  # a stub already, or `import` only inside a name
    if "TYPE_CHECKING" in body:
        return m.group(0)  # an import under `if TYPE_CHECKING:` here is type-only too: keep all
    indent = m.group("i")
    out = [f"\n{indent}def {m.group('n')}():"]
    lines = body.split("\n")
    k = 0
    while k < len(lines):
        line = lines[k]
        k += 1
        if "import" not in line or not _IMPORT.search(line):
            continue
        if not _STATEMENT.match(line):
            return m.group(0)  # `x = 1; import y` or `try: import y`: keep the body as it is
        out.append(f"\n{indent} {line.lstrip()}")
        depth = line.count("(") - line.count(")")
        while depth > 0 and k < len(lines):
            out.append("\n" + lines[k])
            depth += lines[k].count("(") - lines[k].count(")")
            k += 1
    if len(out) == 1:
        out.append(f"\n{indent} pass")  # `import` only inside a name such as importlib
    return "".join(out)
