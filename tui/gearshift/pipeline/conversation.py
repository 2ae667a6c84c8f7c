"""One attempt's conversation: call the model, run its editor commands, repeat until it is done.

Every call is checked against the budgets before it is sent (its max_tokens lowered to fit what
is left), written to the ledger as "in flight" at its worst case before the request goes out,
settled in the meter and the ledger as soon as it ends — whatever it ended in: an answer, a
fault, a cancellation or an exception of any type — and told as events. A fault, a cut stream or
a reply stopped by max_tokens ends the attempt as failed — never as a finished answer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gearshift import events as ev
from gearshift import redact
from gearshift.config import Config, ModelSpec
from gearshift.edits.editor_tool import TOOL_DEFINITION, EditorTool
from gearshift.ledger import CallRow, Ledger
from gearshift.models.call import CallFault, CallRequest
from gearshift.models.client import ModelGateway
from gearshift.models.pricing import Usage, estimate_tokens, usd
from gearshift.pipeline.metering import (
    CONTEXT_KINDS,
    Allowance,
    BudgetExceeded,
    CostMeter,
    input_tokens_bound,
)
from gearshift.review.findings import FINDING_TOOL_NAME, VIEW_TOOL_NAME, FindingRecorder
from gearshift.tasks import Task
from gearshift.vocab import FaultKind

READ_ONLY_COMMANDS = {"view"}


@dataclass
class Conversation:
    system: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] = field(default_factory=lambda: [dict(TOOL_DEFINITION)])
    tool_choice: dict[str, Any] | None = None
    # False when every call is expected to be the last (an answer, a sign-off): no cache writes.
    cache: bool = True

    def add_user(self, text: str) -> None:
        self.messages.append({"role": "user", "content": text})

    def transcript_tokens(self) -> int:
        return estimate_tokens(json.dumps(self.system)) + estimate_tokens(json.dumps(self.messages))


@dataclass
class AttemptOutcome:
    ok: bool
    text: str = ""
    fault: str = ""
    message: str = ""
    turns: int = 0
    output_tokens: int = 0
    captured: dict[str, Any] | None = None  # the input of a non-editor tool (sign-off)


@dataclass
class CallContext:
    """What every call of a task needs: where to send it, where to book it, whom to tell."""

    config: Config
    gateway: ModelGateway
    meter: CostMeter
    ledger: Ledger | None
    emit: ev.EventSink
    task: Task
    # told (attempt, usage, cost) after each booked call: the task's per-attempt log
    on_call: Callable[[int, Usage, float], None] = lambda attempt, usage, spent: None
    # naive minus sent context tokens: the naive baseline's input for a call carrying the context
    context_delta: int = 0


class _Flight:
    """One call from its admission to its booking: the in-flight ledger row written before the
    request is sent, and the one settlement that replaces it, however the call ends."""

    def __init__(
        self, ctx: CallContext, model: ModelSpec, attempt: int, turn: int, kind: str, allowance: Allowance
    ) -> None:
        self.ctx, self.model, self.attempt, self.turn, self.kind = ctx, model, attempt, turn, kind
        self.allowance = allowance
        self.settled = False
        self.row_id: int | None = None
        if ctx.ledger is not None:
            worst = allowance.worst
            self.row_id = ctx.ledger.record_call(
                self._row(
                    Usage(),
                    usd(worst),
                    usd(worst),
                    naive_usd=usd(worst),
                    in_flight=True,
                    fault=None,
                    stop_reason=None,
                )
            )

    def _row(self, usage: Usage, spent: float, equiv: float, **kw: Any) -> CallRow:
        return CallRow(
            task_id=self.ctx.task.id,
            attempt=self.attempt,
            turn=self.turn,
            kind=self.kind,
            model=self.model.id,
            input_tokens=usage.input,
            output_tokens=usage.output,
            cache_write_5m_tokens=usage.cache_write_5m,
            cache_write_1h_tokens=usage.cache_write_1h,
            cache_read_tokens=usage.cache_read,
            cost_usd=spent,
            escalation_equiv_usd=equiv,
            ttft_ms=kw.pop("ttft_ms", None),
            latency_ms=kw.pop("latency_ms", None),
            tags=self.ctx.task.tags,
            mode=self.ctx.gateway.mode,
            **kw,
        )

    def settle(
        self,
        usage: Usage,
        *,
        ttft_ms: float | None,
        latency_ms: float | None,
        stop_reason: str | None,
        fault: str | None,
        request_id: str | None,
    ) -> float:
        """Book the call at what it was billed: the meter, the ledger row, the cost events."""
        ctx = self.ctx
        if self.settled:  # booked already (a cancellation the gateway reported, then re-raised)
            return 0.0
        self.settled = True
        ctx.meter.release(self.allowance)
        delta = ctx.context_delta if self.kind in CONTEXT_KINDS else 0
        spent, equiv, naive = ctx.meter.add(
            ctx.task.id, self.model, usage, latency_ms or 0.0, context_delta=delta
        )
        ctx.on_call(self.attempt, usage, usd(spent))
        if ctx.ledger is not None:
            row = self._row(
                usage,
                usd(spent),
                usd(equiv),
                naive_usd=usd(naive),
                ttft_ms=ttft_ms,
                latency_ms=latency_ms,
                stop_reason=stop_reason,
                fault=fault,
                request_id=request_id,
            )
            if self.row_id is not None:
                ctx.ledger.settle_call(self.row_id, row)
            else:
                ctx.ledger.record_call(row)
        ctx.emit(ev.CostUpdated(**ctx.meter.snapshot(ctx.task.id)))  # type: ignore[arg-type]
        if ctx.meter.crossed_alert(ctx.task.id):
            ctx.emit(
                ev.BudgetAlert(
                    task_id=ctx.task.id,
                    task_cost_usd=usd(ctx.meter.tasks[ctx.task.id].cost),
                    threshold_usd=ctx.config.cost_tracking.alert_threshold_per_task,
                )
            )
        return usd(spent)

    def fault(self, fault: CallFault) -> None:
        """A failed or cancelled call is still a paid one: into the meter and the ledger."""
        if self.settled:
            return
        spent = self.settle(
            fault.usage,
            ttft_ms=None,
            latency_ms=fault.latency_ms,
            stop_reason=None,
            fault=fault.kind,
            request_id=fault.request_id,
        )
        self.ctx.emit(
            ev.CallFailed(
                task_id=self.ctx.task.id,
                attempt=self.attempt,
                turn=self.turn,
                model=self.model.id,
                fault=fault.kind,
                message=fault.message,
                cost_usd=spent,
            )
        )

    def abandon(self, exc: BaseException) -> None:
        """The call ended in something the gateway did not describe. Cancelled before its answer
        began, nothing was billed; any other exception may have come after billing, and what
        was billed is unknown — so it is booked at its worst case rather than at nothing."""
        if self.settled:
            return
        kind: FaultKind
        if isinstance(exc, asyncio.CancelledError):
            usage, kind = Usage(), "cancelled"
            words = f"{self.model.id}: cancelled before the answer began; nothing was billed"
        else:
            # Priced at the worst case: every input token at the dearest tier, all max_tokens out.
            usage, kind = _worst_usage(self.model, self.allowance), "stream_error"
            words = (
                f"{self.model.id}: the call ended in {type(exc).__name__}: {exc}; booked at its worst case"
            )
        self.fault(CallFault(kind, words, usage))


def _worst_usage(model: ModelSpec, allowance: Allowance) -> Usage:
    """A usage that prices at the allowance's worst case (all input in the dearest input tier)."""
    tiers = {
        "input": model.input_per_mtok,
        "cache_write_5m": model.cache_write_5m_per_mtok,
        "cache_write_1h": model.cache_write_1h_per_mtok,
    }
    dearest = max(tiers, key=lambda k: tiers[k])
    return Usage(**{dearest: allowance.input_tokens, "output": allowance.max_tokens})


def _tool_results(
    ctx: CallContext,
    attempt: int,
    tool_uses: list[dict[str, Any]],
    editor: EditorTool | None,
    read_only: bool,
    recorder: FindingRecorder | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    results: list[dict[str, Any]] = []
    captured: dict[str, Any] | None = None
    for use in tool_uses:
        name, tool_input = use["name"], use.get("input")
        if not isinstance(tool_input, dict):  # the model's JSON is untrusted: never an internal error
            content, is_error = "Error: the tool input must be a JSON object", True
        elif recorder is not None and name in (VIEW_TOOL_NAME, FINDING_TOOL_NAME, TOOL_DEFINITION["name"]):
            content, is_error = _review_tool(ctx, attempt, recorder, name, tool_input)
        elif name == TOOL_DEFINITION["name"] and editor is not None:
            command = str(tool_input.get("command", ""))
            if read_only and command not in READ_ONLY_COMMANDS:
                content, is_error, path = (
                    "This is a read-only question: files cannot be edited.",
                    True,
                    str(tool_input.get("path", "")),
                )
            else:
                outcome = editor.execute(tool_input)
                content, is_error, path = outcome.content, outcome.is_error, outcome.path
                if outcome.edited:
                    ctx.emit(
                        ev.EditStaged(
                            task_id=ctx.task.id,
                            attempt=attempt,
                            path=outcome.path,
                            command=command,
                            diff=outcome.diff,
                        )
                    )
            first_line = content.splitlines()[0] if content else ""
            ctx.emit(
                ev.ToolCall(
                    task_id=ctx.task.id,
                    attempt=attempt,
                    command=command,
                    path=path,
                    ok=not is_error,
                    summary=first_line[:200],
                )
            )
        elif name == "signoff":
            captured = dict(tool_input)
            content, is_error = "Recorded.", False
        else:
            content, is_error = f"Unknown tool {name!r}.", True
        results.append(
            {"type": "tool_result", "tool_use_id": use["id"], "content": content, "is_error": is_error}
        )
    return results, captured


def _review_tool(
    ctx: CallContext, attempt: int, recorder: FindingRecorder, name: str, tool_input: Any
) -> tuple[str, bool]:
    """A review's tools: view, record a finding — and a refusal for anything that would edit."""
    raw = tool_input if isinstance(tool_input, dict) else {}
    if name == VIEW_TOOL_NAME:
        content, is_error, path = recorder.view(tool_input)
        command = "view"
    elif name == FINDING_TOOL_NAME:
        content, is_error = recorder.record(tool_input)
        command, path = "record_finding", f"{raw.get('file', '')}:{raw.get('start_line', '')}"
    else:  # the editor tool is not offered in a review; a model calling it anyway is refused
        command, path = str(raw.get("command", "")), str(raw.get("path", ""))
        content = (
            f"Error: {command or 'this command'} refused: this is a review, files cannot be edited. "
            f"Use {VIEW_TOOL_NAME} to read files and {FINDING_TOOL_NAME} to report each problem."
        )
        is_error = True
    first_line = content.splitlines()[0] if content else ""
    ctx.emit(
        ev.ToolCall(
            task_id=ctx.task.id, attempt=attempt, command=command, path=path, ok=not is_error, summary=first_line[:200]
        )
    )
    return content, is_error


async def run_turns(
    ctx: CallContext,
    conv: Conversation,
    model: ModelSpec,
    *,
    attempt: int,
    kind: str,
    editor: EditorTool | None,
    read_only: bool = False,
    recorder: FindingRecorder | None = None,
) -> AttemptOutcome:
    """Run turns until the model stops using tools; raises BudgetExceeded before an unaffordable call."""
    session = ctx.config.session
    outcome = AttemptOutcome(ok=False)
    for turn in range(1, session.max_turns_per_attempt + 1):
        outcome.turns = turn
        estimated = estimate_tokens(json.dumps([conv.system, conv.messages, conv.tools]))
        bound = input_tokens_bound(conv.system, conv.messages, conv.tools)
        try:
            allowance = ctx.meter.reserve(model, bound, session.max_tokens)
        except BudgetExceeded as exc:
            ctx.emit(
                ev.BudgetBlocked(
                    task_id=ctx.task.id,
                    spent_usd=usd(exc.spent),
                    worst_case_usd=usd(exc.worst),
                    cap_usd=usd(exc.cap),
                    budget=exc.which,
                )
            )
            raise
        ctx.emit(
            ev.CallStarted(
                task_id=ctx.task.id,
                attempt=attempt,
                turn=turn,
                model=model.id,
                estimated_input_tokens=estimated,
                worst_case_usd=usd(allowance.worst),
            )
        )
        flight = _Flight(ctx, model, attempt, turn, kind, allowance)

        texts = redact.TextStream()  # a secret the model echoes may span two deltas

        def on_text(text: str, texts: redact.TextStream = texts) -> None:
            if shown := texts.feed(text):
                ctx.emit(ev.TextDelta(task_id=ctx.task.id, attempt=attempt, text=shown))

        try:
            request = CallRequest(
                task_id=ctx.task.id,
                attempt=attempt,
                turn=turn,
                model=model,
                system=conv.system,
                messages=conv.messages,
                tools=conv.tools,
                max_tokens=allowance.max_tokens,
                cache_ttl=session.cache_ttl,
                tool_choice=conv.tool_choice,
                cache=conv.cache,
            )
            try:
                result = await ctx.gateway.stream(request, on_text, on_cancelled=flight.fault)
            finally:
                if rest := texts.flush():
                    ctx.emit(ev.TextDelta(task_id=ctx.task.id, attempt=attempt, text=rest))
        except CallFault as fault:
            flight.fault(fault)
            outcome.fault, outcome.message = fault.kind, fault.message
            return outcome
        except BaseException as exc:  # cancelled, or an exception no one foresaw: still booked
            flight.abandon(exc)
            raise
        spent = flight.settle(
            result.usage,
            ttft_ms=result.ttft_ms,
            latency_ms=result.latency_ms,
            stop_reason=result.stop_reason,
            fault=None,
            request_id=result.request_id,
        )
        ctx.emit(
            ev.CallFinished(
                task_id=ctx.task.id,
                attempt=attempt,
                turn=turn,
                model=model.id,
                stop_reason=result.stop_reason,
                input_tokens=result.usage.input,
                output_tokens=result.usage.output,
                cache_write_5m_tokens=result.usage.cache_write_5m,
                cache_write_1h_tokens=result.usage.cache_write_1h,
                cache_read_tokens=result.usage.cache_read,
                cost_usd=spent,
                ttft_ms=result.ttft_ms,
                latency_ms=result.latency_ms,
                request_id=result.request_id,
            )
        )
        outcome.output_tokens += result.usage.output
        conv.messages.append({"role": "assistant", "content": result.content})
        if result.stop_reason == "tool_use" and result.tool_uses:
            results, captured = _tool_results(
                ctx, attempt, result.tool_uses, editor, read_only, recorder
            )
            conv.messages.append({"role": "user", "content": results})
            if captured is not None:
                outcome.ok, outcome.captured, outcome.text = True, captured, result.text
                return outcome
            continue
        if result.stop_reason == "pause_turn":
            continue
        if result.stop_reason in ("end_turn", "stop_sequence"):
            outcome.ok, outcome.text = True, result.text
            return outcome
        outcome.fault = result.stop_reason or "truncated"
        outcome.message = {
            "max_tokens": (
                f"the reply was cut off at max_tokens ({allowance.max_tokens}); raise session.max_tokens"
                if allowance.max_tokens == session.max_tokens
                else f"the reply was cut off at max_tokens ({allowance.max_tokens}, lowered from "
                f"{session.max_tokens} to fit the budget that is left)"
            ),
            "refusal": "the model declined the request",
            "model_context_window_exceeded": "the conversation no longer fits the model's context window",
        }.get(outcome.fault, f"the model stopped with {outcome.fault!r}")
        return outcome
    outcome.fault = "turn_cap"
    outcome.message = (
        f"no finished answer after {session.max_turns_per_attempt} turns (session.max_turns_per_attempt)"
    )
    return outcome
