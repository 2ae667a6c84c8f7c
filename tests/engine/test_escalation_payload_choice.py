"""Which escalation payload is sent: the code around the failure, or its files whole.

Real payloads (`prompts.escalation_payload`) priced by the real forecast; only the staged copy is
a stand-in (the two methods the excerpts read). The sizes are set on purpose around Opus 4.7's
4,096-token minimum cacheable length, and each case checks that its premise holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from gearshift import prompts
from gearshift.models.request_tokens import part_tokens
from gearshift.pipeline.escalating import Chosen, cheaper_payload
from gearshift.pipeline.excerpts import SNIPPET_BUDGET_CHARS, excerpts
from gearshift.pipeline.forecast import escalation_forecast
from gearshift.validation.findings import CheckResult, Finding, ValidationResult

from tests.support import model_spec

OPUS = model_spec("opus-4-7")
EDITOR = {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"}
FAILED = [  # the failed attempt the forecast takes its reply sizes from: one fix, then a summary
    {"role": "user", "content": "Do it."},
    {"role": "assistant", "content": [{"type": "text", "text": "a" * 600}]},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "b" * 400}]},
    {"role": "assistant", "content": [{"type": "text", "text": "c" * 300}]},
]


@dataclass
class Change:
    path: str
    before: str
    after: str


class Staged:
    """The staged copy as the excerpts see it: its changes and its files' text."""

    def __init__(self, before: str, after: str) -> None:
        self.change = Change("big.py", before, after)

    def changes(self) -> list[Change]:
        return [self.change]

    def read_text(self, path: str) -> str:
        assert path == "big.py"
        return self.change.after


def module(lines: int) -> str:
    return "".join(f"def f{n:04}(x):  # helper number {n:04}\n    return x + {n}\n" for n in range(lines // 2))


def staged(lines: int) -> Staged:
    before = module(lines)
    return Staged(before, before.replace("return x + 7\n", "return x - 7\n"))


def failing(line: int) -> ValidationResult:
    finding = Finding("pytest", "logic", "big.py", line, None, "t::test_f7", "wrong sign", "E " * 40)
    check = CheckResult("pytest", "logic", passed=False, findings=[finding], exit_code=1, duration_ms=1.0)
    return ValidationResult("v1", "fail-logic", [check])


FAILING = failing(16)  # the line f0007 returns on


def choose(stage: Staged, findings_text: str, result: ValidationResult = FAILING) -> Chosen:
    return cheaper_payload(
        stage,  # type: ignore[arg-type]
        result,
        build=lambda excerpts: prompts.escalation_payload(
            project="p",
            request="Fix f0007.",
            from_label="Sonnet 4.6",
            diff="-    return x + 7\n+    return x - 7",
            signature="pytest: t::test_f7",
            findings_text=findings_text,
            snippets=excerpts,
            starts_from="staged",
            naive_parts=[],
        ),
        forecast=lambda payload: escalation_forecast(
            OPUS, tools=[EDITOR], system=payload.system, user=payload.user, failed=FAILED
        ),
    )


def prefix(payload: prompts.EscalationPayload) -> int:
    return part_tokens(EDITOR) + sum(part_tokens(b) for b in payload.system)


def test_whole_files_are_sent_when_they_lift_the_payload_over_the_cache_minimum() -> None:
    chosen = choose(staged(160), findings_text="F" * 9_000)
    whole, excerpts = chosen.forecasts["whole files"], chosen.forecasts["excerpts"]
    assert chosen.code_sent == "whole files"
    assert prefix(chosen.payload) >= OPUS.min_cache_tokens  # over the minimum: cached
    assert whole.model_usd < excerpts.model_usd and chosen.forecast is whole
    text = chosen.payload.system[-1]["text"]
    assert "1: def f0000(x)" in text and "160: " in text  # first and last line of the file


def test_excerpts_are_sent_when_whole_files_cost_more() -> None:
    # No findings text: both payloads stay under the minimum, so the bigger one just costs more.
    chosen = choose(staged(160), findings_text="")
    assert prefix(chosen.payload) < OPUS.min_cache_tokens
    assert chosen.code_sent == "excerpts"
    assert chosen.forecasts["excerpts"].model_usd < chosen.forecasts["whole files"].model_usd
    text = chosen.payload.system[-1]["text"]
    assert "16: " in text and "1: def f0000(x)" not in text


def test_a_file_too_big_to_send_whole_is_only_excerpted() -> None:
    stage = staged(600)  # ≈ 27,000 characters, over the excerpt budget
    assert len(stage.change.after) > SNIPPET_BUDGET_CHARS
    changed = ["big.py"]
    code = excerpts(stage, FAILING, changed)  # type: ignore[arg-type]
    assert code.whole is None and code.around
    chosen = choose(stage, findings_text="F" * 9_000)
    assert chosen.code_sent == "excerpts" and list(chosen.forecasts) == ["excerpts"]


def test_a_file_the_excerpts_already_cover_is_offered_once() -> None:
    # 16 lines; the finding's 12 lines either side reach both ends: the excerpt is the file
    chosen = choose(staged(16), findings_text="", result=failing(12))
    assert list(chosen.forecasts) == ["excerpts"]
    assert "1: def f0000(x)" in chosen.payload.system[-1]["text"]
