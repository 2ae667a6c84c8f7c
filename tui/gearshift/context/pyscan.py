"""What the graph keeps of a Python file: its imports, top-level names, docstrings and outline.

A cold build needs only the imports and top-level names of every file, and gets them from a
parse of the file cut down by `pyfast` (a fraction of the text: parsing whole files costs more
than a cold build may take). Docstring positions and the outline are what selection needs to
strip documentation and cut a file to signatures; they come from a full parse, made only for
the files a selection views (`scan_python`; the graph keeps them once made). A file the cut
cannot be trusted on is parsed whole at once and gets everything.

Either parse walks statements (never expressions) and keeps only small tuples of builtins —
never the tree: keeping ASTs alive costs hundreds of MB and slows the pass (docs/performance.md).

Everything returned is marshal-able: it is the cache format. This module is also the second
process of a cold build (`python -S -m gearshift.context.pyscan`), which is why it imports
nothing but the standard library: every import is start-up time the worker does not parse in.
"""

from __future__ import annotations

import ast
import gc
import marshal
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gearshift.context.filerecord import (  # the record's vocabulary, shared with jsscan
    CLASS,
    FUNC,
    LAZY,
    MAX_PARSE_BYTES,
    TYPE,
    TYPE_ONLY,
    VAR,
    read_source,
)
from gearshift.context.filerecord import (
    REEXPORT as REEXPORT,  # re-exported: graph.py and tests read the flags from here
)
from gearshift.context.pyfast import reduced_source

_TYPE_BASES = frozenset(
    {"Protocol", "TypedDict", "NamedTuple", "Enum", "IntEnum", "StrEnum", "Flag", "IntFlag",
     "ABC", "Generic"}
)
_TYPE_CALLS = frozenset({"TypeVar", "NewType", "ParamSpec", "TypeVarTuple", "TypeAliasType"})
_TYPE_SUBSCRIPTS = frozenset(
    {"Union", "Optional", "Literal", "Callable", "Annotated", "Type", "type", "Tuple", "Dict",
     "List", "Mapping", "Sequence", "Iterable", "Iterator", "Awaitable", "Coroutine"}
)

_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
# Compound statements other than def/class/if, and the fields that hold their blocks.
_BLOCKS: dict[type, tuple[str, ...]] = {
    ast.For: ("body", "orelse"),
    ast.AsyncFor: ("body", "orelse"),
    ast.While: ("body", "orelse"),
    ast.With: ("body",),
    ast.AsyncWith: ("body",),
    ast.Try: ("body", "handlers", "orelse", "finalbody"),
    ast.Match: ("cases",),
}
if hasattr(ast, "TryStar"):
    _BLOCKS[ast.TryStar] = ("body", "handlers", "orelse", "finalbody")
_IMPORTS = (ast.Import, ast.ImportFrom)
_TYPE_ALIAS = getattr(ast, "TypeAlias", None)  # the `type X = ...` statement, Python ≥ 3.12


def scan_python(source: bytes) -> tuple[Any, ...]:
    """(imports, defs, docstrings, outline, error) of one file's source bytes.

    imports:    ((module, level, names, flags), ...); names are "orig" or "orig:alias",
                empty for `import a.b`.
    defs:       {top-level name: kind} (CLASS, TYPE, FUNC, VAR).
    docstrings: ((line, col, end_line, end_col, sole), ...) of every statement that is a bare
                string — docstrings, attribute docstrings, strings used as comments — with 1-based
                lines and UTF-8 byte columns as `ast` reports them; `sole` marks the one that must
                become `...` because the body holds nothing else.
    outline:    ((kind, name, start, body, body_col, end, members), ...) top-level statements:
                kind "d" def, "c" class, "i" import, "o" other; `start` counts decorators, `body`
                and `body_col` locate the first statement of a def's or class's body; a class's
                members have the same shape (with empty members).
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError) as exc:
        return (), {}, (), (), f"{type(exc).__name__}: {exc}"
    imports: list[tuple[str, int, tuple[str, ...], int]] = []
    docstrings: list[tuple[int, int, int, int, bool]] = []
    _walk(tree.body, 0, imports, docstrings)
    return tuple(imports), _defs(tree.body), tuple(docstrings), _outline(tree.body), ""


def scan_python_imports(source: bytes) -> tuple[Any, ...]:
    """Like `scan_python`, but docstrings and outline are None (not made) when the cut parse
    could be used; equal imports and defs either way (see `pyfast`)."""
    reduced = reduced_source(source)
    if reduced is not None:
        try:
            tree = ast.parse(reduced)
        except (SyntaxError, ValueError):
            pass
        else:
            imports: list[tuple[str, int, tuple[str, ...], int]] = []
            _walk(tree.body, 0, imports, [])
            return tuple(imports), _defs(tree.body), None, None, ""
    return scan_python(source)


def _walk(
    body: list[ast.stmt],
    flags: int,
    imports: list[tuple[str, int, tuple[str, ...], int]],
    docstrings: list[tuple[int, int, int, int, bool]],
) -> None:
    """Statements only, depth first: imports anywhere (lazy ones too), docstrings of every body."""
    only_strings = True
    for node in body:
        t = type(node)
        if t is ast.Expr and type(node.value) is ast.Constant and type(node.value.value) is str:  # type: ignore[attr-defined]
            v = node.value  # type: ignore[attr-defined]
            end_line, end_col = v.end_lineno or v.lineno, v.end_col_offset or 0
            docstrings.append((v.lineno, v.col_offset, end_line, end_col, False))
            continue
        only_strings = False
        if t is ast.ImportFrom:
            names = tuple(_alias(a) for a in node.names)  # type: ignore[attr-defined]
            imports.append((node.module or "", node.level, names, flags))  # type: ignore[attr-defined]
        elif t is ast.Import:
            for a in node.names:  # type: ignore[attr-defined]
                imports.append((a.name, 0, (), flags))
        elif t in _FUNCS or t is ast.ClassDef:
            # A class body runs at import time; a function body only when called.
            inner = flags | LAZY if t in _FUNCS else flags
            _walk(node.body, inner, imports, docstrings)  # type: ignore[attr-defined]
        elif t is ast.If:
            inner = flags | TYPE_ONLY if _is_type_checking(node.test) else flags  # type: ignore[attr-defined]
            _walk(node.body, inner, imports, docstrings)  # type: ignore[attr-defined]
            _walk(node.orelse, flags, imports, docstrings)  # type: ignore[attr-defined]
        else:
            blocks = _BLOCKS.get(t)
            if blocks is None:
                continue  # a simple statement: most of them
            for field in blocks:
                for sub in _bodies(getattr(node, field)):
                    _walk(sub, flags, imports, docstrings)
    if only_strings and body:
        # Nothing but strings: the first becomes `...` so the body stays a body.
        k = len(docstrings) - len(body)
        docstrings[k] = (*docstrings[k][:4], True)


def _bodies(value: Any) -> Iterator[list[ast.stmt]]:
    """A statement list, or the bodies of except handlers / match cases."""
    if value and isinstance(value[0], ast.stmt):
        yield value
    else:
        for item in value:
            yield item.body


def _alias(a: ast.alias) -> str:
    return a.name if not a.asname or a.asname == a.name else f"{a.name}:{a.asname}"


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _name_of(expr: ast.expr) -> str:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        return expr.attr
    if isinstance(expr, ast.Subscript):
        return _name_of(expr.value)
    if isinstance(expr, ast.Call):
        return _name_of(expr.func)
    return ""


def _class_kind(node: ast.ClassDef) -> str:
    """A class counts as a type definition when it is a protocol, record, enum or abstract base."""
    if any(_name_of(b) in _TYPE_BASES for b in node.bases):
        return TYPE
    if any(kw.arg == "metaclass" and _name_of(kw.value) == "ABCMeta" for kw in node.keywords):
        return TYPE
    if any(_name_of(d) == "dataclass" for d in node.decorator_list):
        return TYPE
    return CLASS


def _value_kind(value: ast.expr | None, annotation: ast.expr | None = None) -> str:
    if annotation is not None and _name_of(annotation) == "TypeAlias":
        return TYPE
    if isinstance(value, ast.Call) and _name_of(value.func) in _TYPE_CALLS:
        return TYPE
    if isinstance(value, ast.Subscript) and _name_of(value.value) in _TYPE_SUBSCRIPTS:
        return TYPE
    if isinstance(value, ast.BinOp) and annotation is None and _is_union(value):
        return TYPE  # `X = A | B | None` at module level is a union alias
    return VAR


def _is_union(expr: ast.expr) -> bool:
    if isinstance(expr, ast.BinOp):
        return isinstance(expr.op, ast.BitOr) and _is_union(expr.left) and _is_union(expr.right)
    if isinstance(expr, ast.Constant):
        return expr.value is None or isinstance(expr.value, str)
    return isinstance(expr, ast.Name | ast.Attribute | ast.Subscript)


def _defs(body: list[ast.stmt]) -> dict[str, str]:
    """Top-level names this module defines (looking into module-level if/try blocks too)."""
    out: dict[str, str] = {}
    for node in body:
        if isinstance(node, ast.ClassDef):
            out[node.name] = _class_kind(node)
        elif isinstance(node, _FUNCS):
            out[node.name] = FUNC
        elif isinstance(node, ast.Assign):
            kind = _value_kind(node.value)
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = kind
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out[node.target.id] = _value_kind(node.value, node.annotation)
        elif _TYPE_ALIAS is not None and isinstance(node, _TYPE_ALIAS):
            out[node.name.id] = TYPE  # type: ignore[attr-defined]
        elif isinstance(node, ast.If | ast.Try):
            for sub in (node.body, node.orelse, getattr(node, "finalbody", [])):
                out.update(_defs(sub))
            for handler in getattr(node, "handlers", ()):
                out.update(_defs(handler.body))
    return out


def _span(node: ast.stmt) -> tuple[int, int]:
    decorators = getattr(node, "decorator_list", None)
    start = min([node.lineno, *(d.lineno for d in decorators)]) if decorators else node.lineno
    return start, node.end_lineno or node.lineno


def _item(node: ast.stmt, members: bool) -> tuple[Any, ...]:
    start, end = _span(node)
    if isinstance(node, _FUNCS):
        first = node.body[0]
        return "d", node.name, start, first.lineno, first.col_offset, end, ()
    if isinstance(node, ast.ClassDef):
        first = node.body[0]
        inner = tuple(_item(m, False) for m in node.body) if members else ()
        return "c", node.name, start, first.lineno, first.col_offset, end, inner
    if isinstance(node, _IMPORTS):
        return "i", "", start, start, 0, end, ()
    name = ""
    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
        name = node.targets[0].id
    elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        name = node.target.id
    return "o", name, start, start, 0, end, ()


def _outline(body: list[ast.stmt]) -> tuple[Any, ...]:
    return tuple(_item(node, True) for node in body)


def scan_python_file(path: str, details: bool = False) -> tuple[Any, ...]:
    """The graph record of a Python file: (mtime_ns, size, chars, *scan_python).

    Without `details`, docstrings and outline may be None: not made yet (see the module doc).
    """
    got = read_source(path)
    if isinstance(got, str):
        return (0, 0, 0, (), {}, (), (), got)
    data, head, utf8 = got
    if len(data) > MAX_PARSE_BYTES:
        return (*head, (), {}, (), (), "not parsed: too large")
    scan = scan_python if details else scan_python_imports
    imports, defs, docstrings, outline, error = scan(data)
    if not utf8 and outline is not None:
        # `ast` decoded another encoding; its columns do not match the UTF-8 text views use.
        docstrings, outline = (), ()
    return (*head, imports, defs, docstrings, outline, error)


@contextmanager
def no_gc() -> Iterator[None]:
    """Parsing allocates millions of short-lived nodes; generational collections only slow it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _worker() -> None:
    """Second-process entry: marshalled (root, [rel]) on stdin, marshalled {rel: record} out."""
    root, rels = marshal.loads(sys.stdin.buffer.read())
    out: dict[str, tuple[Any, ...]] = {}
    with no_gc():
        for rel in rels:
            if rel.endswith((".py", ".pyi")):
                out[rel] = scan_python_file(os.path.join(root, rel))
            else:  # only a TS/JS project pays for importing the lexer
                from gearshift.context.jsscan import scan_js_file

                out[rel] = scan_js_file(os.path.join(root, rel))
    sys.stdout.buffer.write(marshal.dumps(out))
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    _worker()
