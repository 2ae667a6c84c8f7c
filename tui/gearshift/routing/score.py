"""The complexity score: how much reasoning a task needs, as a sum of named, weighted signals.

The base weights are the routing article's (multi-module +0.3, architecture +0.5, security +0.6,
more than ten context files +0.2). Its classifier only sees the declared scope, so it misses the
things that make real changes hard: how many files hang off the ones being touched, how much code
is involved, and whether the change goes near secrets. Those are added here as further signals,
each recorded with its weight so the decision can always be explained.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gearshift.tasks import Task

SCOPE_WEIGHTS = {"multi-module": 0.3, "architecture": 0.5, "security": 0.6}
MANY_FILES = 10
MANY_FILES_WEIGHT = 0.2

# Fan-out: files directly linked (imports or importers) to the ones the task names.
FANOUT_STEP = 4  # every 4 linked files …
FANOUT_STEP_WEIGHT = 0.05  # … add this much
FANOUT_CAP = 0.2

# Lines of code the model has to hold in mind.
LINES_TIERS = ((1500, 0.15), (600, 0.1))

SENSITIVE_WEIGHT = 0.2
# Whole words and path parts only ("shop/auth.py", "src/auth/", "the login flow"), never a prefix:
# "author", "hashable", "tokenizer" and "authoring" are not security work. Generic words (session,
# token, hash, salt) must also stand alone, so "session-length" is not flagged; the unambiguous ones
# still count inside a hyphenated compound such as "password-reset" or "auth-service".
_GENERIC_TERMS = r"sessions?|tokens?|hash(?:es|ed|ing)?|salt(?:s|ed|ing)?"
_SPECIFIC_TERMS = (
    r"auth[nz]?|oauth2?|authenticat(?:e|es|ed|ing|ion|or)|authori[sz](?:e|es|ed|ing|ation)|"
    r"logins?|sign-?in|passwords?|passwd|passphrases?|credentials?|secrets?|permissions?|"
    r"jwts?|csrf|xss|crypto|crypt|cryptograph(?:y|ic|ically)|bcrypt|scrypt|"
    r"(?:en|de)crypt(?:s|ed|ing|ion)?|saniti[sz](?:e|es|ed|ing|ation|er)"
)
_SENSITIVE = re.compile(
    rf"(?<![\w-])(?:{_GENERIC_TERMS})(?![\w-])|(?<!\w)(?:{_SPECIFIC_TERMS})(?!\w)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Signal:
    name: str
    weight: float
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "weight": self.weight, "detail": self.detail}


@dataclass(frozen=True)
class Complexity:
    score: float
    signals: tuple[Signal, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "signals": [s.to_dict() for s in self.signals]}


def sensitive_terms(task: Task, paths: list[str]) -> list[str]:
    """Security-sensitive words in the prompt or the paths the task touches, deduplicated."""
    # Underscores separate parts of a name (hash_password, api_token.py) as slashes separate folders.
    text = " ".join([task.prompt, *paths]).replace("_", " ")
    seen: dict[str, None] = {}
    for match in _SENSITIVE.finditer(text):
        seen.setdefault(match.group(0).lower(), None)
    return list(seen)


def score_task(task: Task, *, paths: list[str], fanout: int = 0, lines: int = 0) -> Complexity:
    """Score `task`; `paths` are the files it involves, `fanout` and `lines` come from the context."""
    signals: list[Signal] = []
    if task.scope in SCOPE_WEIGHTS:
        signals.append(
            Signal(f"scope:{task.scope}", SCOPE_WEIGHTS[task.scope], f"declared scope {task.scope}")
        )
    if len(task.context_files) > MANY_FILES:
        signals.append(
            Signal(
                "many_context_files",
                MANY_FILES_WEIGHT,
                f"{len(task.context_files)} context files (> {MANY_FILES})",
            )
        )
    if fanout >= FANOUT_STEP:
        weight = min(FANOUT_CAP, (fanout // FANOUT_STEP) * FANOUT_STEP_WEIGHT)
        signals.append(
            Signal("dependency_fanout", round(weight, 4), f"{fanout} files import or are imported by them")
        )
    for limit, weight in LINES_TIERS:
        if lines > limit:
            signals.append(
                Signal("lines_involved", weight, f"{lines} lines in the files involved (> {limit})")
            )
            break
    if task.scope != "security":
        terms = sensitive_terms(task, paths)
        if terms:
            signals.append(Signal("security_sensitive", SENSITIVE_WEIGHT, "mentions " + ", ".join(terms[:5])))
    total = round(min(1.0, sum(s.weight for s in signals)), 4)
    return Complexity(score=total, signals=tuple(signals))
