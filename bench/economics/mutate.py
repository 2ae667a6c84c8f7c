"""Break a real function the way SWE-smith-style corpora do, and make plausible wrong fixes.

Everything works on source text located through `ast`, so the reference patch is the project's
own code byte for byte, and every variant differs from it in one small, describable place:

- `delete`:  the body is removed (signature and docstring kept, the body raises) — the task.
- `off_by_one`: the first integer constant or ordering comparison in the body is nudged.
- `dropped_branch`: the body of the first `if` in the function is replaced by `pass`.
- `syntax_slip`: the colon closing the first compound statement of the body is dropped.

The wrong ones are what the simulated model writes when its draw says "wrong"; the corpus keeps
only those its project's own tests really reject (checked when the corpus is built).
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass

REMOVED = 'raise NotImplementedError("body removed: restore it")'
WRONG_KINDS = ("off_by_one", "dropped_branch", "syntax_slip")


@dataclass(frozen=True)
class Located:
    """A function's text in its file: lines [start, end) (0-based), without decorators."""

    start: int
    end: int
    text: str


def _walk_qualname(tree: ast.Module, qualname: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    parts = qualname.split(".")
    body: list[ast.stmt] = tree.body
    node: ast.AST | None = None
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        wanted = (ast.FunctionDef, ast.AsyncFunctionDef) if last else (ast.ClassDef,)
        node = next((n for n in body if isinstance(n, wanted) and n.name == part), None)
        if node is None:
            raise LookupError(f"{qualname}: no {part!r} found")
        body = node.body  # type: ignore[attr-defined]
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    return node


def locate(source: str, qualname: str) -> Located:
    tree = ast.parse(source)
    node = _walk_qualname(tree, qualname)
    lines = source.splitlines(keepends=True)
    start, end = node.lineno - 1, node.end_lineno or node.lineno
    return Located(start, end, "".join(lines[start:end]))


def replace_function(source: str, qualname: str, new_text: str) -> str:
    loc = locate(source, qualname)
    lines = source.splitlines(keepends=True)
    return "".join(lines[: loc.start]) + new_text + "".join(lines[loc.end :])


def _parse_function(text: str) -> tuple[ast.FunctionDef | ast.AsyncFunctionDef, str, str]:
    """The dedented text's single function node, the dedented text and the indent removed."""
    dedented = textwrap.dedent(text)
    indent = text[: len(text) - len(text.lstrip(" \t"))] if text.strip() else ""
    tree = ast.parse(dedented)
    node = tree.body[0]
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        raise ValueError("not a function")
    return node, dedented, indent


def _reindent(text: str, indent: str) -> str:
    return textwrap.indent(text, indent, lambda line: bool(line.strip())) if indent else text


def _has_docstring(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    first = node.body[0]
    return isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)


def delete_body(text: str) -> str:
    """Signature and docstring kept; the rest replaced by one `raise`."""
    node, dedented, indent = _parse_function(text)
    lines = dedented.splitlines(keepends=True)
    keep_to = node.body[0].end_lineno if _has_docstring(node) else node.body[0].lineno - 1
    assert keep_to is not None
    body_stmt = node.body[1] if _has_docstring(node) and len(node.body) > 1 else node.body[0]
    body_indent = " " * body_stmt.col_offset
    kept = "".join(lines[:keep_to])
    return _reindent(kept + f"{body_indent}{REMOVED}\n", indent)


def body_statements(text: str) -> int:
    node, _, _ = _parse_function(text)
    return sum(1 for n in ast.walk(node) if isinstance(n, ast.stmt)) - 1


def _edit(dedented: str, lineno: int, col: int, end_col: int, new: str) -> str:
    lines = dedented.splitlines(keepends=True)
    line = lines[lineno - 1]
    lines[lineno - 1] = line[:col] + new + line[end_col:]
    return "".join(lines)


def _body_nodes(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.AST]:
    start = 1 if _has_docstring(node) else 0
    out: list[ast.AST] = []
    for stmt in node.body[start:]:
        out.extend(ast.walk(stmt))
    return sorted(
        (n for n in out if hasattr(n, "lineno")), key=lambda n: (n.lineno, n.col_offset)  # type: ignore[attr-defined]
    )


_FLIP = {ast.Lt: "<=", ast.LtE: "<", ast.Gt: ">=", ast.GtE: ">"}


def off_by_one(text: str) -> str | None:
    node, dedented, indent = _parse_function(text)
    for n in _body_nodes(node):
        if (
            isinstance(n, ast.Constant)
            and type(n.value) is int
            and n.lineno == n.end_lineno
            and n.end_col_offset is not None
        ):
            return _reindent(_edit(dedented, n.lineno, n.col_offset, n.end_col_offset, str(n.value + 1)), indent)
        if isinstance(n, ast.Compare) and type(n.ops[0]) in _FLIP and n.lineno == n.end_lineno:
            line = dedented.splitlines()[n.lineno - 1]
            left_end = n.left.end_col_offset or 0
            right_col = n.comparators[0].col_offset
            segment = line[left_end:right_col]
            op = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}[type(n.ops[0])]
            if segment.strip() == op:
                new_segment = segment.replace(op, _FLIP[type(n.ops[0])], 1)
                return _reindent(_edit(dedented, n.lineno, left_end, right_col, new_segment), indent)
    return None


def dropped_branch(text: str) -> str | None:
    node, dedented, indent = _parse_function(text)
    for n in _body_nodes(node):
        if isinstance(n, ast.If) and n.body:
            first, last = n.body[0], n.body[-1]
            lines = dedented.splitlines(keepends=True)
            pad = " " * first.col_offset
            if first.lineno == n.lineno:  # `if x: return y` on one line
                return None
            new = lines[: first.lineno - 1] + [f"{pad}pass\n"] + lines[(last.end_lineno or last.lineno) :]
            return _reindent("".join(new), indent)
    return None


def syntax_slip(text: str) -> str | None:
    node, dedented, indent = _parse_function(text)
    for n in _body_nodes(node):
        if isinstance(n, ast.If | ast.For | ast.While | ast.With | ast.Try):
            line = dedented.splitlines(keepends=True)[n.lineno - 1]
            stripped = line.rstrip("\n").rstrip()
            if stripped.endswith(":"):
                lines = dedented.splitlines(keepends=True)
                lines[n.lineno - 1] = stripped[:-1] + "\n"
                return _reindent("".join(lines), indent)
    # no compound statement: break the first call's closing parenthesis
    for n in _body_nodes(node):
        if isinstance(n, ast.Call) and n.end_col_offset and n.lineno == n.end_lineno:
            return _reindent(_edit(dedented, n.end_lineno, n.end_col_offset - 1, n.end_col_offset, ""), indent)
    return None


def wrong_variants(text: str) -> dict[str, str]:
    """Every wrong kind this function admits, by name (at most one of each)."""
    out: dict[str, str] = {}
    for kind, make in (("off_by_one", off_by_one), ("dropped_branch", dropped_branch), ("syntax_slip", syntax_slip)):
        variant = make(text)
        if variant is not None and variant != text:
            out[kind] = variant
    return out


def compiles(text: str) -> bool:
    try:
        ast.parse(textwrap.dedent(text))
    except SyntaxError:
        return False
    return True
