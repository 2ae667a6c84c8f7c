"""The gate's judgements: outcome table, setup problems, pre-existing marking, new findings,
failure signatures and the rendering the model is shown."""

from __future__ import annotations

import pytest
from gearshift.validation.findings import CheckResult, Finding, ValidationResult, normalise_message
from gearshift.validation.gate import (
    failure_signature,
    judge,
    mark_preexisting,
    new_findings,
    render_findings,
    setup_problem,
)


def finding(
    check="ruff",
    kind="syntax",
    file="src/a.py",
    line=1,
    code="F401",
    message="`os` imported but unused",
    raw="",
) -> Finding:
    return Finding(check, kind, file, line, 1, code, message, raw or f"{file}:{line}: {message}")


def check(name, kind, passed, findings=(), error="") -> CheckResult:
    return CheckResult(
        name, kind, passed, list(findings), None if error else int(not passed), 1.0, error=error
    )


S_OK, S_BAD = check("ruff", "syntax", True), check("ruff", "syntax", False, [finding()])
L_OK = check("pytest", "logic", True)
L_BAD = check(
    "pytest",
    "logic",
    False,
    [finding("pytest", "logic", "tests/t.py", 3, "tests/t.py::test_x", "assert 1 == 2")],
)
SETUP = check("vitest_run", "logic", False, error="node_modules is missing in /p: run `npm ci`")


@pytest.mark.parametrize(
    ("checks", "outcome"),
    [
        ([], "pass"),
        ([S_OK, L_OK], "pass"),
        ([S_BAD, L_OK], "fail-syntax"),
        ([S_BAD, L_BAD], "fail-syntax"),  # tests of code that does not lint say little
        ([L_BAD, S_BAD], "fail-syntax"),
        ([S_OK, L_BAD], "fail-logic"),
        ([S_OK, L_OK, SETUP], "pass"),  # not the model's failure; see setup_problem
        ([S_OK, L_BAD, SETUP], "fail-logic"),
    ],
)
def test_judge_table(checks, outcome):
    assert judge(checks) == outcome


def test_setup_problem_is_reported_apart_and_once():
    assert setup_problem([S_OK, L_BAD]) is None
    twice = check("typescript_compile", "syntax", False, error=SETUP.error)
    other = check("ruff", "syntax", False, error="ruff is not installed for py")
    assert setup_problem([SETUP, twice, other]) == f"{SETUP.error}\nruff is not installed for py"


def test_key_survives_line_shifts_and_changed_numbers():
    a = finding(line=3, message="assert 4 == 10 at 0x7f00aa")
    b = finding(line=30, message="assert  5 == 10 at 0x7f11bb\nmore detail")
    assert a.key() == b.key()
    assert a.key() != finding(file="src/b.py").key()
    assert a.key() != finding(code="F811").key()
    assert normalise_message("line 12: x") == "line #: x"


def test_mark_preexisting_flags_only_what_the_baseline_had_and_keeps_outcome():
    old = finding(line=5)
    baseline = ValidationResult("b", "fail-syntax", [check("ruff", "syntax", False, [old])])
    again = finding(line=9)  # the same unused import, moved down by the edit
    fresh = finding(code="F821", message="Undefined name `x`")
    current = ValidationResult("c", "fail-syntax", [check("ruff", "syntax", False, [again, fresh])])
    marked = mark_preexisting(current, baseline)
    assert [f.preexisting for f in marked.findings] == [True, False]
    assert marked.outcome == "fail-syntax"
    assert marked.findings[0].line == 9
    assert [f.preexisting for f in current.findings] == [False, False]  # input untouched


def test_mark_preexisting_counts_occurrences():
    baseline = ValidationResult("b", "fail-syntax", [check("ruff", "syntax", False, [finding()])])
    current = ValidationResult(
        "c", "fail-syntax", [check("ruff", "syntax", False, [finding(line=1), finding(line=2)])]
    )
    assert [f.preexisting for f in mark_preexisting(current, baseline).findings] == [True, False]


def test_new_findings_since_previous_attempt():
    a, b = finding(), finding(code="F821", message="Undefined name `y`")
    prev = ValidationResult("1", "fail-syntax", [check("ruff", "syntax", False, [a])])
    cur = ValidationResult("2", "fail-syntax", [check("ruff", "syntax", False, [a, b])])
    assert new_findings(cur, prev) == [b]
    assert new_findings(cur, None) == [a, b]
    assert new_findings(prev, cur) == []


def test_failure_signature():
    logic = ValidationResult("r", "fail-logic", [S_OK, L_BAD])
    assert failure_signature(logic) == "pytest: tests/t.py::test_x — assert 1 == 2"
    syntax = ValidationResult("r", "fail-syntax", [S_BAD, L_BAD])
    assert failure_signature(syntax) == "ruff: src/a.py:1 F401 — `os` imported but unused"
    assert failure_signature(ValidationResult("r", "pass", [S_OK])) == ""
    assert failure_signature(ValidationResult("r", "cancelled", [])) == "cancelled"


def test_failure_signature_names_new_failures_first_and_counts_the_rest():
    old = finding("pytest", "logic", "tests/t.py", 3, "tests/t.py::test_old", "boom")
    old = Finding(**{**old.__dict__, "preexisting": True})
    new = finding("pytest", "logic", "tests/t.py", 9, "tests/t.py::test_new", "assert 9 == 10")
    result = ValidationResult("r", "fail-logic", [check("pytest", "logic", False, [old, new])])
    assert failure_signature(result) == ("pytest: tests/t.py::test_new — assert 9 == 10 (+1 more)")
    # Stable across runs that fail the same way: another run id, the findings in another order.
    again = ValidationResult("r2", "fail-logic", [check("pytest", "logic", False, [new, old])])
    assert failure_signature(again) == failure_signature(result)


def test_render_groups_by_check_in_the_tools_words_and_labels_preexisting():
    old = Finding("ruff", "syntax", "src/a.py", 1, 8, "F401", "m", "src/a.py:1:8: F401 m", preexisting=True)
    new = Finding("mypy", "syntax", "src/b.py", 2, 1, "arg-type", "bad", "src/b.py:2: error: bad  [arg-type]")
    text = render_findings([old, new])
    assert text.index("## ruff") < text.index("## mypy")
    assert "## ruff (syntax): 1 finding, 1 pre-existing" in text
    assert "(pre-existing: this was already failing before the task)\nsrc/a.py:1:8: F401 m" in text
    assert "src/b.py:2: error: bad  [arg-type]" in text
    assert render_findings([]) == ""


def test_render_truncates_with_a_note_and_respects_the_limit():
    many = [finding(line=i, message=f"problem number {i} " + "x" * 80) for i in range(200)]
    text = render_findings(many, limit_chars=2000)
    shown = text.count("problem number")
    assert len(text) <= 2000
    assert text.endswith(f"(ruff: {200 - shown}; 200 in all)")
    assert f"… {200 - shown} more findings not shown" in text
    two = [finding(raw="x" * 300) for _ in range(3)] + [
        finding("pytest", "logic", raw="y" * 300) for _ in range(3)
    ]
    text = render_findings(two, limit_chars=1100)
    assert "## pytest" not in text  # no header left without a finding under it
    assert text.endswith("(pytest: 3; 6 in all)")
    huge = [finding(raw="y" * 10_000)]
    cut = render_findings(huge, limit_chars=500)
    assert len(cut) <= 500
    assert "y" * 100 in cut


def test_result_to_dict_is_json_friendly():
    import json

    result = ValidationResult("r", "fail-logic", [S_OK, L_BAD, SETUP])
    data = json.loads(json.dumps(result.to_dict()))
    assert data["outcome"] == "fail-logic"
    assert data["findings"][0] == {
        "check": "pytest",
        "kind": "logic",
        "file": "tests/t.py",
        "line": 3,
        "col": 1,
        "code": "tests/t.py::test_x",
        "message": "assert 1 == 2",
        "preexisting": False,
    }
    assert data["setup_errors"] == [SETUP.error]
    assert [c.name for c in result.setup_errors] == ["vitest_run"]


# -- Exact behaviour at the edges (each of these killed surviving mutants: bench/mutation/) ------


def bare(
    check="ruff", file="src/a.py", line=None, code="F401", message="m", raw="", kind="syntax"
) -> Finding:
    return Finding(check, kind, file, line, None, code, message, raw)


def test_a_baseline_excuses_as_many_occurrences_as_it_had():
    baseline = ValidationResult("b", "fail-syntax", [check("ruff", "syntax", False, [finding(), finding()])])
    current = ValidationResult(
        "c",
        "fail-syntax",
        [check("ruff", "syntax", False, [finding(line=4), finding(line=7), finding(line=9)])],
    )
    assert [f.preexisting for f in mark_preexisting(current, baseline).findings] == [True, True, False]


def one_failure(f: Finding, outcome="fail-syntax") -> ValidationResult:
    return ValidationResult("r", outcome, [check(f.check, f.kind, False, [f])])


def test_the_signature_cuts_a_long_message_at_140_characters_on_one_line():
    exact = "a" * 140
    assert failure_signature(one_failure(finding(message=exact))) == f"ruff: src/a.py:1 F401 — {exact}"
    long = "b" * 100 + "\n   " + "c" * 100  # whitespace runs become one space: 201 characters
    assert failure_signature(one_failure(finding(message=long))) == (
        "ruff: src/a.py:1 F401 — " + "b" * 100 + " " + "c" * 38 + "…"
    )


def test_the_signature_locates_a_finding_by_what_it_has():
    assert failure_signature(one_failure(bare(line=None))) == "ruff: src/a.py F401 — m"
    assert failure_signature(one_failure(bare(file=None, line=3))) == "ruff: F401 — m"
    assert failure_signature(one_failure(bare(file=None, code=""))) == "ruff: m"


def test_the_signature_of_a_failure_without_findings_is_empty_and_old_failures_are_still_named():
    assert failure_signature(ValidationResult("r", "fail-logic", [check("pytest", "logic", False)])) == ""
    old = Finding("pytest", "logic", "t.py", 3, 1, "t.py::test_old", "boom", "", preexisting=True)
    assert failure_signature(one_failure(old, "fail-logic")) == "pytest: t.py::test_old — boom"


def test_a_block_keeps_the_tools_indentation_and_is_built_from_the_fields_without_raw_text():
    raw = "\n    E   AssertionError: X   \n\n"
    text = render_findings([finding("pytest", "logic", raw=raw)])
    assert text == "## pytest (logic): 1 finding\n\n    E   AssertionError: X"
    assert render_findings([bare(raw="X: boom   \n")]).endswith("\n\nX: boom")
    assert render_findings([bare(line=3)]).endswith("\n\nsrc/a.py:3 F401 m")
    assert render_findings([bare(line=None)]).endswith("\n\nsrc/a.py F401 m")
    assert render_findings([bare(file=None, raw="  \n")]).endswith("\n\nF401 m")


def test_render_exact_text_of_a_group():
    two = [bare(line=1, raw="a.py:1 one"), bare(line=2, raw="a.py:2 two")]
    assert render_findings(two) == "## ruff (syntax): 2 findings\n\na.py:1 one\n\na.py:2 two"


HEADER = "## ruff (syntax): 2 findings"


def sized(last: int) -> list[Finding]:
    return [bare(raw="a" * 1000), bare(raw="b" * last)]


def test_render_fits_a_finding_that_fills_the_room_exactly_and_not_one_character_more():
    # The default limit is 6000 characters, 80 of them kept for the closing note: 5920 of room,
    # each piece counted with the blank line that follows it.
    fits = 5920 - (len(HEADER) + 2) - (1000 + 2) - 2
    text = render_findings(sized(fits))
    assert text.endswith("b" * fits) and "not shown" not in text
    over = render_findings(sized(fits + 1))
    assert over == f"{HEADER}\n\n{'a' * 1000}\n\n… 1 more finding not shown (ruff: 1; 2 in all)"


def test_render_cuts_only_a_first_finding_too_long_to_fit_and_counts_the_rest():
    huge = [bare(raw="y" * 10_000), bare(raw="z")]
    text = render_findings(huge, limit_chars=500)
    shown = 500 - 80 - (len(HEADER) + 2) - 3
    assert text == f"{HEADER}\n\n{'y' * shown}…\n\n… 1 more finding not shown (ruff: 1; 2 in all)"
    # A header that only just fits leaves room for the cut mark alone.
    one = "## ruff (syntax): 1 finding"
    assert render_findings([bare(raw="y" * 50)], limit_chars=80 + len(one) + 5) == f"{one}\n\n…"
    # Not even the header fits: only the note, which still names the check.
    assert (
        render_findings([bare(raw="y")], limit_chars=80) == "… 1 more finding not shown (ruff: 1; 1 in all)"
    )


def test_render_note_that_names_many_checks_is_still_cut_to_the_limit():
    many = [bare(check=f"a_check_with_a_long_name_{i}", raw="x" * 40) for i in range(10)]
    text = render_findings(many, limit_chars=200)
    assert len(text) == 200
    assert "9 more findings not shown (a_check_with_a_long_name_1: 1, a_check_with_a_long_name_2: 1" in text
