"""The simulated model's outcome table: the only invented part of the benchmark, kept small and explicit.

P(an attempt writes the reference patch) per model family × complexity band (gearshift's own routing
score of the task). Anchors, from the models' published results:
- SWE-bench Verified: Sonnet 4.6 79.6 %, Opus 4.7 87.6 % — the *mid* band (real bugs in real repos).
- SWE-bench Pro (harder, multi-file): Opus 4.7 64.3 %; Sonnet 4.6 about 10 points under — the *high*
  band, lifted a little because every task here has a test oracle and a focused prompt.
- Restoring one documented function with its tests beside it is near the ceiling for both — *low*.
- The routing article's claim that Sonnet gives "85–90 % of the practical coding utility" holds
  for these numbers (0.80 / 0.88 = 0.91 in the mid band).
A wrong attempt is a syntax slip `SYNTAX_SHARE` of the time (caught by compilation, corrected on the
same model), else a plausible logic error (an off-by-one or a dropped branch) that the project's tests
reject. Draws are a hash of (seed, task, model family, attempt index on that family), so every arm
that makes the same attempt gets the same outcome: arms differ by what they do, not by luck.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

BANDS = (("low", 0.0, 0.4), ("mid", 0.4, 0.75), ("high", 0.75, 1.01))
DEFAULT_TABLE = {
    ("sonnet", "low"): 0.90,
    ("sonnet", "mid"): 0.80,
    ("sonnet", "high"): 0.55,
    ("opus", "low"): 0.94,
    ("opus", "mid"): 0.88,
    ("opus", "high"): 0.70,
}
SYNTAX_SHARE = 0.25


def band(score: float) -> str:
    for name, low, high in BANDS:
        if low <= score < high:
            return name
    return "high"


def family(model_id: str) -> str:
    for name in ("sonnet", "opus", "haiku"):
        if name in model_id:
            return name
    raise ValueError(f"no outcome row for model {model_id!r}")


def _uniform(*parts: object) -> float:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True)
class OutcomeModel:
    seed: int = 1
    table: dict[tuple[str, str], float] = field(default_factory=lambda: dict(DEFAULT_TABLE))
    syntax_share: float = SYNTAX_SHARE
    override: dict[str, float] = field(default_factory=dict)  # family → p for every band (the sweep)

    def p_right(self, model_id: str, score: float) -> float:
        fam = family(model_id)
        if fam in self.override:
            return self.override[fam]
        return self.table[(fam, band(score))]

    def draw(self, task_id: str, model_id: str, score: float, attempt: int, wrong_kinds: list[str]) -> str:
        """'right', or the kind of wrong fix this attempt writes (one of `wrong_kinds`)."""
        fam = family(model_id)
        if _uniform(self.seed, task_id, fam, attempt, "right") < self.p_right(model_id, score):
            return "right"
        logic = [k for k in wrong_kinds if k != "syntax_slip"]
        if "syntax_slip" in wrong_kinds and (
            not logic or _uniform(self.seed, task_id, fam, attempt, "syntax") < self.syntax_share
        ):
            return "syntax_slip"
        pick = int(_uniform(self.seed, task_id, fam, attempt, "kind") * len(logic))
        return logic[pick]

    def with_sonnet(self, p: float) -> OutcomeModel:
        return replace(self, override={**self.override, "sonnet": p})
