"""strip_documentation removes comments and docstrings and leaves every other token as it was."""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import gearshift
import pytest
from gearshift.context import jsscan, views
from gearshift.context.scan import Record, scan_file

STRIP = Path(__file__).resolve().parents[1] / "fixtures" / "context" / "strip"
SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
        tokenize.ENCODING, tokenize.ENDMARKER}


def record_of(path: Path) -> Record:
    return Record._make(scan_file(str(path), path.name, details=True))


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def is_string_statement(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def without_documentation(source: str) -> str:
    """The AST of `source` with every bare-string statement gone (a body of nothing but strings → `...`)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            body = getattr(node, field, None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                body[:] = [s for s in body if not is_string_statement(s)] or [ast.Expr(ast.Constant(...))]
    return ast.dump(tree)


def code_tokens(source: str, drop_strings: bool) -> list[tuple[int, str]]:
    """Token stream without comments and layout; with `drop_strings`, bare-string statements go too."""
    removed: dict[tuple[int, int], str] = {}
    if drop_strings:
        for node in ast.walk(ast.parse(source)):
            for field in ("body", "orelse", "finalbody"):
                body = getattr(node, field, None)
                if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                    strings = [s for s in body if is_string_statement(s)]
                    for i, s in enumerate(strings):
                        sole = i == 0 and len(strings) == len(body)
                        removed[(s.lineno, s.col_offset)] = "..." if sole else ""
    out: list[tuple[int, str]] = []
    toks = list(tokenize.generate_tokens(io.StringIO(source).readline))
    drop_semicolon = False
    for tok in toks:
        if tok.type in SKIP:
            continue
        col = len(tok.line[: tok.start[1]].encode("utf-8")) if tok.line else tok.start[1]
        key = (tok.start[0], col)
        if tok.type == tokenize.STRING and key in removed:
            if removed[key]:
                out.append((tokenize.OP, "..."))
            elif out and out[-1] == (tokenize.OP, ";"):
                out.pop()
            else:
                drop_semicolon = True
            continue
        if drop_semicolon and tok.string == ";":
            drop_semicolon = False
            continue
        drop_semicolon = False
        out.append((tok.type, tok.string))
    return out


def assert_python_strip_exact(path: Path) -> str:
    source = read(path)
    stripped = views.strip_python(source, record_of(path))
    assert without_documentation(stripped) == without_documentation(source), path
    assert ast.dump(ast.parse(stripped)) == without_documentation(source), path
    assert code_tokens(stripped, drop_strings=False) == code_tokens(source, drop_strings=True), path
    comments = [t for t in tokenize.generate_tokens(io.StringIO(stripped).readline) if t.type == tokenize.COMMENT]
    assert comments == [], path
    return stripped


def test_python_sample_keeps_code_identical() -> None:
    stripped = assert_python_strip_exact(STRIP / "sample.py")
    source = read(STRIP / "sample.py")
    assert "Module docstring" not in stripped and "Render it." not in stripped
    assert "a comment" not in stripped and "noqa" not in stripped
    assert 'COLOR = "#ff0000"\n' in stripped  # a hash inside a string is code
    assert "Screen #main {" in stripped  # so is one inside a triple-quoted string
    assert 'label = f"{text}#{len(values)}"\n' in stripped
    assert "class Empty(Exception):\n    ...\n" in stripped  # a docstring-only body
    assert "class Short(Exception): ...\n" in stripped
    assert "def one_liner(): return 1\n" in stripped  # `"doc"; return 1` loses the string and `;`
    assert 'def ünïcode(value: str = "é") -> str: return value\n' in stripped
    assert len(stripped) < len(source) * 0.75
    # untouched lines are byte-identical
    for line in ("        values = [\n", "            2,\n", "        return label.replace(\"#\", \"\")\n"):
        assert line in source and line in stripped


def test_crlf_line_endings_survive() -> None:
    stripped = assert_python_strip_exact(STRIP / "crlf.py")
    assert stripped == "def crlf():\r\n    return 1\r\n"


def test_every_gearshift_module_strips_to_the_same_ast() -> None:
    package = Path(gearshift.__file__).parent
    checked = 0
    for path in sorted(package.rglob("*.py")):
        source = read(path)
        stripped = views.strip_python(source, record_of(path))
        assert ast.dump(ast.parse(stripped)) == without_documentation(source), path
        checked += 1
    assert checked > 20


def test_context_package_strips_to_the_same_tokens() -> None:
    for path in sorted((Path(gearshift.__file__).parent / "context").glob("*.py")):
        assert_python_strip_exact(path)


def test_stale_record_positions_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text('def f():\n    """Doc."""\n    return 1\n')
    record = record_of(path)
    shorter = "x = 1\n"
    assert views.strip_python(shorter, record) == shorter  # positions past the end are skipped


def js_code(text: str) -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in jsscan.tokenize(text) if t.kind != "cm" or t.text.startswith("///")]


def test_typescript_comments_go_and_tokens_stay() -> None:
    source = read(STRIP / "sample.ts")
    stripped = views.strip_js(source)
    assert js_code(stripped) == js_code(source)
    assert [t.text for t in jsscan.tokenize(stripped) if t.kind == "cm"] == ['/// <reference path="./globals.d.ts" />']
    assert 'const url = "http://example.com";\n' in stripped
    assert "const re = /\\/\\/not-a-comment/g;\n" in stripped
    assert "const tpl = `// inside a template ${a }`;" in stripped
    assert "const x = a +1;" in stripped  # an inline comment still separates tokens
    assert "JSDoc" not in stripped and "member comment" not in stripped


@pytest.mark.parametrize("name", ["view.tsx", "view.jsx"])
def test_jsx_is_never_rewritten(name: str) -> None:
    assert not views.can_strip(name)
    assert views.can_strip("view.ts")


def test_python_signatures_keep_what_matters() -> None:
    path = STRIP / "sample.py"
    view = views.PythonView(read(path), record_of(path), strip=True)
    sigs = view.signatures({"Widget.render"})
    assert "import re" not in sigs
    assert "values = [" in sigs  # Widget.render kept whole
    assert "    async def later(self) -> None:\n        ...\n" in sigs  # the rest elided
    outline = view.signatures(set(), members=False)
    assert "class Widget:\n    ...\n" in outline and "def render" not in outline
    full_doc = views.PythonView(read(path), record_of(path), strip=False).signatures(set())
    assert '"""Render it."""' in full_doc  # docstrings stay in signatures when not stripping


def test_typescript_signatures() -> None:
    view = views.JsView(read(STRIP / "sample.ts"), strip=True)
    sigs = view.signatures({"f"})
    assert "import" not in sigs
    assert "export interface Shape {\n  w: number;\n}" in sigs  # types whole, comment stripped
    assert "  area(): number { ... }" in sigs
    assert "return n / 2 / 1;" in sigs  # f kept whole
    assert "export class Box { ... }" in view.signatures(set(), members=False)


def test_a_file_in_another_encoding_keeps_its_imports_and_loses_only_comments(tmp_path: Path) -> None:
    path = tmp_path / "latin.py"
    path.write_bytes('# -*- coding: latin-1 -*-\nimport os\n\n\ndef f():\n    """Café."""\n    return "é"  # note\n'.encode("latin-1"))
    record = record_of(path)
    assert record.imports == (("os", 0, (), 0),)
    assert record.docstrings == () and record.outline == ()  # columns would not match the UTF-8 text
    text = path.read_bytes().decode("utf-8", errors="replace")
    stripped = views.strip_python(text, record)
    assert "# note" not in stripped and "coding" not in stripped
    assert 'return "\ufffd"\n' in stripped
