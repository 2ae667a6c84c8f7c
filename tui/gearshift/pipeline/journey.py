"""One task's journey: context → route → attempt → validate → correct / escalate → sign-off → ready.

The journey never touches the user's files: every edit lands in a staged copy, and what comes
out is a validated list of file changes that the session applies only when the user (or
`--auto-approve`) accepts them.
"""

from __future__ import annotations

import asyncio
import traceback
from decimal import Decimal
from typing import TYPE_CHECKING

from gearshift import events as ev
from gearshift import prompts, redact
from gearshift.config import ModelSpec
from gearshift.context.select import ContextError
from gearshift.edits.cowstage import AnyStage
from gearshift.edits.editor_tool import EditorTool
from gearshift.models.pricing import Usage, cost, usd
from gearshift.pipeline.conversation import AttemptOutcome, CallContext, Conversation, run_turns
from gearshift.pipeline.escalating import cheaper_payload
from gearshift.pipeline.forecast import escalation_forecast, ledger_summaries
from gearshift.pipeline.metering import BudgetExceeded
from gearshift.pipeline.record import TaskFailed, TaskRecord
from gearshift.pipeline.review import run_review
from gearshift.routing.policy import after_validation, decide
from gearshift.routing.score import score_task
from gearshift.validation.checks import preflight, resolve_checks
from gearshift.validation.findings import ValidationResult
from gearshift.validation.gate import (
    failure_signature,
    mark_preexisting,
    new_findings,
    render_findings,
    setup_problem,
)
from gearshift.vocab import AttemptKind, StartsFrom, TaskStatus, ValidationReason

if TYPE_CHECKING:
    from gearshift.pipeline.session import Session

class Journey:
    def __init__(self, session: Session, record: TaskRecord) -> None:
        self.s = session
        self.r = record
        self.task = record.task
        self.emit = session.emit
        self.stage: AnyStage | None = None
        # (task cost, calls) when an approved escalation began: its actual cost is what came after
        self._escalation_base: tuple[Decimal, int] | None = None
        self.ctx = CallContext(
            config=session.config,
            gateway=session.gateway,
            meter=session.meter,
            ledger=session.ledger,
            emit=session.emit,
            task=record.task,
            on_call=self._count_call,
        )

    def _count_call(self, attempt: int, usage: Usage, spent: float) -> None:
        self.r.calls += 1
        self.r.book_call(attempt, usage, spent)

    def begin_attempt(self, model: ModelSpec, kind: AttemptKind, starts_from: StartsFrom) -> int:
        """Count, log and tell a new attempt; its number. A sign-off is not on the task's route:
        the reviewer did not write the change."""
        self.r.attempts += 1
        attempt = self.r.attempts
        if kind != "signoff":
            self.r.route.append(model.id)
        self.r.start_attempt(model.id, kind)
        self.emit(
            ev.AttemptStarted(
                task_id=self.task.id, attempt=attempt, model=model.id, kind=kind, starts_from=starts_from
            )
        )
        return attempt

    def attempt_failed(self, attempt: int, model: ModelSpec, outcome: AttemptOutcome) -> TaskFailed:
        """An attempt's calls failed (a fault, not a wrong answer): the task ends failed."""
        self.r.attempt_outcome("failed")
        return TaskFailed("failed", f"attempt {attempt} on {model.label} failed ({outcome.fault}): {outcome.message}")

    def _status(self, status: TaskStatus, detail: str = "") -> None:
        self.r.status = status
        self.emit(ev.TaskStatus(task_id=self.task.id, status=status, detail=detail))

    # -- the journey ---------------------------------------------------------------------------

    async def run(self) -> None:
        config = self.s.config
        self._status("running")
        try:
            if self.s.sandbox.refused and config.validation.enabled and self.task.requires_validation:
                raise TaskFailed("failed", self.s.sandbox.describe())
            try:
                selection = await self.s.choose_context(self.task)
            except ContextError as exc:
                raise TaskFailed("failed", f"context: {exc}") from None
            # The whole explanation (why each file, what was pruned) goes to the summary and the
            # ledger's task row, not only to the event.
            self.r.context = {
                "files": [
                    {"path": f.path, "reason": f.reason, "tokens": f.tokens, "mode": f.mode}
                    for f in selection.files
                ],
                "pruned": list(selection.pruned),
                "tokens_sent": selection.tokens_sent,
                "tokens_naive": selection.tokens_naive,
            }
            self.ctx.context_delta = selection.tokens_naive - selection.tokens_sent
            self.emit(
                ev.ContextSelected(
                    task_id=self.task.id,
                    files=list(self.r.context["files"]),
                    pruned=list(selection.pruned),
                    tokens_sent=selection.tokens_sent,
                    tokens_naive=selection.tokens_naive,
                    fanout=selection.fanout,
                )
            )
            lines = sum(f.text.count("\n") + 1 for f in selection.files if f.reason == "named")
            complexity = score_task(
                self.task, paths=list(self.task.context_files), fanout=selection.fanout, lines=lines
            )
            decision = decide(
                self.task, complexity, config, expected_latency_ms=self.s.expected_latency_ms, batch=self.s.batch
            )
            self.r.complexity, self.r.decision = complexity, decision
            self.r.arm = decision.arm
            self.emit(
                ev.TaskRouted(
                    task_id=self.task.id,
                    model=decision.model.id,
                    score=complexity.score,
                    threshold=decision.threshold,
                    rule=decision.rule,
                    explanation=decision.explanation,
                    signals=[s.to_dict() for s in complexity.signals],
                    estimated_cost_usd=usd(
                        self._estimate(decision.model, selection.tokens_sent + 1500, 3, 1200)
                    ),
                    arm=decision.arm,
                )
            )
            self.stage = await self.s.open_stage(self.task.id)
            self.specs = (  # a review changes nothing: there is nothing to compile or test
                resolve_checks(config, self.stage.workdir)
                if config.validation.enabled and self.task.requires_validation and not self.task.is_review
                else []
            )
            # a thread: asking an interpreter whether a tool is installed is a subprocess
            problems = (
                await asyncio.to_thread(preflight, self.specs, self.stage.workdir, project=self.s.root)
                if self.specs
                else []
            )
            if problems:
                raise TaskFailed("failed", problems[0].error)
            answer_only = self.task.interactive and not self.task.requires_validation
            files = [
                {"path": f.path, "reason": f.reason, "mode": f.mode, "text": f.text} for f in selection.files
            ]
            conv = Conversation(
                system=prompts.stable_prefix(
                    config.root.name,
                    self.task.scope,
                    [s.name for s in self.specs],
                    files,
                    answer_only=answer_only,
                    review=self.task.is_review,
                ),
                messages=[{"role": "user", "content": self.task.prompt}],
                cache=not answer_only,
            )
            if self.task.is_review:
                await run_review(self, decision.model, conv)
            else:
                await self._attempts(decision.model, conv, answer_only)
        except TaskFailed as exc:
            self.r.error = str(exc)
            self._status(exc.status, str(exc))
        except BudgetExceeded as exc:
            self.r.error = str(exc)
            self._status("over_budget", str(exc))
        except asyncio.CancelledError:
            self.r.error = "cancelled by the user"
            self._status("cancelled")
            raise
        except Exception as exc:  # a bug or an unreadable file must not take the session down
            log = self.s.root / ".gearshift" / "logs" / f"{self.task.id}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(redact.redact(traceback.format_exc()))  # a message may quote a secret
            self.r.error = f"internal error: {exc!r} (traceback in {log})"
            self._status("failed", self.r.error)
        finally:
            self._settle_escalation()
            if self.stage is not None:
                self.stage.discard()

    def _settle_escalation(self) -> None:
        """Book what an approved escalation really cost beside its forecast (summary + event)."""
        if self._escalation_base is None or self.r.escalation is None:
            return
        spent_before, calls_before = self._escalation_base
        self._escalation_base = None
        actual = self.s.meter.tasks[self.task.id].cost - spent_before
        self.r.escalation["actual_cost_usd"] = usd(actual)
        self.r.escalation["actual_calls"] = self.r.calls - calls_before
        self.emit(
            ev.EscalationSettled(
                task_id=self.task.id,
                to_model=self.r.escalation["to"],
                estimated_cost_usd=self.r.escalation["estimated_cost_usd"],
                actual_cost_usd=usd(actual),
                turns=self.r.calls - calls_before,
            )
        )

    def _estimate(self, model: ModelSpec, input_tokens: int, turns: int, output_per_turn: int) -> Decimal:
        """A rough cost forecast: the prefix written once (at the configured cache TTL's price),
        then read back on each further turn."""
        one_hour = self.s.config.session.cache_ttl == "1h"
        usage = Usage(
            input=400 * turns,
            output=output_per_turn * turns,
            cache_write_5m=0 if one_hour else input_tokens,
            cache_write_1h=input_tokens if one_hour else 0,
            cache_read=input_tokens * (turns - 1),
        )
        return cost(model, usage)

    async def _attempts(self, model: ModelSpec, conv: Conversation, answer_only: bool) -> None:
        assert self.stage is not None
        config = self.s.config
        kind: AttemptKind = "initial"
        corrections_left = config.validation.max_correction_attempts
        logic_corrections_left = config.validation.escalation_model_corrections
        previous: ValidationResult | None = None
        # One file view may not be larger than the whole context budget (≈ 4 characters a token):
        # a 4 MB data file viewed whole would make the next request too large for the API.
        editor = EditorTool(
            self.stage,
            max_characters=config.context.token_budget * 4,
            max_edit_bytes=config.session.max_edit_bytes,
        )
        while True:
            conv.tools = [editor.definition]  # the model is told the cap (escalation starts a new conv)
            attempt = self.begin_attempt(model, kind, "project" if kind == "initial" else "staged")
            self._status("running", f"attempt {attempt} on {model.label}")
            outcome = await run_turns(
                self.ctx, conv, model, attempt=attempt, kind=kind, editor=editor, read_only=answer_only
            )
            if not outcome.ok:
                raise self.attempt_failed(attempt, model, outcome)
            if not self.specs:
                self.r.validation = "skipped"
                self.r.attempt_outcome("answered")
                break
            self._status("validating")
            result = await self._validate()
            problem = setup_problem(result.checks)
            if problem:
                raise TaskFailed("failed", problem)
            self.r.validation = result.outcome
            self.r.attempt_outcome(result.outcome)
            step = after_validation(
                result.outcome,
                corrections_left=corrections_left,
                on_escalation_model=model.id == config.escalation_model.id,
                escalation_on=config.validation.escalation_on,
                logic_corrections_left=logic_corrections_left,
            )
            if step == "accept":
                self.r.findings = []  # the summary's findings are the final attempt's
                break
            result = await self._mark_preexisting(result)
            self.r.findings = [f.to_dict() for f in result.findings]
            self.emit(
                ev.FindingsCompared(
                    run_id=result.run_id,
                    task_id=self.task.id,
                    findings=self.r.findings,
                    preexisting=sum(1 for f in result.findings if f.preexisting),
                )
            )
            fresh = new_findings(result, previous)
            previous = result
            if step == "correct":
                if result.outcome == "fail-logic":
                    logic_corrections_left -= 1
                else:
                    corrections_left -= 1
                kind = "correction"
                conv.add_user(
                    prompts.correction_message(
                        render_findings(fresh or result.findings), result.outcome, attempt + 1
                    )
                )
                continue
            if step == "stop":
                raise TaskFailed(
                    "failed",
                    f"validation {result.outcome} after {attempt} attempt(s): {failure_signature(result)}",
                )
            model, conv = await self._escalate(model, conv, result)
            kind = "escalation"
            corrections_left = config.validation.max_correction_attempts
            previous = None
        await self._signoff(model)
        self.r.changes = self.stage.changes()
        if not self.r.changes:
            self._status("approved", "no files changed")  # an answer: nothing to review
            return
        diff = self.stage.diff()
        self._status("awaiting_review")
        self.emit(
            ev.ChangeReady(task_id=self.task.id, files=sorted(c.path for c in self.r.changes), diff=diff)
        )

    async def _validate(self, stage: AnyStage | None = None, reason: ValidationReason = "attempt") -> ValidationResult:
        stage = stage or self.stage
        assert stage is not None
        return await self.s.watched_validation(
            stage, self.specs, run_id=f"v{next(self.s.run_ids)}", task_id=self.task.id, reason=reason
        )

    async def _mark_preexisting(self, result: ValidationResult) -> ValidationResult:
        """Compare with the project as the task found it, so old failures are labelled as such."""
        baseline = self.s.baseline_cache.get(self.s.base_key())
        if baseline is None:
            clean = await self.s.open_stage(f"{self.task.id}-baseline")
            try:
                baseline = await self._validate(clean, reason="baseline")
            finally:
                clean.discard()
            self.s.baseline_cache[self.s.base_key()] = baseline
        return mark_preexisting(result, baseline)

    async def _escalate(
        self, model: ModelSpec, conv: Conversation, result: ValidationResult
    ) -> tuple[ModelSpec, Conversation]:
        assert self.stage is not None
        config = self.s.config
        target = config.escalation_model
        diff = self.stage.diff()
        history = ledger_summaries(self.s.ledger.tasks()) if self.s.ledger is not None else ()
        chosen = cheaper_payload(
            self.stage,
            result,
            build=lambda excerpts: prompts.escalation_payload(
                project=config.root.name,
                request=self.task.prompt,
                from_label=model.label,
                diff=diff,
                signature=failure_signature(result),
                findings_text=render_findings(result.findings),
                snippets=excerpts,
                starts_from="staged",
                naive_parts=[conv.system, self.task.prompt, conv.messages, [c.output_tail for c in result.checks]],
            ),
            forecast=lambda payload: escalation_forecast(
                target,
                tools=conv.tools,
                system=payload.system,
                user=payload.user,
                failed=conv.messages,
                history=history,
                mode=self.s.gateway.mode,
                cache_ttl=config.session.cache_ttl,
            ),
        )
        payload, forecast = chosen.payload, chosen.forecast
        estimate = forecast.usd
        self.r.escalation = {
            "from": model.id,
            "to": target.id,
            "payload_tokens": payload.tokens,
            "naive_tokens": payload.naive_tokens,
            "estimated_cost_usd": usd(estimate),
            # what calibration needs: the simulation alone, its factor, and the mode it ran in
            "model_forecast_usd": usd(forecast.model_usd),
            "calibration": float(forecast.factor),
            "calibrated_from": forecast.based_on,
            "mode": self.s.gateway.mode,
            "starts_from": payload.starts_from,
            "signature": failure_signature(result),
            "code_sent": chosen.code_sent,  # what the payload carries: "excerpts" or "whole files"
            "forecasts_usd": {code: usd(f.usd) for code, f in chosen.forecasts.items()},
        }
        proposal = ev.EscalationProposed(
            task_id=self.task.id,
            from_model=model.id,
            to_model=target.id,
            reason=f"validation {result.outcome}",
            failure_signature=failure_signature(result),
            payload_tokens=payload.tokens,
            naive_tokens=payload.naive_tokens,
            estimated_cost_usd=usd(estimate),
            starts_from=payload.starts_from,
        )
        self.emit(proposal)
        self._status("awaiting_escalation", f"{model.label} → {target.label}: ~${usd(estimate):.4f}")
        approved, by = await self.s.approve_escalation(proposal)
        self.emit(ev.EscalationDecided(task_id=self.task.id, approved=approved, by=by))
        self.r.escalation["approved"] = approved
        if not approved:
            raise TaskFailed(
                "rejected", f"escalation to {target.label} declined ({by}); {failure_signature(result)}"
            )
        self._escalation_base = (self.s.meter.tasks[self.task.id].cost, self.r.calls)
        return target, Conversation(
            system=payload.system, messages=[{"role": "user", "content": payload.user}]
        )

    async def _signoff(self, model: ModelSpec) -> None:
        """For `signoff_scopes`: the escalation model must approve what the default model made."""
        assert self.stage is not None
        config = self.s.config
        reviewer = config.escalation_model
        if self.task.scope not in config.routing.signoff_scopes or model.id == reviewer.id:
            return
        diff = self.stage.diff()
        if not diff:
            return
        attempt = self.begin_attempt(reviewer, "signoff", "staged")
        self._status("running", f"sign-off by {reviewer.label}")
        system, user = prompts.signoff_request(
            config.root.name, self.task.prompt, diff, f"validation: {self.r.validation}"
        )
        conv = Conversation(
            system=system,
            messages=[{"role": "user", "content": user}],
            tools=[prompts.SIGNOFF_TOOL],
            tool_choice={"type": "tool", "name": "signoff"},
            cache=False,  # one forced call: nothing would read what it wrote
        )
        outcome = await run_turns(self.ctx, conv, reviewer, attempt=attempt, kind="signoff", editor=None)
        if not outcome.ok or outcome.captured is None:
            self.r.attempt_outcome("failed")
            raise TaskFailed(
                "failed", f"sign-off by {reviewer.label} did not complete: {outcome.message or 'no decision'}"
            )
        approved = bool(outcome.captured.get("approved"))
        reason = str(outcome.captured.get("reason", ""))
        self.r.attempt_outcome("approved" if approved else "rejected")
        self.r.signoff = {"model": reviewer.id, "approved": approved, "reason": reason}
        self.emit(
            ev.SignoffFinished(task_id=self.task.id, model=reviewer.id, approved=approved, reason=reason)
        )
        if not approved:
            raise TaskFailed("rejected", f"{reviewer.label} declined to sign off: {reason}")
