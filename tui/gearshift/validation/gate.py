"""The gate's judgements over check results: the outcome, what is new, and how to say it.

The rule is the seed's: a failing compile, lint or type check makes the outcome `fail-syntax`
whatever the tests say (tests of code that does not type-check say little); otherwise a failing
test runner makes it `fail-logic`. Setup problems (a missing tool, a missing node_modules) are
not counted here at all: they are the environment's fault, and `setup_problem` reports them so
the pipeline fails the task with that message instead of blaming (or escalating) the model.
Callers must therefore ask `setup_problem` before trusting a `pass`.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable

from gearshift.validation.findings import CheckResult, Finding, ValidationResult
from gearshift.vocab import ValidationOutcome

_SIGNATURE_MESSAGE_MAX = 140


def judge(checks: list[CheckResult]) -> ValidationOutcome:
    """ "fail-syntax" if any syntax-kind check failed, else "fail-logic" if any logic-kind check
    failed, else "pass". Checks that could not run (`error` set) are left out."""
    ran = [c for c in checks if not c.error]
    if any(not c.passed and c.kind == "syntax" for c in ran):
        return "fail-syntax"
    if any(not c.passed for c in ran):
        return "fail-logic"
    return "pass"


def setup_problem(checks: list[CheckResult]) -> str | None:
    """The setup errors of `checks`, one per line without repeats, or None when there are none."""
    errors = list(dict.fromkeys(c.error for c in checks if c.error))
    return "\n".join(errors) if errors else None


def _take(counts: Counter[tuple[str, str, str, str]], finding: Finding) -> bool:
    """Consume one occurrence of `finding`'s key; a baseline with one unused import does not
    excuse two."""
    key = finding.key()
    if counts[key] > 0:
        counts[key] -= 1
        return True
    return False


def mark_preexisting(result: ValidationResult, baseline: ValidationResult) -> ValidationResult:
    """`result` with the findings the baseline also had flagged `preexisting`. The outcome is
    unchanged: the gate judges the staged copy as it is, so an old failure still fails."""
    counts = Counter(f.key() for f in baseline.findings)
    checks = [
        dataclasses.replace(
            c, findings=[dataclasses.replace(f, preexisting=_take(counts, f)) for f in c.findings]
        )
        for c in result.checks
    ]
    return dataclasses.replace(result, checks=checks)


def new_findings(current: ValidationResult, previous: ValidationResult | None) -> list[Finding]:
    """Findings of `current` that `previous` did not have (all of them when there is none)."""
    if previous is None:
        return list(current.findings)
    counts = Counter(f.key() for f in previous.findings)
    return [f for f in current.findings if not _take(counts, f)]


def _failing(result: ValidationResult, kind: str) -> list[Finding]:
    return [f for c in result.checks if not c.passed and not c.error and c.kind == kind for f in c.findings]


def _one_line(text: str, limit: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def failure_signature(result: ValidationResult) -> str:
    """A short line naming what failed, stable across runs that fail the same way:
    `pytest: tests/test_cart.py::test_total — AssertionError: assert 9 == 10 (+1 more)`.
    Empty for a pass; new findings are named before pre-existing ones."""
    if result.outcome == "cancelled":
        return "cancelled"
    if result.outcome not in ("fail-syntax", "fail-logic"):
        return ""
    failing = _failing(result, "syntax" if result.outcome == "fail-syntax" else "logic")
    if not failing:
        return ""
    first = next((f for f in failing if not f.preexisting), failing[0])
    if first.kind == "logic" and first.code:
        where = first.code
    else:
        loc = f"{first.file}:{first.line}" if first.file and first.line else first.file or ""
        where = " ".join(p for p in (loc, first.code) if p)
    text = f"{first.check}: {where} — " if where else f"{first.check}: "
    text += _one_line(first.message, _SIGNATURE_MESSAGE_MAX)
    if len(failing) > 1:
        text += f" (+{len(failing) - 1} more)"
    return text


def _block(finding: Finding) -> str:
    body = (
        finding.raw.strip("\n").rstrip()
        if finding.raw.strip()
        else " ".join(
            p
            for p in (
                f"{finding.file}:{finding.line}" if finding.line else finding.file or "",
                finding.code,
                finding.message,
            )
            if p
        )
    )
    if finding.preexisting:
        return "(pre-existing: this was already failing before the task)\n" + body
    return body


def _groups(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.check, []).append(f)
    return groups


def render_findings(findings: list[Finding], limit_chars: int = 6000) -> str:
    """Findings for the model, grouped by check in each tool's own words, at most `limit_chars`
    long; what does not fit is counted in a closing note rather than cut mid-finding (only a
    first finding too long to fit at all is cut, so the model always sees something)."""
    if not findings:
        return ""
    room = limit_chars - 80  # kept for the closing note
    parts: list[str] = []
    size = shown = 0
    for check, group in _groups(findings).items():
        old = sum(f.preexisting for f in group)
        count = f"{len(group)} finding{'s' if len(group) != 1 else ''}"
        header = f"## {check} ({group[0].kind}): {count}" + (f", {old} pre-existing" if old else "")
        for i, piece in enumerate([header, *(_block(f) for f in group)]):
            if size + len(piece) + 2 > room:
                if shown == 0 and i > 0:
                    parts.append(piece[: max(room - size - 3, 0)] + "…")
                    shown = 1
                elif i == 1:
                    parts.pop()  # a header with none of its findings under it
                return _close(parts, findings, shown, limit_chars)
            parts.append(piece)
            size += len(piece) + 2
            shown += i > 0
    return "\n\n".join(parts)


def _close(parts: list[str], findings: list[Finding], shown: int, limit_chars: int) -> str:
    """Join what fits and say what did not, by check, so no failing tool goes unmentioned."""
    rest = [f for group in _groups(findings).values() for f in group][shown:]
    if rest:
        per_check = ", ".join(f"{c}: {n}" for c, n in Counter(f.check for f in rest).items())
        parts.append(
            f"… {len(rest)} more finding{'s' if len(rest) != 1 else ''} not shown "
            f"({per_check}; {len(findings)} in all)"
        )
    return "\n\n".join(parts)[:limit_chars]
