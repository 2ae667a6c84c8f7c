"""Anthropic's text editor tool, executed by us against a stage.

The tool is schema-less (the model knows its commands), so the model's input is untrusted JSON:
every bad call comes back as an `is_error` result the model can read and correct, never as an
exception that would end the attempt. Messages say what was wrong and what to send instead,
because each confused retry costs a turn.

Files keep their newline style: a CRLF file is edited as LF text (which is what the model sees and
quotes back) and written as CRLF again; a file without a trailing newline keeps lacking one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gearshift.edits.hunks import unified_diff
from gearshift.edits.workspace import IGNORED_DIRS, PathRefused, path_problem

if TYPE_CHECKING:
    from gearshift.edits.cowstage import AnyStage

TOOL_DEFINITION: dict[str, Any] = {
    "type": "text_editor_20250728",
    "name": "str_replace_based_edit_tool",
}
COMMANDS = ("view", "create", "str_replace", "insert")
# The keys each command takes; any other key is a malformed call, said back to the model.
PARAMETERS = {
    "view": ("command", "path", "view_range"),
    "create": ("command", "path", "file_text"),
    "str_replace": ("command", "path", "old_str", "new_str"),
    "insert": ("command", "path", "insert_line", "insert_text", "new_str"),
}
TEXT_PARAMETERS = ("file_text", "new_str", "insert_text")  # what is written: capped in size
DEFAULT_MAX_EDIT_BYTES = 1_000_000
LISTING_LIMIT = 1000  # entries in a directory view; a huge tree would flood the context
SNIPPET_CONTEXT = 3  # lines shown around an edit in the result


@dataclass(frozen=True)
class ToolOutcome:
    """What a tool call did: `content` goes back to the model as the tool_result text."""

    command: str
    path: str
    content: str
    is_error: bool
    edited: bool
    diff: str  # unified diff of this one edit ('' for view and errors)


class _Refusal(Exception):
    """A bad call: the message is told to the model."""


@dataclass
class _Text:
    """A file's text as the model works on it (LF newlines) and how to write it back."""

    raw: str
    work: str
    crlf: bool

    @classmethod
    def of(cls, raw: str) -> _Text:
        crlf = "\r\n" in raw and raw.count("\r\n") == raw.count("\n")
        return cls(raw, raw.replace("\r\n", "\n") if crlf else raw, crlf)

    def model(self, text: str) -> str:
        """The model's text in the file's working form (it always thinks in LF)."""
        return text.replace("\r\n", "\n") if self.crlf or "\r" not in self.raw else text

    def restore(self, work: str) -> str:
        return work.replace("\n", "\r\n") if self.crlf else work

    def lines(self) -> list[str]:
        return _lines(self.work)


def _lines(work: str) -> list[str]:
    if not work:
        return []
    lines = work.split("\n")
    if work.endswith("\n"):
        lines.pop()
    return lines


def _numbered(lines: list[str], first: int) -> str:
    return "\n".join(f"{first + i:6}\t{line}" for i, line in enumerate(lines))


def _require_str(tool_input: dict[str, Any], key: str, hint: str = "") -> str:
    value = tool_input.get(key)
    if value is None:
        raise _Refusal(f"missing required parameter {key!r}{hint}")
    if not isinstance(value, str):
        raise _Refusal(f"parameter {key!r} must be a string, not {type(value).__name__}")
    return value


def _check_shape(command: str, tool_input: dict[str, Any], max_edit_bytes: int) -> None:
    """Refuse keys the command does not take, text that cannot be a text file's (NUL, a lone
    surrogate) and text larger than the configured cap — before anything touches the stage."""
    extra = sorted(str(k) for k in tool_input if k not in PARAMETERS[command])
    if extra:
        takes = ", ".join(PARAMETERS[command][1:])
        raise _Refusal(
            f"unexpected parameter(s) {', '.join(map(repr, extra))} for {command}; it takes {takes}"
        )
    for key, value in tool_input.items():
        if not isinstance(value, str):
            continue
        try:
            size = len(value.encode("utf-8"))
        except UnicodeEncodeError:
            raise _Refusal(
                f"parameter {key!r} holds invalid Unicode (a lone surrogate); send valid UTF-8 text"
            ) from None
        if "\x00" in value:
            raise _Refusal(f"parameter {key!r} contains a NUL character; this tool handles text files only")
        if key == "path" and (problem := path_problem(value)):
            raise _Refusal(f"path is too long: expected {problem}")
        if key in TEXT_PARAMETERS and size > max_edit_bytes:
            raise _Refusal(
                f"{key} is {size:,} bytes, over the limit of {max_edit_bytes:,} (session.max_edit_bytes); "
                "make the change in smaller edits"
            )


def _require_int(value: object, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Refusal(f"parameter {key!r} must be an integer, not {type(value).__name__}")
    return value


class EditorTool:
    """Runs `str_replace_based_edit_tool` commands against one stage."""

    def __init__(
        self, stage: AnyStage, max_characters: int | None = None, max_edit_bytes: int = DEFAULT_MAX_EDIT_BYTES
    ) -> None:
        if max_characters is not None and max_characters < 1:
            raise ValueError("max_characters must be positive")
        if max_edit_bytes < 1:
            raise ValueError("max_edit_bytes must be positive")
        self.stage = stage
        self.max_characters = max_characters
        self.max_edit_bytes = max_edit_bytes
        self._handlers: dict[str, Callable[[dict[str, Any], Path, str], ToolOutcome]] = {
            "view": self._view,
            "create": self._create,
            "str_replace": self._str_replace,
            "insert": self._insert,
        }

    @property
    def definition(self) -> dict[str, Any]:
        """The tool entry for the request, announcing the truncation limit when there is one."""
        if self.max_characters is None:
            return dict(TOOL_DEFINITION)
        return {**TOOL_DEFINITION, "max_characters": self.max_characters}

    def execute(self, tool_input: dict[str, Any]) -> ToolOutcome:
        """Run one call; bad input comes back as an `is_error` outcome, never as an exception."""
        command, shown = "", ""
        try:
            if not isinstance(tool_input, dict):
                raise _Refusal("the tool input must be a JSON object")
            raw_command = tool_input.get("command")
            command = raw_command if isinstance(raw_command, str) else ""
            raw_path = tool_input.get("path")
            shown = raw_path if isinstance(raw_path, str) else ""
            if raw_command == "undo_edit":
                raise _Refusal(
                    "undo_edit is not available in text_editor_20250728; to revert an edit, "
                    "use str_replace (or create) to put the previous text back"
                )
            handler = self._handlers.get(command)
            if handler is None:
                raise _Refusal(f"unknown command {raw_command!r}; use one of: {', '.join(COMMANDS)}")
            path = _require_str(tool_input, "path")
            _check_shape(command, tool_input, self.max_edit_bytes)
            target = self.stage.resolve(path)
            shown = self.stage.rel(path)
            return handler(tool_input, target, shown)
        except (_Refusal, PathRefused) as exc:
            message = str(exc)
        except UnicodeDecodeError:
            message = f"{shown} is not a UTF-8 text file; this tool edits text files only"
        except OSError as exc:
            message = f"{shown}: {exc.strerror or exc}"
        except (ValueError, TypeError, UnicodeError) as exc:  # malformed input no check foresaw
            message = f"the {command or 'tool'} call could not be carried out ({exc}); check its parameters"
        shown = shown.encode("utf-8", "replace").decode("utf-8")  # a lone surrogate cannot be sent back
        return ToolOutcome(command, shown, f"Error: {message}", True, False, "")

    # -- helpers -------------------------------------------------------------------------------

    def _read(self, target: Path, rel: str) -> _Text:
        if self.stage.is_dir(rel):
            raise _Refusal(f"{rel} is a directory; this command needs a file")
        if not self.stage.exists(rel):
            raise _Refusal(f"no such file: {rel} (use the create command to make a new file)")
        raw = self.stage.read_text(rel)
        if "\x00" in raw:
            raise _Refusal(f"{rel} looks binary (it contains NUL bytes); it cannot be edited")
        return _Text.of(raw)

    def _cap(self, content: str, hint: str) -> str:
        if self.max_characters is None or len(content) <= self.max_characters:
            return content
        return (
            content[: self.max_characters]
            + f"\n[truncated: showing {self.max_characters} of {len(content)} characters; {hint}]"
        )

    def _write(self, command: str, rel: str, old: str | None, new: str, message: str) -> ToolOutcome:
        self.stage.write_text(rel, new)
        return ToolOutcome(command, rel, message, False, old != new, unified_diff(rel, old, new))

    @staticmethod
    def _snippet(work: str, first: int, last: int) -> str:
        """Numbered lines first..last (1-based) with a little context, to confirm an edit."""
        lines = _lines(work)
        start = max(1, first - SNIPPET_CONTEXT)
        end = min(len(lines), max(last, first) + SNIPPET_CONTEXT)
        return _numbered(lines[start - 1 : end], start)

    # -- commands ------------------------------------------------------------------------------

    def _view(self, tool_input: dict[str, Any], target: Path, rel: str) -> ToolOutcome:
        view_range = tool_input.get("view_range")
        if self.stage.is_dir(rel):
            if view_range is not None:
                raise _Refusal(f"view_range applies to files, and {rel} is a directory")
            return ToolOutcome("view", rel, self._listing(target, rel), False, False, "")
        lines = self._read(target, rel).lines()
        first, last, note = 1, len(lines), ""
        if view_range is not None:
            first, last, note = self._range(view_range, len(lines), rel)
        content = _numbered(lines[first - 1 : last], first) + note if lines else f"{rel} is empty."
        content = self._cap(content, "use view_range to read the rest")
        return ToolOutcome("view", rel, content, False, False, "")

    @staticmethod
    def _range(view_range: object, count: int, rel: str) -> tuple[int, int, str]:
        if not isinstance(view_range, list | tuple) or len(view_range) != 2:
            raise _Refusal("view_range must be a list of two integers [start, end]")
        start = _require_int(view_range[0], "view_range[0]")
        end = _require_int(view_range[1], "view_range[1]")
        if count == 0:
            raise _Refusal(f"{rel} is empty; there are no lines to view")
        if start < 1 or start > count:
            raise _Refusal(f"view_range start {start} is out of range: {rel} has lines 1-{count}")
        if end == -1:
            return start, count, ""
        if end < start:
            raise _Refusal(f"view_range end {end} is before its start {start} (use -1 for EOF)")
        if end > count:
            return start, count, f"\n[{rel} ends at line {count}]"
        return start, end, ""

    def _listing(self, target: Path, rel: str) -> str:
        entries: list[str] = []

        def walk(folder: str, depth: int) -> None:
            for child, is_dir in self.stage.listdir(folder):  # the merged view: edits included
                base = child.rsplit("/", 1)[-1]
                if base.startswith(".") or base in IGNORED_DIRS:
                    continue
                entries.append(child + ("/" if is_dir else ""))
                if is_dir and depth < 2:
                    walk(child, depth + 1)

        walk(rel, 1)
        shown = entries[:LISTING_LIMIT]
        if len(entries) > LISTING_LIMIT:
            shown.append(f"[... {len(entries) - LISTING_LIMIT} more entries; view a subfolder]")
        where = "the project root" if rel == "." else rel
        head = f"Files and directories up to 2 levels deep in {where}, excluding hidden items:\n"
        body = "\n".join(shown) if shown else "(empty)"
        return self._cap(head + body, "view a subfolder")

    def _create(self, tool_input: dict[str, Any], target: Path, rel: str) -> ToolOutcome:
        file_text = _require_str(tool_input, "file_text")
        if rel == "." or self.stage.is_dir(rel):
            raise _Refusal(f"{rel} is a directory; create needs a file path")
        if self.stage.exists(rel):
            # As the reference tool: create never overwrites, so a mistaken path loses nothing.
            raise _Refusal(
                f"file already exists at {rel}; create does not overwrite files — "
                "use str_replace to change it, or view it first"
            )
        lines = len(_lines(file_text))
        return self._write("create", rel, None, file_text, f"Created {rel} ({lines} lines).")

    def _str_replace(self, tool_input: dict[str, Any], target: Path, rel: str) -> ToolOutcome:
        old_str = _require_str(tool_input, "old_str")
        new_str = _require_str(tool_input, "new_str", ' (send "" to delete old_str)')
        if not old_str:
            raise _Refusal("old_str must not be empty (use insert to add text)")
        text = self._read(target, rel)
        old, new = text.model(old_str), text.model(new_str)
        found = _occurrences(text.work, old)
        if not found:
            raise _Refusal(f"no match for old_str in {rel}; {_near_miss(text.work, old)}")
        if len(found) > 1:
            where = ", ".join(str(text.work.count("\n", 0, i) + 1) for i in found)
            raise _Refusal(
                f"old_str matches {len(found)} times in {rel} (starting at lines {where}); "
                "include more surrounding lines so it matches exactly once"
            )
        at = found[0]
        work = text.work[:at] + new + text.work[at + len(old) :]
        if work == text.work:
            message = "old_str and new_str are identical; nothing changed."
            return ToolOutcome("str_replace", rel, message, False, False, "")
        first = text.work.count("\n", 0, at) + 1
        last = first + new.count("\n") - (1 if new.endswith("\n") else 0)
        message = f"Edited {rel}: replaced the text at line {first}. The region now reads:\n" + self._snippet(
            work, first, last
        )
        return self._write("str_replace", rel, text.raw, text.restore(work), message)

    def _insert(self, tool_input: dict[str, Any], target: Path, rel: str) -> ToolOutcome:
        key = "insert_text" if tool_input.get("insert_text") is not None else "new_str"
        inserted = _require_str(tool_input, key, " (the text to insert: insert_text or new_str)")
        if "insert_line" not in tool_input:
            raise _Refusal("missing required parameter 'insert_line' (0 inserts at the top)")
        line = _require_int(tool_input["insert_line"], "insert_line")
        if not inserted:
            raise _Refusal(f"{key} is empty; there is nothing to insert")
        text = self._read(target, rel)
        lines = text.lines()
        if line < 0 or line > len(lines):
            raise _Refusal(
                f"insert_line {line} is out of range: {rel} has {len(lines)} lines "
                f"(0 inserts at the top, {len(lines)} at the end)"
            )
        new = text.model(inserted)
        added = _lines(new) or [""]
        trailing = text.work.endswith("\n") if text.work else new.endswith("\n")
        work = "\n".join(lines[:line] + added + lines[line:]) + ("\n" if trailing else "")
        message = (
            f"Inserted {len(added)} line(s) after line {line} of {rel}. The region now reads:\n"
            + self._snippet(work, line + 1, line + len(added))
        )
        return self._write("insert", rel, text.raw, text.restore(work), message)


def _occurrences(text: str, needle: str) -> list[int]:
    """Every start of `needle`, overlapping ones included (they make a replace ambiguous too)."""
    found, at = [], text.find(needle)
    while at != -1:
        found.append(at)
        at = text.find(needle, at + 1)
    return found


def _near_miss(work: str, old: str) -> str:
    """A hint when old_str almost matches: usually indentation or trailing spaces differ."""
    advice = "old_str must match the file exactly, including whitespace and indentation"
    probe = next((line.strip() for line in old.split("\n") if line.strip()), "")
    if not probe:
        return advice
    near = [str(n) for n, line in enumerate(work.split("\n"), 1) if line.strip() == probe]
    if not near:
        return advice + " (view the file to copy the current text)"
    lines = ", ".join(near[:5])
    return advice + f"; its first line (ignoring indentation) is at line(s) {lines}: compare there"
