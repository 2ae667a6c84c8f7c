"""A review's tools and its findings: what the model may call, and what the engine accepts.

A review offers two tools and nothing else: `view_file` (the text editor's `view`, executed by
the same `EditorTool` against the stage, so paths, ranges and truncation behave identically) and
`record_finding`, one call per finding. The model's input is untrusted JSON: a malformed finding
comes back to it as an error result it can correct (and is counted as rejected); a well-formed
finding on a file or lines that do not exist is dropped and counted — a finding nobody can open
is worse than none. What survives points at real code in the project as the task found it.

A model that answers in free text instead may still put its findings in a fenced ```json block
(a list of findings, or {"findings": [...]}); those go through the same checks. Free text with
no such block is not a review (`parsed` stays false).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from gearshift.edits.editor_tool import EditorTool
from gearshift.edits.workspace import PathRefused

SEVERITIES = ("error", "warning", "note")
VIEW_TOOL_NAME = "view_file"
FINDING_TOOL_NAME = "record_finding"

VIEW_TOOL: dict[str, Any] = {
    "name": VIEW_TOOL_NAME,
    "description": (
        "View a file of the project with line numbers (optionally only lines view_range "
        "[start, end], end -1 for the end of the file), or list a directory. Paths are relative "
        "to the project root. This is a review: nothing can be edited."
    ),
    "input_schema": {
        "type": "object",
        "properties": {
            "path": {"type": "string", "description": "file or directory, relative to the project root"},
            "view_range": {
                "type": "array",
                "items": {"type": "integer"},
                "minItems": 2,
                "maxItems": 2,
                "description": "[first line, last line], 1-based; -1 as last line means the end of the file",
            },
        },
        "required": ["path"],
        "additionalProperties": False,
    },
}

FINDING_TOOL: dict[str, Any] = {
    "name": FINDING_TOOL_NAME,
    "description": (
        "Record one finding of the review. Call it once per problem, most serious first. Lines "
        "are 1-based and must exist in the file as it is now."
    ),
    "input_schema": {
        "type": "object",
        "properties": {
            "file": {"type": "string", "description": "path relative to the project root"},
            "start_line": {"type": "integer", "minimum": 1},
            "end_line": {"type": "integer", "minimum": 1},
            "severity": {"type": "string", "enum": list(SEVERITIES)},
            "rule": {
                "type": "string",
                "description": "a short rule id or category, e.g. timing-attack, off-by-one, unused-code",
            },
            "message": {
                "type": "string",
                "description": "what is wrong and why it matters, one or two sentences",
            },
            "suggested_fix": {
                "type": "string",
                "description": "optional: the text that should replace lines start_line..end_line (whole lines)",
            },
            "fix_description": {"type": "string", "description": "optional: what the suggested fix does"},
        },
        "required": ["file", "start_line", "end_line", "severity", "rule", "message"],
        "additionalProperties": False,
    },
}

_FENCED_JSON = re.compile(r"```(?:json)?\s*\n(.*?)```", re.DOTALL)


@dataclass(frozen=True)
class ReviewFinding:
    """One accepted finding: it points at lines that exist in `file`."""

    file: str
    start_line: int
    end_line: int
    severity: str
    rule: str
    message: str
    suggested_fix: str | None = None
    fix_description: str = ""
    end_column: int = 1  # 1 + the length of end_line: where a whole-line fix's region ends

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Malformed(ValueError):
    """A finding the model must send again: the message says what to change."""


def _int(raw: dict[str, Any], key: str) -> int:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Malformed(f"{key} must be an integer line number (1-based), not {value!r}")
    if value < 1:
        raise Malformed(f"{key} must be at least 1, not {value}")
    return value


def _text(raw: dict[str, Any], key: str, required: bool = True) -> str:
    value = raw.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise Malformed(f"{key} must be a non-empty string")
    return value


def check_shape(raw: object) -> dict[str, Any]:
    """The finding's fields, typed, or Malformed naming the first field at fault."""
    if not isinstance(raw, dict):
        raise Malformed("a finding must be a JSON object")
    unknown = sorted(set(raw) - set(FINDING_TOOL["input_schema"]["properties"]))
    if unknown:
        raise Malformed(f"unknown field(s) {', '.join(unknown)}")
    start, end = _int(raw, "start_line"), _int(raw, "end_line")
    if end < start:
        raise Malformed(f"end_line {end} is before start_line {start}")
    severity = _text(raw, "severity")
    if severity not in SEVERITIES:
        raise Malformed(f"severity must be one of {', '.join(SEVERITIES)}, not {severity!r}")
    fix = raw.get("suggested_fix")
    if fix is not None and not isinstance(fix, str):
        raise Malformed("suggested_fix must be a string (the replacement text of the lines)")
    return {
        "file": _text(raw, "file"),
        "start_line": start,
        "end_line": end,
        "severity": severity,
        "rule": " ".join(_text(raw, "rule").split()),
        "message": _text(raw, "message").strip(),
        "suggested_fix": fix,
        "fix_description": _text(raw, "fix_description", required=False).strip(),
    }


class FindingRecorder:
    """Collects one review attempt's findings, checking each against the staged project."""

    def __init__(self, editor: EditorTool) -> None:
        self.editor = editor
        self.kept: list[ReviewFinding] = []
        self.dropped: list[dict[str, Any]] = []  # {"finding": raw, "reason": why}
        self.rejected = 0
        self.parsed = False  # the model used the tool, or gave a parseable findings block

    def view(self, tool_input: dict[str, Any]) -> tuple[str, bool, str]:
        """Run `view_file`: (content, is_error, path)."""
        if not isinstance(tool_input, dict):
            return "Error: the tool input must be a JSON object", True, ""
        command = tool_input.get("command", "view")
        extra = sorted(set(tool_input) - {"path", "view_range", "command"})
        if command != "view" or extra:
            what = f"command {command!r}" if command != "view" else f"field(s) {', '.join(extra)}"
            return (
                f"Error: {what} refused: this is a review, files can only be viewed",
                True,
                str(tool_input.get("path", "")),
            )
        outcome = self.editor.execute({**tool_input, "command": "view"})
        return outcome.content, outcome.is_error, outcome.path

    def record(self, tool_input: object) -> tuple[str, bool]:
        """Check one finding: (the tool result for the model, is_error)."""
        self.parsed = True
        try:
            fields = check_shape(tool_input)
        except Malformed as exc:
            self.rejected += 1
            return f"Error: finding not recorded: {exc}. Send it again with the fields corrected.", True
        try:
            lines = self._lines(fields["file"])
            fields["file"] = self.editor.stage.rel(fields["file"])
        except (PathRefused, OSError, UnicodeDecodeError) as exc:
            reason = f"{fields['file']} is not a text file of the project ({exc})"
            return self._drop(fields, reason)
        if fields["end_line"] > len(lines):
            reason = f"{fields['file']} has {len(lines)} lines; lines {fields['start_line']}-{fields['end_line']} do not exist"
            return self._drop(fields, reason)
        finding = ReviewFinding(**fields, end_column=len(lines[fields["end_line"] - 1]) + 1)
        self.kept.append(finding)
        where = f"{finding.file}:{finding.start_line}" + (
            f"-{finding.end_line}" if finding.end_line != finding.start_line else ""
        )
        return f"Recorded finding {len(self.kept)}: {finding.severity} at {where}.", False

    def record_text(self, text: str) -> None:
        """Findings given as fenced JSON in a free-text answer, checked the same way."""
        for block in _FENCED_JSON.findall(text):
            try:
                data = json.loads(block)
            except json.JSONDecodeError:
                continue
            items = data.get("findings") if isinstance(data, dict) else data
            if isinstance(items, list):
                self.parsed = True
                for item in items:
                    self.record(item)

    def _lines(self, path: str) -> list[str]:
        stage = self.editor.stage
        target = stage.resolve(path)
        if not target.is_file():
            raise FileNotFoundError(f"no such file: {stage.rel(path)}")
        text = stage.read_text(stage.rel(path)).replace("\r\n", "\n")
        lines = text.split("\n")
        return lines[:-1] if text.endswith("\n") else ([] if not text else lines)

    def _drop(self, fields: dict[str, Any], reason: str) -> tuple[str, bool]:
        self.dropped.append({"finding": fields, "reason": reason})
        return (
            f"Error: finding dropped: {reason}. Check the file with view_file and record it at lines that exist.",
            True,
        )
