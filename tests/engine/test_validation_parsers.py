"""Each parser on output captured from the real tool run on a small broken project.

The fixtures were made by running the tools in a temp folder whose path was then replaced by
`/project`, so ROOT plays the part of the workdir the runner passes in.
"""

from __future__ import annotations

from pathlib import Path

from gearshift.validation.parsers import (
    PARSERS,
    parse_eslint,
    parse_lines,
    parse_mypy,
    parse_pytest,
    parse_pytest_junit,
    parse_pytest_output,
    parse_python_compile,
    parse_ruff,
    parse_tsc,
    parse_vitest,
    relpath,
    scrub,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "validation"
ROOT = "/project"


def read(name: str) -> str:
    return (FIXTURES / name).read_text()


def locs(findings):
    return [(f.file, f.line, f.col, f.code, f.message) for f in findings]


def test_python_compile_jsonl():
    found = parse_python_compile(read("python_compile.jsonl"), ROOT)
    assert locs(found) == [
        ("src/shop/broken.py", 5, 11, "SyntaxError", "expected ':'"),
        (
            "src/shop/dedent.py",
            3,
            8,
            "IndentationError",
            "unindent does not match any outer indentation level",
        ),
        ("src/shop/tabs.py", 3, 1, "TabError", "inconsistent use of tabs and spaces in indentation"),
        ("src/shop/unclosed.py", 2, 6, "SyntaxError", "'(' was never closed"),
    ]
    assert {f.check for f in found} == {"python_compile"}
    assert {f.kind for f in found} == {"syntax"}
    # Python's own traceback shape, with the caret under the offending column.
    assert found[0].raw == (
        "  File \"src/shop/broken.py\", line 5\n    def bad(x)\n              ^\nSyntaxError: expected ':'"
    )


def test_ruff_json():
    found = parse_ruff(read("ruff.json"), ROOT)
    assert locs(found) == [
        ("src/shop/broken.py", 5, 11, "invalid-syntax", "Expected `:`, found newline"),
        ("src/shop/cart.py", 1, 8, "F401", "`os` imported but unused"),
        ("src/shop/cart.py", 18, 25, "F821", "Undefined name `undefined_name`"),
        ("src/shop/tabs.py", 3, 1, "invalid-syntax", "unindent does not match any outer indentation level"),
        ("src/shop/tabs.py", 4, 1, "invalid-syntax", "Expected dedent, found end of file"),
    ]
    assert found[1].raw == (
        "src/shop/cart.py:1:8: F401 `os` imported but unused\n  help: Remove unused import: `os`"
    )
    assert "/project" not in "".join(f.raw for f in found)


def test_ruff_empty_list_and_junk():
    assert parse_ruff("[]", ROOT) == []
    assert parse_ruff("error: Failed to parse pyproject.toml", ROOT) == []


def test_mypy_blocking_syntax_error_keeps_python_column():
    found = parse_mypy(read("mypy.jsonl"), ROOT)
    assert locs(found) == [("src/shop/broken.py", 5, 11, "syntax", "Expected `:`, found newline")]


def test_mypy_errors_hints_and_notes():
    found = parse_mypy(read("mypy_notes.jsonl"), ROOT)
    assert locs(found) == [
        (
            "pkg/stats.py",
            6,
            16,
            "arg-type",
            'Argument 1 to "mean" has incompatible type "list[int]"; expected "list[float]"',
        ),
        (
            "pkg/stats.py",
            10,
            16,
            "arg-type",
            'Argument 1 to "len" has incompatible type "str | None"; expected "Sized"',
        ),
        (
            "pkg/cart.py",
            17,
            18,
            "assignment",
            'Incompatible types in assignment (expression has type "str", variable has type "int")',
        ),
        ("pkg/cart.py", 18, 25, "name-defined", 'Name "undefined_name" is not defined'),
    ]
    # The standalone "Revealed type" note is not a finding; the hint is part of its error.
    assert found[0].raw.splitlines() == [
        'pkg/stats.py:6: error: Argument 1 to "mean" has incompatible type "list[int]"; '
        'expected "list[float]"  [arg-type]',
        'pkg/stats.py:6: note: "list" is invariant -- see '
        "https://mypy.readthedocs.io/en/stable/common_issues.html#variance",
        'pkg/stats.py:6: note: Consider using "Sequence" instead, which is covariant',
    ]


def test_mypy_separate_note_lines_fold_into_their_error():
    text = (
        '{"file": "a.py", "line": 3, "column": 4, "message": "Bad", "hint": null, '
        '"code": "misc", "severity": "error"}\n'
        '{"file": "a.py", "line": 3, "column": 4, "message": "Because", "hint": null, '
        '"code": "misc", "severity": "note"}\n'
        "Found 1 error in 1 file\n"
    )
    (finding,) = parse_mypy(text, ROOT)
    assert finding.raw == "a.py:3: error: Bad  [misc]\na.py:3: note: Because"


def test_pytest_junit_failures_and_setup_error():
    found = parse_pytest_junit(read("pytest_junit.xml"), ROOT)
    assert locs(found) == [
        ("tests/test_cart.py", 8, None, "tests/test_cart.py::test_total", "AssertionError: assert 4 == 10"),
        (
            "tests/test_cart.py",
            17,
            None,
            "tests/test_cart.py::test_uses_fixture",
            'failed on setup with "RuntimeError: database unavailable"',
        ),
        # located where the KeyError was raised (in the helper), not at the test's line 29
        ("tests/test_cart.py", 25, None, "tests/test_cart.py::test_keyerror", "KeyError: 'missing'"),
    ]
    assert {f.kind for f in found} == {"logic"}
    raw = found[0].raw.splitlines()
    assert raw[0] == "FAILED tests/test_cart.py::test_total"
    assert "E       AssertionError: assert 4 == 10" in raw
    assert raw[-1] == "tests/test_cart.py:8: AssertionError"
    assert found[1].raw.startswith("ERROR tests/test_cart.py::test_uses_fixture\n")


def test_pytest_junit_collection_error_names_the_module_and_the_exception():
    for fixture in ("pytest_junit_collect.xml", "pytest_junit_xunit2_collect.xml"):
        (f,) = parse_pytest_junit(read(fixture), ROOT)
        assert (f.file, f.line, f.code) == ("tests/test_import.py", 1, "tests/test_import.py")
        assert f.message == "ModuleNotFoundError: No module named 'shop.nothing_here'"
        # the interpreter's own frame outside the project is not taken as the location
        assert "/project" not in f.raw


def test_pytest_xunit2_without_file_attrs_derives_ids(tmp_path: Path):
    xml = read("pytest_junit.xml").replace(' file="tests/test_cart.py"', "")
    found = parse_pytest_junit(xml, ROOT)
    assert [f.code for f in found] == [
        "tests/test_cart.py::test_total",
        "tests/test_cart.py::test_uses_fixture",
        "tests/test_cart.py::test_keyerror",
    ]
    classy = (
        '<testsuites><testsuite><testcase classname="tests.test_shop.TestCart" name="test_add">'
        '<failure message="assert False">tests/test_shop.py:9: AssertionError</failure>'
        "</testcase></testsuite></testsuites>"
    )
    (f,) = parse_pytest_junit(classy, tmp_path)
    assert f.code == "tests/test_shop.py::TestCart::test_add"
    assert (f.file, f.line) == ("tests/test_shop.py", 9)


def test_pytest_terminal_summary_for_custom_commands():
    found = parse_pytest_output(read("pytest_output.txt"), ROOT)
    assert locs(found) == [
        (
            "tests/test_cart.py",
            None,
            None,
            "tests/test_cart.py::test_total",
            "AssertionError: assert 4 == 10",
        ),
        ("tests/test_cart.py", None, None, "tests/test_cart.py::test_keyerror", "KeyError: 'missing'"),
        (
            "tests/test_cart.py",
            None,
            None,
            "tests/test_cart.py::test_uses_fixture",
            "RuntimeError: database unavailable",
        ),
    ]
    # the dispatcher picks the right reader for each shape
    assert len(parse_pytest(read("pytest_output.txt"), ROOT)) == 3
    assert len(parse_pytest(read("pytest_junit.xml"), ROOT)) == 3


def test_pytest_junit_junk_is_no_findings():
    assert parse_pytest_junit("<testsuites><testsuite", ROOT) == []


def test_tsc_with_chained_diagnostic():
    found = parse_tsc(read("tsc.txt"), ROOT)
    assert locs(found) == [
        ("src/cart.ts", 12, 9, "TS2322", "Type 'string' is not assignable to type 'number'."),
        ("src/cart.ts", 13, 29, "TS2339", "Property 'nmae' does not exist on type 'Item'."),
        ("src/orders.ts", 10, 24, "TS2322", "Type 'string' is not assignable to type 'number'."),
        (
            "src/orders.ts",
            14,
            14,
            "TS2322",
            "Type '(o: { id: string; }) => number' is not assignable to type 'Handler'.",
        ),
    ]
    chained = found[3].raw.splitlines()
    assert len(chained) == 5
    assert chained[-1] == "        Type 'number' is not assignable to type 'string'."
    assert found[0].raw.count("\n") == 0


def test_tsc_syntax_and_config_errors():
    assert locs(parse_tsc(read("tsc_syntax.txt"), ROOT)) == [
        ("src/orders.ts", 14, 13, "TS1109", "Expression expected.")
    ]
    (f,) = parse_tsc(read("tsc_global.txt"), ROOT)
    assert (f.file, f.line, f.code) == (None, None, "TS18003")
    assert f.message.startswith("No inputs were found in config file 'tsconfig.json'.")


def test_eslint_errors_and_fatal_parse_error_but_not_warnings():
    found = parse_eslint(read("eslint.json"), ROOT)
    assert locs(found) == [
        ("src/broken.ts", 3, 12, "fatal", "Parsing error: Expression expected."),
        (
            "src/cart.ts",
            16,
            37,
            "@typescript-eslint/no-explicit-any",
            "Unexpected any. Specify a different type.",
        ),
        ("src/cart.ts", 17, 7, "prefer-const", "'unused' is never reassigned. Use 'const' instead."),
        (
            "src/cart.ts",
            17,
            7,
            "@typescript-eslint/no-unused-vars",
            "'unused' is assigned a value but never used.",
        ),
        ("src/orders.ts", 14, 34, "@typescript-eslint/no-unused-vars", "'o' is defined but never used."),
    ]
    assert "src/log.ts" not in {f.file for f in found}  # a no-console warning only
    assert found[1].raw == (
        "src/cart.ts:16:37: Unexpected any. Specify a different type. "
        "[Error/@typescript-eslint/no-explicit-any]"
    )


def test_vitest_failed_tests_and_failed_suite():
    found = parse_vitest(read("vitest.json"), ROOT)
    assert locs(found) == [
        (
            "src/broken.test.ts",
            None,
            None,
            "src/broken.test.ts",
            "Cannot find module './missing' imported from src/broken.test.ts",
        ),
        (
            "src/cart.test.ts",
            6,
            87,
            "src/cart.test.ts > total > multiplies by quantity",
            "AssertionError: expected 4 to be 10 // Object.is equality",
        ),
        (
            "src/cart.test.ts",
            16,
            23,
            "src/cart.test.ts > throws on bad input",
            "TypeError: Cannot read properties of undefined (reading 'toFixed')",
        ),
    ]
    raw = found[1].raw
    assert raw.startswith("FAIL  src/cart.test.ts > total > multiplies by quantity\n")
    assert "node_modules" not in raw  # the runner's own frames are dropped
    assert "at src/cart.test.ts:6:87" in raw


def test_lines_parser_locates_conventional_prefixes():
    text = "\x1b[31msrc/app.c:12:5: error: expected ';'\x1b[0m\n\nsomething else went wrong\n"
    found = parse_lines(text, ROOT)
    assert locs(found) == [
        ("src/app.c", 12, 5, "", "error: expected ';'"),
        (None, None, None, "", "something else went wrong"),
    ]


def test_paths_are_made_relative_and_scrubbed():
    assert relpath("/project/src/a.py", ROOT) == "src/a.py"
    assert relpath("file:///project/src/a.ts", ROOT) == "src/a.ts"
    assert relpath("./src/../src/a.py", ROOT) == "src/a.py"
    assert relpath("/elsewhere/a.py", ROOT) == "/elsewhere/a.py"
    assert scrub("at /project/src/a.ts:1:2", ROOT) == "at src/a.ts:1:2"


def test_registry_covers_every_parser_a_config_may_name():
    from gearshift.config import BUILTIN_PARSERS

    assert set(PARSERS) == {*BUILTIN_PARSERS, "lines"}


def test_a_huge_output_line_becomes_a_bounded_finding():
    from gearshift.validation.parsers import FIELD_MAX, RAW_MAX

    huge = "x" * 1_000_000
    plain, located = parse_lines(f"{huge}\nsrc/a.py:3:5: {huge}\n", ROOT)
    for f in (plain, located):
        assert len(f.message) <= FIELD_MAX and len(f.raw) <= FIELD_MAX
        assert f.message.startswith("x" * 1000) and f.message.endswith(" characters in all]")
        assert "… [cut: " in f.raw
    assert (located.file, located.line, located.col) == ("src/a.py", 3, 5)
    assert plain.message.endswith("… [cut: 1,000,000 characters in all]")
    # the same cap for every parser: a test failing on a huge value, a long tsc message
    xml = (
        '<testsuite><testcase classname="tests.test_a" name="test_big" file="tests/test_a.py">'
        f'<failure message="assert {huge}">E   assert {huge}\n' + "tests/test_a.py:3: AssertionError\n" * 400
        + "</failure></testcase></testsuite>"
    )
    (junit,) = parse_pytest_junit(xml, ROOT)
    assert len(junit.message) <= FIELD_MAX and len(junit.raw) <= RAW_MAX
    assert junit.raw.endswith("tests/test_a.py:3: AssertionError")  # the tail, where it broke, kept
    (tsc,) = parse_tsc(f"src/a.ts(1,2): error TS2322: {huge}\n" + f"  {huge}\n" * 20, ROOT)
    assert len(tsc.message) <= FIELD_MAX and len(tsc.raw) <= RAW_MAX
    assert all(len(line) <= FIELD_MAX for line in tsc.raw.splitlines())
    short = parse_lines("src/a.py:1: short\n", ROOT)[0]
    assert (short.message, short.raw) == ("short", "src/a.py:1: short")  # small findings untouched
