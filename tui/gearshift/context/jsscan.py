"""TypeScript/JavaScript without a compiler: a lexer, then imports, exports and outline from tokens.

The standard library has no TS parser and the engine must not need Node to pick context, so this
reads the token stream, which is enough for what the graph needs: `import`/`export ... from`/
`require()`/`import()` specifiers with the names they bind, top-level declarations, and the
extent of each top-level statement. The lexer knows strings, template literals (with nested
`${}`), comments and regular-expression literals (told from division by the token before), so a
`//` inside a string or an `import` inside a template never fools it. JSX text is not lexed as
such: `.jsx`/`.tsx` files are scanned for imports (which come first) but never stripped.
"""

from __future__ import annotations

import functools
import re
from typing import Any, NamedTuple

from gearshift.context.filerecord import (
    CLASS,
    FUNC,
    LAZY,
    MAX_PARSE_BYTES,
    REEXPORT,
    TYPE,
    TYPE_ONLY,
    VAR,
    read_source,
)

DECLARATION_SUFFIXES = (".d.ts", ".d.mts", ".d.cts")


class Tok(NamedTuple):
    kind: str  # "id" | "str" | "tpl" | "num" | "p" | "re" | "cm"
    text: str
    start: int
    end: int


_TOKEN_PATTERN = (
    r"""
    (?P<ws>\s+)
  | (?P<cm>//[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<str>"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?)
  | (?P<id>[A-Za-z_$\u0080-\uffff][\w$\u0080-\uffff]*)
  | (?P<num>\.?\d[\w.]*)
  | (?P<p>=>|\.\.\.|[^\s\w$"'`])
    """
)


@functools.cache
def _token_re() -> re.Pattern[str]:
    """Compiled on first use: its Unicode classes take milliseconds, wasted on Python-only projects."""
    return re.compile(_TOKEN_PATTERN, re.S | re.X)
_REGEX = re.compile(r"/(?:[^/\\\[\n]|\\.|\[(?:[^\]\\\n]|\\.)*\])+/[A-Za-z]*")
_TEMPLATE_STOP = re.compile(r"`|\\.|\$\{", re.S)
_REGEX_AFTER_WORDS = frozenset(
    {"return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case",
     "do", "else", "yield", "await"}
)
_VALUE_END = frozenset({")", "]", "}"})


def tokenize(text: str) -> list[Tok]:
    """Every token but whitespace, comments included (kind "cm")."""
    toks: list[Tok] = []
    append = toks.append
    braces: list[int] = []  # brace depth at each open `${`, to know which `}` resumes a template
    depth = 0
    prev: Tok | None = None  # last significant token
    pos, n = 0, len(text)
    token_match = _token_re().match
    while pos < n:
        ch = text[pos]
        if ch == "`" or (ch == "}" and braces and braces[-1] == depth):
            if ch == "}":
                braces.pop()
            pos = _template(text, pos + 1, toks, braces, depth)
            prev = toks[-1]
            continue
        if ch == "/" and text[pos + 1 : pos + 2] not in ("/", "*") and _regex_allowed(prev):
            m = _REGEX.match(text, pos)
            if m:
                prev = Tok("re", m.group(), pos, m.end())
                append(prev)
                pos = m.end()
                continue
        m = token_match(text, pos)
        if m is None:  # pragma: no cover - the pattern matches any character
            pos += 1
            continue
        kind = m.lastgroup or "p"
        end = m.end()
        if kind != "ws":
            tok = Tok(kind, m.group(), pos, end)
            append(tok)
            if kind != "cm":
                prev = tok
                if kind == "p":
                    if ch == "{":
                        depth += 1
                    elif ch == "}":
                        depth -= 1
        pos = end
    return toks


def _template(text: str, pos: int, toks: list[Tok], braces: list[int], depth: int) -> int:
    """Lex a template chunk from `pos` (just after "`" or "}") to its closing "`" or next "${"."""
    start = pos - 1
    while True:
        m = _TEMPLATE_STOP.search(text, pos)
        if m is None:
            toks.append(Tok("tpl", text[start:], start, len(text)))
            return len(text)
        if m.group() == "`":
            toks.append(Tok("tpl", text[start : m.end()], start, m.end()))
            return m.end()
        if m.group() == "${":
            toks.append(Tok("tpl", text[start : m.end()], start, m.end()))
            braces.append(depth)
            return m.end()
        pos = m.end()


def _regex_allowed(prev: Tok | None) -> bool:
    if prev is None:
        return True
    if prev.kind == "p":
        return prev.text not in _VALUE_END
    if prev.kind == "id":
        return prev.text in _REGEX_AFTER_WORDS
    return False


# ---------------------------------------------------------------------------------------------
# Imports and top-level declarations

_DECL = {"function": FUNC, "class": CLASS, "interface": TYPE, "type": TYPE, "enum": TYPE,
         "const": VAR, "let": VAR, "var": VAR, "namespace": TYPE, "module": TYPE}
_MODIFIERS = frozenset({"export", "default", "declare", "abstract", "async", "const"})
_REFERENCE = re.compile(r"""^///\s*<reference\s+path\s*=\s*["']([^"']+)["']""")


def scan_js(text: str, *, declaration: bool = False) -> tuple[Any, ...]:
    """(imports, defs, docstrings, outline, error) in the same shape as `scan_python`.

    Specifiers are kept raw ("./x", "@/lib/y", "react"); resolution needs the file set and the
    tsconfig, which may change without this file changing. Everything in a `.d.ts` is a type.
    """
    toks = tokenize(text)
    imports: list[tuple[str, int, tuple[str, ...], int]] = []
    for t in toks:
        if t.kind == "cm" and t.text.startswith("///"):
            ref = _REFERENCE.match(t.text)
            if ref:
                imports.append((ref.group(1), 0, (), TYPE_ONLY))
    sig = [t for t in toks if t.kind != "cm"]
    defs: dict[str, str] = {}
    depth = 0
    i, n = 0, len(sig)
    while i < n:
        t = sig[i]
        if t.kind == "p":
            if t.text in "{([":
                depth += 1
            elif t.text in "})]":
                depth -= 1
            i += 1
            continue
        if t.kind != "id" or (i > 0 and sig[i - 1].text in (".", "?.")):
            i += 1
            continue
        word = t.text
        if word == "import":
            i = _import(sig, i + 1, depth, imports)
        elif word == "export":
            i = _export(sig, i + 1, imports, defs if depth == 0 else {})
        elif word == "require" and _text(sig, i + 1) == "(" and _kind(sig, i + 2) == "str":
            if _text(sig, i + 3) == ")":
                imports.append((_unquote(sig[i + 2].text), 0, (), LAZY if depth else 0))
            i += 4
        elif depth == 0:
            i = _declaration(sig, i, defs)
        else:
            i += 1
    if declaration:
        defs = dict.fromkeys(defs, TYPE)
    return tuple(imports), defs, (), (), ""


def scan_js_file(path: str) -> tuple[Any, ...]:
    """The whole graph record of a TS/JS file: (mtime_ns, size, chars, *scan_js)."""
    got = read_source(path)
    if isinstance(got, str):
        return (0, 0, 0, (), {}, (), (), got)
    data, head, _utf8 = got
    if len(data) > MAX_PARSE_BYTES or path.endswith((".min.js", ".min.mjs")):
        return (*head, (), {}, (), (), "not parsed: too large")
    text = data.decode("utf-8", errors="replace")
    return (*head, *scan_js(text, declaration=path.endswith(DECLARATION_SUFFIXES)))


def _text(sig: list[Tok], i: int) -> str:
    return sig[i].text if i < len(sig) else ""


def _kind(sig: list[Tok], i: int) -> str:
    return sig[i].kind if i < len(sig) else ""


def _unquote(s: str) -> str:
    return s[1:-1] if len(s) >= 2 and s[0] == s[-1] else s[1:]


_Imports = list[tuple[str, int, tuple[str, ...], int]]


def _import(sig: list[Tok], i: int, depth: int, out: _Imports) -> int:
    nxt = _text(sig, i)
    if nxt == "(":  # import("x"): leave the brackets to the caller's depth count
        if _kind(sig, i + 1) == "str" and _text(sig, i + 2) in (")", ","):
            out.append((_unquote(sig[i + 1].text), 0, (), LAZY))
        return i
    if nxt in (".", "?."):  # import.meta
        return i
    if _kind(sig, i) == "str":  # import "side-effect"
        out.append((_unquote(sig[i].text), 0, (), LAZY if depth else 0))
        return i + 1
    flags = 0
    if nxt == "type" and _text(sig, i + 1) not in ("from", ",", "="):
        flags, i = TYPE_ONLY, i + 1
    # import x = require("m")
    if _kind(sig, i) == "id" and _text(sig, i + 1) == "=":
        required = _text(sig, i + 2) == "require" and _kind(sig, i + 4) == "str"
        if required and _text(sig, i + 5) == ")":
            out.append((_unquote(sig[i + 4].text), 0, (f"*:{sig[i].text}",), flags))
            return i + 6
        return i + 2
    names, i, all_typed = _clause(sig, i)
    if _text(sig, i) == "from" and _kind(sig, i + 1) == "str":
        if all_typed and names:
            flags |= TYPE_ONLY
        out.append((_unquote(sig[i + 1].text), 0, tuple(names), flags))
        return i + 2
    return i


def _clause(sig: list[Tok], i: int) -> tuple[list[str], int, bool]:
    """Bindings of an import/export clause: `x`, `* as ns`, `{ a, b as c, type d }`."""
    names: list[str] = []
    all_typed = True
    n = len(sig)
    while i < n:
        t = sig[i]
        if t.text == "from" and _kind(sig, i + 1) == "str":
            break
        if t.text == "*":
            if _text(sig, i + 1) == "as":
                names.append(f"*:{_text(sig, i + 2)}")
                i += 3
            else:
                names.append("*")
                i += 1
            all_typed = False
        elif t.text == "{":
            i += 1
            while i < n and sig[i].text != "}":
                typed = sig[i].text == "type" and _kind(sig, i + 1) in ("id", "str")
                if typed:
                    i += 1
                if sig[i].kind in ("id", "str"):
                    orig = _unquote(sig[i].text) if sig[i].kind == "str" else sig[i].text
                    alias = orig
                    if _text(sig, i + 1) == "as":
                        alias = _text(sig, i + 2)
                        i += 2
                    names.append(orig if alias == orig else f"{orig}:{alias}")
                    all_typed = all_typed and typed
                i += 1
            i += 1
        elif t.kind == "id":
            names.append(f"default:{t.text}")
            all_typed = False
            i += 1
        elif t.text == ",":
            i += 1
        else:
            break
    return names, i, all_typed


def _export(sig: list[Tok], i: int, out: _Imports, defs: dict[str, str]) -> int:
    flags = REEXPORT
    start = i
    if _text(sig, i) == "type" and _text(sig, i + 1) in ("{", "*"):
        flags |= TYPE_ONLY
        i += 1
    if _text(sig, i) in ("{", "*"):
        names, j, all_typed = _clause(sig, i)
        if _text(sig, j) == "from" and _kind(sig, j + 1) == "str":
            if all_typed and names and "*" not in names:
                flags |= TYPE_ONLY
            out.append((_unquote(sig[j + 1].text), 0, tuple(names), flags))
            return j + 2
        return j
    if _text(sig, i) == "=":  # export = x
        return i + 1
    if _text(sig, i) == "default":
        defs.setdefault("default", VAR)
        return i + 1
    return _declaration(sig, start, defs)


def _declaration(sig: list[Tok], i: int, defs: dict[str, str]) -> int:
    """Record `function f`, `class C`, `interface I`, `type T =`, `const a` ... at top level."""
    j = i
    while _text(sig, j) in _MODIFIERS and _text(sig, j + 1) in (*_DECL, *_MODIFIERS):
        j += 1
    word = _text(sig, j)
    kind = _DECL.get(word)
    if kind is None:
        return i + 1
    name_at = j + 1
    if word == "function" and _text(sig, name_at) == "*":
        name_at += 1
    if _kind(sig, name_at) != "id":
        return i + 1
    if word == "type" and _text(sig, name_at + 1) not in ("=", "<"):
        return i + 1
    defs[sig[name_at].text] = kind
    return name_at + 1


# ---------------------------------------------------------------------------------------------
# Outline: the extent of every top-level statement, for signature views


class Item(NamedTuple):
    kind: str  # "import" | "type" | "decl" | "other"
    name: str
    start: int  # offset of the first token
    body: int  # offset of the body's "{" (-1 when the statement has no trailing block)
    end: int  # offset just past the last token


_TYPE_WORDS = frozenset({"interface", "type", "enum", "declare", "namespace", "module"})


def outline(text: str, toks: list[Tok]) -> list[Item]:
    """The statements of `toks`, each starting on a line of its own at bracket depth 0.

    Top-level code is written flush left and continuation lines are indented, which tells where a
    statement ends even without semicolons; a `;` at depth 0 ends one too. Called on a class
    body's tokens as well, where members line up at the first member's indentation.
    """
    items: list[Item] = []
    cur: list[Tok] = []
    body_open = -1
    depth = 0
    stack: list[int] = []
    prev: Tok | None = None
    for t in toks:
        if t.kind == "cm":
            continue
        if depth == 0 and cur and prev is not None:
            new_stmt = prev.text == ";"
            if not new_stmt and "\n" in text[prev.end : t.start]:
                new_stmt = _column(text, t.start) <= _column(text, cur[0].start)
            if new_stmt:
                items.append(_make_item(cur, body_open))
                cur, body_open = [], -1
        cur.append(t)
        if t.kind == "tpl":
            closes, opens = t.text[0] == "}", t.text.endswith("${")
        else:
            closes = t.kind == "p" and t.text in ("}", ")", "]")
            opens = t.kind == "p" and t.text in ("{", "(", "[")
        if closes:
            depth -= 1
            opened = stack.pop() if stack else -1
            if depth == 0 and t.text == "}":
                body_open = opened
        if opens:
            stack.append(t.start if depth == 0 and t.text == "{" else -1)
            depth += 1
        prev = t
    if cur:
        items.append(_make_item(cur, body_open))
    return items


def _column(text: str, offset: int) -> int:
    return offset - (text.rfind("\n", 0, offset) + 1)


_MEMBER_WORDS = frozenset(
    {"get", "set", "static", "public", "private", "protected", "readonly", "override", *_MODIFIERS}
)


def _make_item(toks: list[Tok], body_open: int) -> Item:
    words = [t.text for t in toks[:8] if t.kind == "id"]
    ends_in_block = toks[-1].text == "}" and body_open >= 0
    first = words[0] if words else ""
    name = ""
    for k, w in enumerate(words[:-1]):
        if w in _DECL:
            name = words[k + 1]
            break
    if not name:
        plain = [w for w in words if w not in _MEMBER_WORDS]
        name = plain[0] if plain else ""
    if first == "import" or (first == "export" and any(t.text == "from" for t in toks[:64])):
        kind = "import"
    elif any(w in _TYPE_WORDS for w in words[:3]):
        kind = "type"
    elif ends_in_block:
        kind = "decl"
    else:
        kind = "other"
    return Item(kind, name, toks[0].start, body_open if ends_in_block else -1, toks[-1].end)
