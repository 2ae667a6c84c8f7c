"""The values a validation run produces: findings, per-check results, the run's verdict.

They are frozen and JSON-friendly because they travel three ways: into events (the UI and the
headless runner), into the model's correction prompt (`raw`, the tool's own words), and into the
comparison with an earlier run (`key()`), which must survive the model moving code up or down.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from gearshift.vocab import CheckKind, ValidationOutcome

_HEX = re.compile(r"0x[0-9a-fA-F]+")
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


def normalise_message(message: str) -> str:
    """The part of a message that names the problem, not where or which instance of it.

    Numbers change when lines shift (`defined on line 12`) or when a value is off by a different
    amount (`assert 4 == 10` vs `assert 5 == 10`); addresses change every run. Both would make one
    unfixed problem look new after each attempt.
    """
    first = message.strip().splitlines()[0] if message.strip() else ""
    first = _HEX.sub("0x#", first)
    first = _DIGITS.sub("#", first)
    return _SPACE.sub(" ", first).strip()


@dataclass(frozen=True)
class Finding:
    """One problem a validator reported, located as precisely as the tool allows."""

    check: str
    kind: str  # "syntax" | "logic"
    file: str | None  # posix path relative to the workdir when possible
    line: int | None
    col: int | None
    code: str  # the tool's code (F401, TS2322, arg-type) or, for test runners, the test's id
    message: str
    raw: str  # the tool's own words for this finding, shown to the model
    preexisting: bool = False

    def key(self) -> tuple[str, str, str, str]:
        """Identity across runs: no line or column, and a message stripped of numbers."""
        return (self.check, self.file or "", self.code, normalise_message(self.message))

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "kind": self.kind,
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "code": self.code,
            "message": self.message,
            "preexisting": self.preexisting,
        }


@dataclass(frozen=True)
class CheckResult:
    """What one check did. `error` is a setup problem (tool or node_modules missing): the
    environment's fault, never the model's, so the gate keeps it apart from failures."""

    name: str
    kind: CheckKind
    passed: bool
    findings: list[Finding]
    exit_code: int | None
    duration_ms: float
    timed_out: bool = False
    error: str = ""
    output_tail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "passed": self.passed,
            "exit_code": self.exit_code,
            "duration_ms": self.duration_ms,
            "timed_out": self.timed_out,
            "error": self.error,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class ValidationResult:
    run_id: str
    outcome: ValidationOutcome
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [f for c in self.checks for f in c.findings]

    @property
    def setup_errors(self) -> list[CheckResult]:
        return [c for c in self.checks if c.error]

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "outcome": self.outcome,
            "checks": [c.to_dict() for c in self.checks],
            "findings": [f.to_dict() for f in self.findings],
            "setup_errors": [c.error for c in self.setup_errors],
        }
