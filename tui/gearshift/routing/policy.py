"""The routing decisions: which model serves a task (and the one rule that decided it), and
what follows a validated attempt (`after_validation`: accept, correct, escalate or stop).

Rules, in order of precedence:
1. forced by the user (either model);
1b. in a batch run (`gearshift run --headless`), a review task goes to
   `routing.batch_review_model` — the decision matrix's "batch CI code review overnight" row:
   latency is irrelevant and maximum accuracy is preferred;
2. `always_escalate_scopes` — the article routes security audits and architecture to Opus in its
   decision matrix, yet its own scorer gives security alone 0.6 < 0.75 and sends it to Sonnet;
   a rule by scope is the honest fix;
3. the complexity threshold (under `[routing.experiment]`, the threshold of the task's A/B arm);
4. for interactive tasks, the latency budget: an answer a person waits for must not come from a
   model whose typical latency exceeds `max_latency_ms` (when `interactive_fallback` is on).
   Never in a batch run: nobody is waiting for the answer.

`review_verdict` is the review's counterpart of the validation gate's judgement: whether a
review attempt produced what its task expects, or must be escalated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gearshift.config import Config, ModelSpec
from gearshift.routing.experiment import threshold_for
from gearshift.routing.score import Complexity
from gearshift.tasks import Task
from gearshift.vocab import NextStep, RouteRule, ValidationOutcome

RULES: dict[RouteRule, str] = {
    "forced-default": "forced to the default model by the user",
    "forced-escalation": "forced to the escalation model by the user",
    "always-escalate": "scope is in routing.always_escalate_scopes",
    "threshold": "complexity score reaches routing.complexity_threshold",
    "below-threshold": "complexity score is below routing.complexity_threshold",
    "latency-fallback": "interactive task; the escalation model's latency exceeds routing.max_latency_ms",
    "batch-review": "review task in a batch run: routing.batch_review_model (latency is irrelevant)",
}


@dataclass(frozen=True)
class RouteDecision:
    model: ModelSpec
    rule: RouteRule
    explanation: str
    complexity: Complexity
    threshold: float
    arm: str | None = None


def decide(
    task: Task,
    complexity: Complexity,
    config: Config,
    *,
    expected_latency_ms: Callable[[ModelSpec], float] | None = None,
    batch: bool = False,
) -> RouteDecision:
    """Pick the model for `task`'s first attempt; `batch` is a headless run nobody waits on."""
    routing = config.routing
    default, escalation = config.default_model, config.escalation_model
    threshold, arm = threshold_for(task.id, routing)
    arm_note = f" (A/B arm {arm})" if arm else ""

    def made(model: ModelSpec, rule: RouteRule, why: str) -> RouteDecision:
        return RouteDecision(model, rule, why, complexity, threshold, arm)

    if task.force == "default":
        return made(default, "forced-default", f"{RULES['forced-default']}")
    if task.force == "escalation":
        return made(escalation, "forced-escalation", f"{RULES['forced-escalation']}")

    if batch and task.is_review:
        reviewer = config.batch_review_model
        return made(
            reviewer,
            "batch-review",
            f"review in a batch run → routing.batch_review_model {reviewer.label} (score {complexity.score:.2f})",
        )

    if task.scope in routing.always_escalate_scopes:
        choice = made(
            escalation,
            "always-escalate",
            f"scope '{task.scope}' is in always_escalate_scopes (score {complexity.score:.2f})",
        )
    elif complexity.score >= threshold:
        choice = made(
            escalation, "threshold", f"score {complexity.score:.2f} ≥ threshold {threshold:.2f}{arm_note}"
        )
    else:
        choice = made(
            default, "below-threshold", f"score {complexity.score:.2f} < threshold {threshold:.2f}{arm_note}"
        )

    if not batch and task.interactive and routing.interactive_fallback and choice.model.id != default.id:
        latency_of = expected_latency_ms or (lambda m: float(m.typical_latency_ms))
        latency = latency_of(choice.model)
        if latency > routing.max_latency_ms:
            return made(
                default,
                "latency-fallback",
                f"interactive: {choice.model.label} takes ~{latency:.0f} ms > max_latency_ms "
                f"{routing.max_latency_ms} (would have been: {choice.explanation})",
            )
    return choice


@dataclass(frozen=True)
class ReviewVerdict:
    ok: bool
    reason: str  # why it failed ('' when ok): what the escalation proposal and the summary say


def review_verdict(*, expect_findings: bool, kept: int, dropped: int, rejected: int, parsed: bool) -> ReviewVerdict:
    """Judge one review attempt: "unparseable or empty on a task that expected findings" fails.

    `kept` findings passed the gate (well-formed, on lines that exist); `dropped` pointed at
    lines or files that do not exist; `rejected` were malformed tool calls; `parsed` is false
    when the attempt ended in free text with no finding the engine could read at all.
    A clean review (no findings) passes only when the task allows it (`expect_findings = false`).
    """
    if kept or not expect_findings:  # findings, or a clean review the task allows
        return ReviewVerdict(True, "")
    if dropped or rejected:
        parts = [f"{dropped} on lines that do not exist" if dropped else "", f"{rejected} malformed" if rejected else ""]
        return ReviewVerdict(False, "review: no usable finding (" + ", ".join(p for p in parts if p) + ")")
    if not parsed:
        return ReviewVerdict(False, "review: a free-text answer with no finding the engine could parse")
    return ReviewVerdict(False, "review: no findings recorded, and the task expects findings")


def after_validation(
    outcome: ValidationOutcome,
    *,
    corrections_left: int,
    on_escalation_model: bool,
    escalation_on: str,
    logic_corrections_left: int,
) -> NextStep:
    """What follows a validated attempt — the escalation rule, beside the routing rule above.

    - it passed: accept it (review comes next);
    - a syntax failure, while `validation.max_correction_attempts` has corrections left: the
      same model corrects it from its findings (cheap: the mistake is usually local);
    - a logic failure, when `validation.escalation_on` is "fail-logic" and the attempt was not
      already on the escalation model: escalate (the user, or policy, approves it first);
    - a logic failure on the escalation model, while `validation.escalation_model_corrections`
      has corrections left: it corrects its own change (there is no stronger model to ask);
    - anything else (out of corrections, escalation off or exhausted, cancelled): stop, failed.
    """
    if outcome == "pass":
        return "accept"
    if outcome == "fail-syntax" and corrections_left > 0:
        return "correct"
    if outcome == "fail-logic" and escalation_on == "fail-logic" and not on_escalation_model:
        return "escalate"
    if outcome == "fail-logic" and on_escalation_model and logic_corrections_left > 0:
        return "correct"
    return "stop"
