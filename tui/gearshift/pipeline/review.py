"""A review task's attempts: view-only tools, findings through the gate, escalation on a miss.

The review counterpart of the journey's edit loop. The model is offered `view_file` and
`record_finding` only, so nothing it sends can change a file (an editor call is refused and told
to the model); the stage is checked unchanged after every attempt all the same. There is nothing
to compile: the gate is `FindingRecorder` (well-formed, on lines that exist) and
`routing.policy.review_verdict` (empty or unparseable on a task that expects findings fails). A
failed attempt escalates like a logic failure: proposed, approved (or declined), then a fresh
review on the escalation model over the same cached prefix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gearshift import events as ev
from gearshift import prompts
from gearshift.config import ModelSpec
from gearshift.edits.editor_tool import EditorTool
from gearshift.models.pricing import Usage, cost, estimate_tokens, usd
from gearshift.pipeline.conversation import Conversation, run_turns
from gearshift.review.findings import FINDING_TOOL, VIEW_TOOL, FindingRecorder
from gearshift.routing.policy import review_verdict
from gearshift.vocab import AttemptKind

if TYPE_CHECKING:
    from gearshift.pipeline.journey import Journey


async def run_review(j: Journey, model: ModelSpec, conv: Conversation) -> None:
    """Review attempts until one passes the gate; raises the journey's TaskFailed otherwise."""
    from gearshift.pipeline.record import TaskFailed

    assert j.stage is not None
    config, task = j.s.config, j.task
    kind: AttemptKind = "initial"
    while True:
        # The same view cap as an edit task's editor: one file may not outgrow the context budget.
        recorder = FindingRecorder(EditorTool(j.stage, max_characters=config.context.token_budget * 4))
        conv.tools = [VIEW_TOOL, FINDING_TOOL]
        attempt = j.begin_attempt(model, kind, "project")
        j._status("running", f"review attempt {attempt} on {model.label}")
        outcome = await run_turns(
            j.ctx, conv, model, attempt=attempt, kind=kind, editor=None, recorder=recorder
        )
        if not outcome.ok:
            raise j.attempt_failed(attempt, model, outcome)
        if not recorder.parsed:
            recorder.record_text(outcome.text)
        j._status("validating", "checking the findings")
        touched = sorted(c.path for c in j.stage.changes())
        if touched:  # cannot happen through the tools offered; a review must never write
            raise TaskFailed("failed", f"a review changed files, which it must not: {', '.join(touched)}")
        verdict = review_verdict(
            expect_findings=task.expect_findings,
            kept=len(recorder.kept),
            dropped=len(recorder.dropped),
            rejected=recorder.rejected,
            parsed=recorder.parsed,
        )
        findings = [f.to_dict() for f in recorder.kept]
        j.r.review_findings = list(recorder.kept)
        j.r.review = {
            "model": model.id,
            "expect_findings": task.expect_findings,
            "findings": findings,
            "dropped": len(recorder.dropped),
            "dropped_findings": list(recorder.dropped),
            "rejected": recorder.rejected,
            "verdict": "pass" if verdict.ok else verdict.reason,
        }
        j.r.validation = "pass" if verdict.ok else "fail-review"
        j.r.attempt_outcome(j.r.validation)
        j.emit(
            ev.ReviewFinished(
                task_id=task.id,
                attempt=attempt,
                model=model.id,
                findings=findings,
                dropped=list(recorder.dropped),
                rejected=recorder.rejected,
                ok=verdict.ok,
                reason=verdict.reason,
            )
        )
        if verdict.ok:
            break
        if config.validation.escalation_on != "fail-logic" or model.id == config.escalation_model.id:
            j.r.review_findings = []
            raise TaskFailed("failed", f"{verdict.reason} after {attempt} attempt(s)")
        model, conv = await _escalate(j, model, conv, verdict.reason)
        kind = "escalation"
    count = len(j.r.review_findings)
    j._status("approved", f"review: {count} finding{'s' if count != 1 else ''}, no files changed")


async def _escalate(
    j: Journey, model: ModelSpec, conv: Conversation, reason: str
) -> tuple[ModelSpec, Conversation]:
    """Propose the escalation model for a review that missed; a fresh review if approved."""
    from gearshift.pipeline.record import TaskFailed

    config, task = j.s.config, j.task
    target = config.escalation_model
    note = prompts.REVIEW_RETRY_NOTE.format(reason=reason)
    user = f"{task.prompt}\n\n{note}"
    prefix = sum(estimate_tokens(b["text"]) for b in conv.system)
    turns = max(2, sum(1 for m in conv.messages if m["role"] == "assistant"))
    estimate = cost(target, Usage(input=(prefix + estimate_tokens(user)) * turns, output=1200 * turns))
    j.r.escalation = {
        "from": model.id,
        "to": target.id,
        "payload_tokens": prefix + estimate_tokens(user),
        "naive_tokens": conv.transcript_tokens(),
        "estimated_cost_usd": usd(estimate),
        "starts_from": "project",
        "signature": reason,
    }
    proposal = ev.EscalationProposed(
        task_id=task.id,
        from_model=model.id,
        to_model=target.id,
        reason=reason,
        failure_signature=reason,
        payload_tokens=j.r.escalation["payload_tokens"],
        naive_tokens=j.r.escalation["naive_tokens"],
        estimated_cost_usd=usd(estimate),
        starts_from="project",
    )
    j.emit(proposal)
    j._status("awaiting_escalation", f"{model.label} → {target.label}: ~${usd(estimate):.4f}")
    approved, by = await j.s.approve_escalation(proposal)
    j.emit(ev.EscalationDecided(task_id=task.id, approved=approved, by=by))
    j.r.escalation["approved"] = approved
    if not approved:
        j.r.review_findings = []
        raise TaskFailed("rejected", f"escalation to {target.label} declined ({by}); {reason}")
    return target, Conversation(system=conv.system, messages=[{"role": "user", "content": user}])
