"""One attempt's conversation: call the model, run its editor commands, repeat until it is done.

Every call is checked against the budget before it is sent, booked in the meter and the ledger as
soon as it ends (paid tokens are never lost, even when the call faulted), and told as events.
A fault, a cut stream or a reply stopped by max_tokens ends the attempt as failed — never as a
finished answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from gearshift import events as ev
from gearshift import redact
from gearshift.config import Config, ModelSpec
from gearshift.edits.editor_tool import TOOL_DEFINITION, EditorTool
from gearshift.ledger import CallRow, Ledger
from gearshift.models.call import CallFault, CallRequest
from gearshift.models.client import ModelGateway
from gearshift.models.pricing import Usage, estimate_tokens, usd
from gearshift.pipeline.metering import CONTEXT_KINDS, BudgetExceeded, CostMeter
from gearshift.review.findings import FINDING_TOOL_NAME, VIEW_TOOL_NAME, FindingRecorder
from gearshift.tasks import Task

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


def _book(
    ctx: CallContext,
    model: ModelSpec,
    attempt: int,
    turn: int,
    kind: str,
    usage: Usage,
    *,
    ttft_ms: float | None,
    latency_ms: float | None,
    stop_reason: str | None,
    fault: str | None,
    request_id: str | None,
) -> float:
    delta = ctx.context_delta if kind in CONTEXT_KINDS else 0
    spent, equiv, naive = ctx.meter.add(ctx.task.id, model, usage, latency_ms or 0.0, context_delta=delta)
    ctx.on_call(attempt, usage, usd(spent))
    if ctx.ledger is not None:
        ctx.ledger.record_call(
            CallRow(
                task_id=ctx.task.id,
                attempt=attempt,
                turn=turn,
                kind=kind,
                model=model.id,
                input_tokens=usage.input,
                output_tokens=usage.output,
                cache_write_5m_tokens=usage.cache_write_5m,
                cache_write_1h_tokens=usage.cache_write_1h,
                cache_read_tokens=usage.cache_read,
                cost_usd=usd(spent),
                escalation_equiv_usd=usd(equiv),
                naive_usd=usd(naive),
                ttft_ms=ttft_ms,
                latency_ms=latency_ms,
                stop_reason=stop_reason,
                fault=fault,
                tags=ctx.task.tags,
                request_id=request_id,
                mode=ctx.gateway.mode,
            )
        )
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
        name, tool_input = use["name"], use.get("input") or {}
        if recorder is not None and name in (VIEW_TOOL_NAME, FINDING_TOOL_NAME, TOOL_DEFINITION["name"]):
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


def _book_fault(
    ctx: CallContext, model: ModelSpec, attempt: int, turn: int, kind: str, fault: CallFault
) -> None:
    """A failed or cancelled call is still a paid one: into the meter and the ledger."""
    spent = _book(
        ctx,
        model,
        attempt,
        turn,
        kind,
        fault.usage,
        ttft_ms=None,
        latency_ms=fault.latency_ms,
        stop_reason=None,
        fault=fault.kind,
        request_id=fault.request_id,
    )
    ctx.emit(
        ev.CallFailed(
            task_id=ctx.task.id,
            attempt=attempt,
            turn=turn,
            model=model.id,
            fault=fault.kind,
            message=fault.message,
            cost_usd=spent,
        )
    )


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
        try:
            worst = ctx.meter.check(model, estimated, session.max_tokens)
        except BudgetExceeded as exc:
            ctx.emit(
                ev.BudgetBlocked(
                    task_id=ctx.task.id,
                    spent_usd=usd(exc.spent),
                    worst_case_usd=usd(exc.worst),
                    cap_usd=usd(exc.cap),
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
                worst_case_usd=usd(worst),
            )
        )
        request = CallRequest(
            task_id=ctx.task.id,
            attempt=attempt,
            turn=turn,
            model=model,
            system=conv.system,
            messages=conv.messages,
            tools=conv.tools,
            max_tokens=session.max_tokens,
            cache_ttl=session.cache_ttl,
            tool_choice=conv.tool_choice,
            cache=conv.cache,
        )

        texts = redact.TextStream()  # a secret the model echoes may span two deltas

        def on_text(text: str, texts: redact.TextStream = texts) -> None:
            if shown := texts.feed(text):
                ctx.emit(ev.TextDelta(task_id=ctx.task.id, attempt=attempt, text=shown))

        try:
            try:
                result = await ctx.gateway.stream(
                    request, on_text, on_cancelled=partial(_book_fault, ctx, model, attempt, turn, kind)
                )
            finally:
                if rest := texts.flush():
                    ctx.emit(ev.TextDelta(task_id=ctx.task.id, attempt=attempt, text=rest))
        except CallFault as fault:
            _book_fault(ctx, model, attempt, turn, kind, fault)
            outcome.fault, outcome.message = fault.kind, fault.message
            return outcome
        spent = _book(
            ctx,
            model,
            attempt,
            turn,
            kind,
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
            "max_tokens": f"the reply was cut off at max_tokens ({session.max_tokens}); raise session.max_tokens",
            "refusal": "the model declined the request",
            "model_context_window_exceeded": "the conversation no longer fits the model's context window",
        }.get(outcome.fault, f"the model stopped with {outcome.fault!r}")
        return outcome
    outcome.fault = "turn_cap"
    outcome.message = (
        f"no finished answer after {session.max_turns_per_attempt} turns (session.max_turns_per_attempt)"
    )
    return outcome
