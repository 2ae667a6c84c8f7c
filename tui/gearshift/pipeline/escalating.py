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
from gearshift.pipeline.excerpts import snippets, whole_files
from gearshift.pipeline.forecast import Forecast
from gearshift.prompts import EscalationPayload
from gearshift.validation.findings import ValidationResult

Excerpts = list[tuple[str, int, int, str]]


@dataclass(frozen=True)
class Chosen:
    code_sent: str  # "excerpts" or "whole files"
    payload: EscalationPayload
    forecast: Forecast
    forecasts: dict[str, Forecast]  # every payload offered, by what it sends


def cheaper_payload(
    stage: AnyStage,
    result: ValidationResult,
    build: Callable[[Excerpts], EscalationPayload],
    forecast: Callable[[EscalationPayload], Forecast],
) -> Chosen:
    changed = [c.path for c in stage.changes()]
    offers: list[tuple[str, EscalationPayload, Forecast]] = []
    for code, excerpts in (
        ("excerpts", snippets(stage, result, changed)),
        ("whole files", whole_files(stage, result, changed)),
    ):
        if excerpts is None:  # not every file fits the budget whole
            continue
        payload = build(excerpts)
        if offers and payload.system == offers[0][1].system:  # the excerpts were the whole files
            continue
        offers.append((code, payload, forecast(payload)))
    code, payload, chosen = min(offers, key=lambda o: o[2].model_usd)  # min keeps the first of equals
    return Chosen(code, payload, chosen, {c: f for c, _, f in offers})
