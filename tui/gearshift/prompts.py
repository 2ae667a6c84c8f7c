"""What the models are told: the stable prefix, corrections, the escalation payload, sign-off.

The stable prefix (instructions + context files) is identical across every turn and correction
of an attempt chain, so it is cached, and so is the growing conversation after it (see
`CallRequest.breakpoints`). Corrections only add the *new* findings. Escalation starts a fresh,
focused conversation: the request, the diff, the failure and the code around it — not the whole
context again (re-sending everything costs more and dilutes the stronger model's attention) —
as system blocks, so the whole payload is a prefix the escalation's turns read from cache.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gearshift.models.pricing import estimate_tokens
from gearshift.vocab import StartsFrom

SYSTEM_INSTRUCTIONS = """\
You are a senior software engineer working in the project "{project}". You change code only \
through the str_replace_based_edit_tool, with paths relative to the project root. Keep changes \
minimal and in the project's style; keep types and tests passing. You cannot run commands: after \
you finish, the project's own validators ({checks}) run on your edits and you will be shown any \
failures. When the change is complete, stop calling tools and reply with a two- or three-line \
summary of what you changed.
Task scope: {scope}."""

ANSWER_INSTRUCTIONS = """\
You are a senior software engineer answering a question about the project "{project}" during a \
pairing session. Answer concisely and concretely, citing files and functions. You may view files \
with the str_replace_based_edit_tool; do not edit anything."""

REVIEW_INSTRUCTIONS = """\
You are a senior software engineer reviewing code in the project "{project}". This is a review: \
you cannot change any file. Read what you need with the view_file tool (paths relative to the \
project root), then report every real problem you find by calling record_finding once per \
problem, most serious first: the file, the exact 1-based line range as the file is now, a \
severity (error: a bug or vulnerability; warning: likely trouble; note: worth knowing), a short \
rule id or category, a message saying what is wrong and why it matters, and, when you have one, \
the replacement text for those lines as a suggested fix. Do not report style preferences. When \
you have recorded every finding, stop calling tools and reply with a one-line verdict.
Task scope: {scope}."""

REVIEW_RETRY_NOTE = """\
A previous review attempt was not usable ({reason}). Review the code yourself from the start, \
and record each finding with the record_finding tool at lines that exist."""

ESCALATION_INSTRUCTIONS = """\
You are the escalation engineer for the project "{project}". Another model attempted a task and \
its change fails the project's validators for a reason that needs deeper reasoning. Below are \
the request, the change it made, the failure, and the code around it. {start} Diagnose the root \
cause and fix it with the str_replace_based_edit_tool (paths relative to the project root; view \
any other file you need). Do not undo correct parts of the earlier change. When done, stop calling \
tools and explain the cause and the fix in two or three lines."""

ESCALATION_GO = "Find the root cause of the failure above and fix it."

SIGNOFF_INSTRUCTIONS = """\
You review changes to the project "{project}" before they reach the developer. The change below \
passed the project's validators. Approve it only if it is correct and safe for its purpose; \
otherwise reject it and say precisely why. Answer by calling the signoff tool."""

SIGNOFF_TOOL = {
    "name": "signoff",
    "description": "Record the review decision for the staged change.",
    "input_schema": {
        "type": "object",
        "properties": {
            "approved": {"type": "boolean", "description": "true to approve the change"},
            "reason": {"type": "string", "description": "one or two sentences"},
        },
        "required": ["approved", "reason"],
    },
}


def context_block(files: list[dict[str, Any]]) -> str:
    """The context files as tagged sections (`path` and `text` keys; `reason` optional)."""
    parts = ["Project files for this task:"]
    if any(f.get("mode") not in (None, "full") for f in files):
        parts[0] += (
            ' Files marked mode="stripped" (comments and docstrings removed) or mode="signatures" '
            "(bodies left out) differ from the file on disk: view such a file with the tool before "
            "you edit it, or your str_replace will not match."
        )
    for f in files:
        reason = f' reason="{f["reason"]}"' if f.get("reason") else ""
        mode = f' mode="{f["mode"]}"' if f.get("mode") and f["mode"] != "full" else ""
        parts.append(f'<file path="{f["path"]}"{reason}{mode}>\n{f["text"]}\n</file>')
    return "\n\n".join(parts)


def stable_prefix(
    project: str,
    scope: str,
    checks: list[str],
    files: list[dict[str, Any]],
    *,
    answer_only: bool = False,
    review: bool = False,
) -> list[dict[str, Any]]:
    template = REVIEW_INSTRUCTIONS if review else ANSWER_INSTRUCTIONS if answer_only else SYSTEM_INSTRUCTIONS
    blocks = [
        {
            "type": "text",
            "text": template.format(project=project, scope=scope, checks=", ".join(checks) or "none"),
        }
    ]
    if files:
        blocks.append({"type": "text", "text": context_block(files)})
    return blocks


def correction_message(findings_text: str, outcome: str, attempt: int) -> str:
    kind = "does not compile, type-check or lint" if outcome == "fail-syntax" else "fails its tests"
    return (
        f"Your change {kind}. These are the findings that are new since your last attempt, in each "
        f"tool's own words:\n\n{findings_text}\n\nThe files are as you left them. Fix the problems "
        f"with the editor tool (attempt {attempt})."
    )


@dataclass(frozen=True)
class EscalationPayload:
    system: list[dict[str, Any]]
    user: str
    tokens: int
    naive_tokens: int
    starts_from: StartsFrom


def escalation_payload(
    *,
    project: str,
    request: str,
    from_label: str,
    diff: str,
    signature: str,
    findings_text: str,
    snippets: list[tuple[str, int, int, str]],
    starts_from: StartsFrom,
    naive_parts: list[Any],
) -> EscalationPayload:
    """The focused payload for the escalation model, with its token estimate and a naive one's.

    `snippets` are (path, first_line, last_line, text) excerpts around the failures and the
    changed hunks; `naive_parts` is what a naive re-prompt would send again (the whole prefix,
    the request and the full first conversation).
    """
    start = (
        "You start from the project as the other model left it: its edits are already in the files."
        if starts_from == "staged"
        else "You start from a clean copy of the project: the other model's edits are NOT applied."
    )
    system = [{"type": "text", "text": ESCALATION_INSTRUCTIONS.format(project=project, start=start)}]
    code = (
        "\n\n".join(f"{path} lines {a}-{b}:\n```\n{text}\n```" for path, a, b, text in snippets)
        or "(no code locations in the findings)"
    )
    # The payload is a system block, not the user message: it is the same on every escalation
    # turn, so with the tools and the instructions it makes one cacheable prefix.
    system.append(
        {
            "type": "text",
            "text": (
                f"## Request\n{request}\n\n"
                f"## Change made by {from_label}\n```diff\n{diff or '(no edits)'}\n```\n\n"
                f"## Failure\n{signature}\n\n{findings_text}\n\n"
                f"## Code around the failure\n{code}\n"
            ),
        }
    )
    user = ESCALATION_GO
    tokens = sum(estimate_tokens(b["text"]) for b in system) + estimate_tokens(user)
    naive = sum(estimate_tokens(p if isinstance(p, str) else json.dumps(p)) for p in naive_parts)
    return EscalationPayload(system, user, tokens, naive, starts_from)


def signoff_request(
    project: str, request: str, diff: str, validation: str
) -> tuple[list[dict[str, Any]], str]:
    system = [{"type": "text", "text": SIGNOFF_INSTRUCTIONS.format(project=project)}]
    user = f"## Request\n{request}\n\n## Change\n```diff\n{diff}\n```\n\n## Validation\n{validation}\n"
    return system, user
