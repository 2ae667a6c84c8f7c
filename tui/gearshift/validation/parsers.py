"""Each validator's machine output → findings, one function per format.

Every parser takes the text the tool wrote (stdout or its report file) and the folder it ran in,
and returns findings whose paths are relative to that folder and whose `raw` is the tool's own
wording for that one finding, with the folder's absolute path scrubbed out: the model mends code
better from the compiler's words than from our paraphrase, and must never see a staging path.
Parsers are strict about shape but never raise on junk: unreadable input yields no findings and
the runner falls back to the output tail, so a broken report can never pass a failing check.
Nor do they pass on a flood: a finding's message, code and each line of its raw text are cut
to 2,000 characters, and its raw text to 8,000 in all (see `bounded`), since a finding is
copied into several events, the ledger and the model's prompt — one 20 MB output line (a
minified bundle, a dumped array) must not become a 20 MB finding.

(Eight formats in one module on purpose, past the usual ~400 lines: each parser is short, they
share the path scrubbing and the bounding, and `PARSERS` is the one table the checks name.)
"""

from __future__ import annotations

import functools
import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from gearshift.validation.findings import Finding

Parser = Callable[[str, Path | str | None], list[Finding]]

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_RAW_MAX_LINES = 50


FIELD_MAX = 2_000  # characters of a message, a code, one line of raw text
RAW_MAX = 8_000  # characters of a finding's raw text: a clipped traceback of ordinary lines fits


def cap(text: str, limit: int = FIELD_MAX) -> str:
    """`text` cut to at most `limit` characters, saying so."""
    if len(text) <= limit:
        return text
    note = f"… [cut: {len(text):,} characters in all]"
    return text[: max(limit - len(note), 0)] + note


def _cap_raw(raw: str) -> str:
    """Every line capped, then the whole kept to its head and tail (where a traceback broke)."""
    if len(raw) > FIELD_MAX:
        raw = "\n".join(cap(line) for line in raw.split("\n"))
    if len(raw) <= RAW_MAX:
        return raw
    note = f"\n… [cut: {len(raw):,} characters in all]\n"
    half = (RAW_MAX - len(note)) // 2
    return raw[:half] + note + raw[len(raw) - half :]


def bounded(parse: Parser) -> Parser:
    """The parser with every finding's message, code and raw text capped (see module docs)."""

    @functools.wraps(parse)
    def wrapper(text: str, root: Path | str | None = None) -> list[Finding]:
        out = parse(text, root)
        for i, f in enumerate(out):
            if len(f.message) > FIELD_MAX or len(f.code) > FIELD_MAX or len(f.raw) > FIELD_MAX:
                out[i] = replace(f, message=cap(f.message), code=cap(f.code), raw=_cap_raw(f.raw))
        return out

    return wrapper


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


def _roots(root: Path | str | None) -> list[str]:
    if root is None:
        return []
    text = str(root).rstrip("/") or "/"
    real = os.path.realpath(text)
    return [text] if real == text else [text, real]


def relpath(path: str, root: Path | str | None) -> str:
    """`path` relative to `root` in posix form when it lies inside it; else as given."""
    if path.startswith("file://"):
        path = unquote(urlparse(path).path)
    path = path.replace("\\", "/")
    if not os.path.isabs(path):
        norm = os.path.normpath(path).replace(os.sep, "/")
        return norm
    for base in _roots(root):
        try:
            return Path(path).relative_to(base).as_posix()
        except ValueError:
            pass
        try:
            return Path(os.path.realpath(path)).relative_to(base).as_posix()
        except ValueError:
            pass
    return path


def scrub(text: str, root: Path | str | None) -> str:
    """Remove the run folder from free text, so `/tmp/stage-x/src/a.py` reads `src/a.py`."""
    for base in _roots(root):
        text = text.replace(f"file://{base}/", "").replace(f"{base}/", "")
    return text


def _inside(path: str) -> bool:
    """A relative path that stays in the project and is not a dependency."""
    return not (
        os.path.isabs(path) or path.startswith("..") or "node_modules/" in path or "site-packages/" in path
    )


def _clip(lines: list[str]) -> str:
    """Keep a traceback readable: its head (what was called) and its tail (where it broke)."""
    if len(lines) > _RAW_MAX_LINES:
        head, tail = lines[:15], lines[-(_RAW_MAX_LINES - 16) :]
        lines = [*head, f"… ({len(lines) - len(head) - len(tail)} lines omitted)", *tail]
    return "\n".join(lines).rstrip()


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _json_lines(text: str) -> Iterator[dict[str, Any]]:
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            yield obj


def _json_document(text: str) -> Any:
    """The JSON document in `text`, tolerating chatter around it (a few tries, not one per
    brace, so junk output stays cheap)."""
    text = strip_ansi(text)
    decoder = json.JSONDecoder()
    start = 0
    for _ in range(8):
        found = [i for i in (text.find("[", start), text.find("{", start)) if i >= 0]
        if not found:
            return None
        start = min(found)
        try:
            return decoder.raw_decode(text, start)[0]
        except json.JSONDecodeError:
            start += 1
    return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# --- python_compile ------------------------------------------------------------------------------


@bounded
def parse_python_compile(text: str, root: Path | str | None = None) -> list[Finding]:
    """JSON lines from the inline compile script: file, line, col, type, message, text."""
    out = []
    for obj in _json_lines(text):
        file = relpath(str(obj.get("file", "")), root) if obj.get("file") else None
        line, col = _int(obj.get("line")), _int(obj.get("col"))
        kind_name = str(obj.get("type") or "SyntaxError")
        message = str(obj.get("message", ""))
        src = str(obj.get("text") or "").rstrip("\n")
        raw = [f'  File "{file}", line {line}']
        if src.strip():
            stripped = src.lstrip()
            raw.append(f"    {stripped}")
            if col is not None:
                caret = max(col - 1 - (len(src) - len(stripped)), 0)
                raw.append("    " + " " * caret + "^")
        raw.append(f"{kind_name}: {message}")
        out.append(
            Finding(
                "python_compile", "syntax", file, line, col, kind_name, message, scrub("\n".join(raw), root)
            )
        )
    return out


# --- ruff ----------------------------------------------------------------------------------------


@bounded
def parse_ruff(text: str, root: Path | str | None = None) -> list[Finding]:
    """`ruff check --output-format json`: a list of diagnostics with 1-based locations."""
    data = _json_document(text)
    if not isinstance(data, list):
        return []
    out = []
    for d in data:
        if not isinstance(d, dict):
            continue
        file = relpath(str(d["filename"]), root) if d.get("filename") else None
        loc = d.get("location") or {}
        line, col = _int(loc.get("row")), _int(loc.get("column"))
        code = str(d.get("code") or "invalid-syntax")
        message = str(d.get("message", ""))
        raw = f"{file}:{line}:{col}: {code} {message}"
        fix = d.get("fix") or {}
        if fix.get("message"):
            raw += f"\n  help: {fix['message']}"
        out.append(Finding("ruff", "syntax", file, line, col, code, message, scrub(raw, root)))
    return out


# --- mypy ----------------------------------------------------------------------------------------


@bounded
def parse_mypy(text: str, root: Path | str | None = None) -> list[Finding]:
    """`mypy -O json`: one object per line. Errors become findings; notes are folded into the
    error they explain (older mypy prints them as separate lines, newer as `hint`).

    mypy's JSON column is 0-based except for syntax errors, which carry Python's 1-based offset.
    """
    out: list[Finding] = []
    for obj in _json_lines(text):
        file = relpath(str(obj["file"]), root) if obj.get("file") else None
        line = _int(obj.get("line"))
        column = _int(obj.get("column"))
        code = str(obj.get("code") or "misc")
        col = None
        if column is not None and column >= 0:
            col = column if code == "syntax" else column + 1
        message = str(obj.get("message", ""))
        severity = obj.get("severity", "error")
        if severity == "note":
            prev = out[-1] if out else None
            if prev is not None and prev.file == file and prev.line == line:
                out[-1] = Finding(
                    prev.check,
                    prev.kind,
                    prev.file,
                    prev.line,
                    prev.col,
                    prev.code,
                    prev.message,
                    prev.raw + f"\n{file}:{line}: note: {message}",
                )
            continue
        if severity != "error":
            continue
        raw = [f"{file}:{line}: error: {message}  [{code}]"]
        for hint in str(obj.get("hint") or "").splitlines():
            raw.append(f"{file}:{line}: note: {hint}")
        out.append(Finding("mypy", "syntax", file, line, col, code, message, scrub("\n".join(raw), root)))
    return out


# --- pytest --------------------------------------------------------------------------------------

_TB_LOCATION = re.compile(r"^(?P<file>[^\s:][^:]*):(?P<line>\d+): ?(?P<rest>.*)$")
_SUMMARY = re.compile(r"^(?P<what>FAILED|ERROR) (?P<nodeid>\S+)(?: - (?P<msg>.*))?$")


def _nodeid(classname: str, name: str, file: str | None, root: Path | str | None) -> tuple[str, str]:
    """(test id, test file) from JUnit's dotted classname; xunit1 reports also give the file."""
    parts = [p for p in classname.split(".") if p]
    if not parts:  # a collection error names the module in `name`
        mod = file or name.replace(".", "/") + ".py"
        return mod, mod
    if file is None:
        cut = len(parts)
        while cut > 1 and parts[cut - 1][:1].isupper():
            cut -= 1
        if root is not None:
            for n in range(len(parts), 0, -1):
                if Path(str(root), *parts[:n]).with_suffix(".py").is_file():
                    cut = n
                    break
        file = "/".join(parts[:cut]) + ".py"
        classes = parts[cut:]
    else:
        module = file[:-3].replace("/", ".") if file.endswith(".py") else file
        rest = classname[len(module) :].lstrip(".") if classname.startswith(module) else ""
        classes = [p for p in rest.split(".") if p]
    return "::".join([file, *classes, name]), file


@bounded
def parse_pytest_junit(text: str, root: Path | str | None = None) -> list[Finding]:
    """pytest's `--junitxml` report: one finding per failed or erroring test case.

    The location is where the exception was raised, when that is in the project (the last
    `file:line:` of the traceback), else the test itself; `code` is the test id, so two tests
    failing the same way stay two findings.
    """
    try:
        tree = ET.fromstring(text)
    except ET.ParseError:
        return []
    out = []
    for case in tree.iter("testcase"):
        for problem in list(case):
            if problem.tag not in ("failure", "error"):
                continue
            file_attr = case.get("file")
            nodeid, test_file = _nodeid(
                case.get("classname", ""),
                case.get("name", ""),
                relpath(file_attr, root) if file_attr else None,
                root,
            )
            body = scrub((problem.text or "").strip("\n"), root)
            message = _first_line(problem.get("message", ""))
            e_lines = [ln[1:].strip() for ln in body.splitlines() if ln.startswith("E ")]
            if (not message or message == "collection failure") and e_lines:
                message = e_lines[-1] if message == "collection failure" else e_lines[0]
            file, line = test_file, None
            if case.get("line", "").isdigit():
                line = int(case.get("line", "0")) + 1  # junit line attrs are 0-based
            for ln in reversed(body.splitlines()):
                m = _TB_LOCATION.match(ln)
                if m and _inside(relpath(m["file"], root)):
                    file, line = relpath(m["file"], root), int(m["line"])
                    break
            label = "FAILED" if problem.tag == "failure" else "ERROR"
            raw = f"{label} {nodeid}\n" + _clip(body.splitlines())
            out.append(
                Finding("pytest", "logic", file, line, None, nodeid, scrub(message, root), raw.rstrip())
            )
    return out


@bounded
def parse_pytest_output(text: str, root: Path | str | None = None) -> list[Finding]:
    """pytest's terminal output, for custom commands that do not write JUnit XML: the lines of
    the `short test summary info` section (`FAILED id - message`)."""
    out = []
    for ln in strip_ansi(text).splitlines():
        m = _SUMMARY.match(ln.strip())
        if not m:
            continue
        nodeid = scrub(m["nodeid"], root)
        file = nodeid.split("::", 1)[0]
        message = scrub(m["msg"] or "", root)
        out.append(Finding("pytest", "logic", file, None, None, nodeid, message, ln.strip()))
    return out


@bounded
def parse_pytest(text: str, root: Path | str | None = None) -> list[Finding]:
    if text.lstrip().startswith("<"):
        return parse_pytest_junit(text, root)
    return parse_pytest_output(text, root)


# --- tsc -----------------------------------------------------------------------------------------

_TSC = re.compile(
    r"^(?:(?P<file>.+?)\((?P<line>\d+),(?P<col>\d+)\): )?"
    r"(?P<sev>error|warning) (?P<code>TS\d+): (?P<msg>.*)$"
)


@bounded
def parse_tsc(text: str, root: Path | str | None = None) -> list[Finding]:
    """`tsc --pretty false`: `file(line,col): error TSnnnn: message`, with the elaboration of a
    chained diagnostic on the indented lines that follow; config errors carry no file."""
    out: list[Finding] = []
    current: list[str] | None = None
    head: re.Match[str] | None = None

    def close() -> None:
        if head is None or current is None or head["sev"] != "error":
            return
        file = relpath(head["file"], root) if head["file"] else None
        line = int(head["line"]) if head["line"] else None
        col = int(head["col"]) if head["col"] else None
        out.append(
            Finding(
                "tsc",
                "syntax",
                file,
                line,
                col,
                head["code"],
                scrub(head["msg"], root),
                scrub("\n".join(current), root),
            )
        )

    for ln in strip_ansi(text).splitlines():
        m = _TSC.match(ln)
        if m:
            close()
            head, current = m, [ln]
        elif current is not None and ln.startswith((" ", "\t")) and ln.strip():
            current.append(ln)
        else:
            close()
            head, current = None, None
    close()
    return out


# --- eslint --------------------------------------------------------------------------------------


@bounded
def parse_eslint(text: str, root: Path | str | None = None) -> list[Finding]:
    """`eslint --format json`: errors (severity 2) and fatal parse errors; warnings do not fail
    eslint's exit code, so they are not the model's to fix."""
    data = _json_document(text)
    if not isinstance(data, list):
        return []
    out = []
    for entry in data:
        if not isinstance(entry, dict):
            continue
        file = relpath(str(entry.get("filePath", "")), root) or None
        for msg in entry.get("messages") or []:
            if not isinstance(msg, dict) or (msg.get("severity") != 2 and not msg.get("fatal")):
                continue
            line, col = _int(msg.get("line")), _int(msg.get("column"))
            rule = msg.get("ruleId")
            code = str(rule) if rule else ("fatal" if msg.get("fatal") else "eslint")
            message = str(msg.get("message", ""))
            tag = f"[Error/{rule}]" if rule else "[Error]"
            raw = f"{file}:{line}:{col}: {message} {tag}"
            out.append(
                Finding("eslint", "syntax", file, line, col, code, scrub(message, root), scrub(raw, root))
            )
    return out


# --- vitest --------------------------------------------------------------------------------------

_FRAME = re.compile(
    r"^\s*at (?:.*? \()?(?P<path>(?:file://)?/[^():]+|[^\s():]+):(?P<line>\d+):(?P<col>\d+)\)?$"
)


@bounded
def parse_vitest(text: str, root: Path | str | None = None) -> list[Finding]:
    """vitest's JSON reporter: a finding per failed test (located at the first stack frame in
    the project, else at the test) and per test file that failed to load at all."""
    data = _json_document(text)
    if not isinstance(data, dict):
        return []
    out = []
    for suite in data.get("testResults") or []:
        if not isinstance(suite, dict):
            continue
        test_file = relpath(str(suite.get("name", "")), root)
        failed = [
            a
            for a in suite.get("assertionResults") or []
            if isinstance(a, dict) and a.get("status") == "failed"
        ]
        for a in failed:
            title = " > ".join([test_file, *a.get("ancestorTitles", []), str(a.get("title", ""))])
            text_ = "\n".join(str(m) for m in a.get("failureMessages") or [])
            loc = a.get("location") or {}
            file, line, col = test_file, _int(loc.get("line")), _int(loc.get("column"))
            kept, located = [], False
            for ln in text_.splitlines():
                frame = _FRAME.match(ln)
                if frame is None:
                    kept.append(ln)
                    continue
                path = relpath(frame["path"], root)
                if not _inside(path):
                    continue
                kept.append(scrub(ln, root))
                if not located:
                    file, line, col = path, int(frame["line"]), int(frame["col"])
                    located = True
            message = scrub(_first_line(text_), root)
            raw = f"FAIL  {title}\n" + _clip([scrub(k, root) for k in kept])
            out.append(Finding("vitest", "logic", file, line, col, title, message, raw))
        if not failed and suite.get("status") == "failed":
            message = scrub(_first_line(str(suite.get("message", ""))), root) or "test file failed"
            raw = f"FAIL  {test_file}\n" + scrub(str(suite.get("message", "")), root)
            out.append(Finding("vitest", "logic", test_file, None, None, test_file, message, raw.rstrip()))
    return out


# --- lines ---------------------------------------------------------------------------------------

_LINE_LOC = re.compile(r"^(?P<file>[^\s:]+\.[A-Za-z0-9]+):(?P<line>\d+)(?::(?P<col>\d+))?:?\s*(?P<msg>.*)$")
_LINES_MAX = 200


@bounded
def parse_lines(text: str, root: Path | str | None = None) -> list[Finding]:
    """Any tool's output, a finding per non-empty line (at most 200). A `file:line[:col]:`
    prefix, the convention of most compilers and linters, gives the finding its location."""
    out = []
    for ln in strip_ansi(text).splitlines():
        if not ln.strip():
            continue
        ln = cap(scrub(ln.rstrip(), root))  # cut early: one line may be megabytes
        m = _LINE_LOC.match(ln.strip())
        if m:
            out.append(
                Finding(
                    "lines",
                    "logic",
                    relpath(m["file"], root),
                    int(m["line"]),
                    int(m["col"]) if m["col"] else None,
                    "",
                    m["msg"] or ln.strip(),
                    ln,
                )
            )
        else:
            out.append(Finding("lines", "logic", None, None, None, "", ln.strip(), ln))
        if len(out) >= _LINES_MAX:
            break
    return out


PARSERS: dict[str, Parser] = {
    "python_compile": parse_python_compile,
    "ruff": parse_ruff,
    "mypy": parse_mypy,
    "pytest": parse_pytest,
    "tsc": parse_tsc,
    "eslint": parse_eslint,
    "vitest": parse_vitest,
    "lines": parse_lines,
}
