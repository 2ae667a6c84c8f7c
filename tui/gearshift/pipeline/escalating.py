"""Which escalation payload goes: the code around the failure, or the files it is in, whole.

The excerpts are the focused choice and win ties. But on a small project they leave the payload
just under the escalation model's minimum cacheable length (4,096 tokens for Opus 4.7), where
every turn of the escalation pays full price for all of it; the same files whole lift it over,
and the later turns read it from cache at a tenth of the price. Which is cheaper depends on the
sizes, so both are forecast the way the engine will send them and the cheaper one is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gearshift.edits.cowstage import AnyStage
from gearshift.pipeline.excerpts import Excerpt, excerpts
from gearshift.pipeline.forecast import Forecast
from gearshift.prompts import EscalationPayload
from gearshift.validation.findings import ValidationResult


@dataclass(frozen=True)
class Chosen:
    code_sent: str  # "excerpts" or "whole files"
    payload: EscalationPayload
    forecast: Forecast
    forecasts: dict[str, Forecast]  # every payload offered, by what it sends


def cheaper_payload(
    stage: AnyStage,
    result: ValidationResult,
    build: Callable[[list[Excerpt]], EscalationPayload],
    forecast: Callable[[EscalationPayload], Forecast],
) -> Chosen:
    code = excerpts(stage, result, [c.path for c in stage.changes()])
    offers: list[tuple[str, EscalationPayload, Forecast]] = []
    for label, sent in (("excerpts", code.around), ("whole files", code.whole)):
        # left out: whole files over the budget, or whole files the excerpts already are
        if sent is None or (offers and sent == code.around):
            continue
        payload = build(sent)
        offers.append((label, payload, forecast(payload)))
    label, payload, chosen = min(offers, key=lambda o: o[2].model_usd)  # min keeps the first of equals
    return Chosen(label, payload, chosen, {offered: f for offered, _, f in offers})
