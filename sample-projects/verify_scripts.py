"""Prove the sample projects' demo scripts: every scripted edit really applies, and really passes or
fails the project's real validators the way the script says it does.

The demo recordings are generated from `demo-script/<task_id>.toml`. If a scripted `str_replace`
missed, or a "failing" edit happened to pass, the offline demo would show a story the code base
does not tell, so this script replays each task's tool uses on a scratch copy, in task order, runs
the real ruff / mypy / pytest or tsc / eslint / vitest after every attempt, and checks the outcome
against the script's `[[expect]]` tables. Token usage is not scripted: `make_recordings.py`
derives it from the requests the engine really sends (and checks the `cost_alert` marks).

A development aid for the demo data (the engine has its own tests and its own editor tool);
the editing semantics here are deliberately the plain ones the text editor tool documents.

    python sample-projects/verify_scripts.py [python-shop typescript-bookings ...] [-v]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gearshift.config import Config, load_config
from gearshift.tasks import Task, load_tasks

HERE = Path(__file__).resolve().parent
OUTCOMES = ("pass", "fail-syntax", "fail-logic", "unvalidated")
# Compile, lint and type checks are syntax-kind, test runners logic-kind (as in the engine).
LOGIC_CHECKS = {"pytest", "vitest_run"}
EDIT_COMMANDS = {"create", "str_replace", "insert"}
COPY_IGNORE = shutil.ignore_patterns(
    "node_modules", ".gearshift", "gearshift-recordings",
    "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache",
)


class ScriptError(Exception):
    """A demo script that does not do what it says; the message names the task, attempt and turn."""


@dataclass
class Attempt:
    number: int
    model: str
    calls: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Script:
    task: Task
    path: Path
    route: list[str]
    cost_alert: bool
    expect: dict[int, str]
    attempts: list[Attempt]


# ---------------------------------------------------------------------------------------------
# Reading and checking the shape of a script


def load_script(path: Path, task: Task, config: Config) -> Script:
    where = path.relative_to(HERE)
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    unknown = set(data) - {"call", "expect", "route", "batch_route", "cost_alert"}
    if unknown:
        raise ScriptError(f"{where}: unknown top-level keys {sorted(unknown)}")
    # `batch = true` calls are what a headless (batch) run gets instead; the story checked here
    # is the app's (make_recordings.py records both).
    calls = [c for c in data.get("call", []) if not c.get("batch", False)]
    if not calls:
        raise ScriptError(f"{where}: no [[call]] tables")
    attempts: list[Attempt] = []
    for i, call in enumerate(calls):
        at = f"{where}: call[{i}]"
        extra = set(call) - {"attempt", "turn", "model", "text", "tool_uses", "signoff", "batch"}
        if extra:
            raise ScriptError(f"{at}: unknown keys {sorted(extra)}")
        if config.model_by_id(call.get("model", "")) is None:
            raise ScriptError(f"{at}: model {call.get('model')!r} is not in the catalogue")
        if "tool_uses" in call and "signoff" in call:
            raise ScriptError(f"{at}: a call has tool_uses or a signoff, not both")
        n, turn = call.get("attempt"), call.get("turn")
        if not attempts or n != attempts[-1].number:
            if n != len(attempts) + 1:
                raise ScriptError(f"{at}: attempt {n} out of order (expected {len(attempts) + 1})")
            if attempts and (attempts[-1].calls[-1].get("tool_uses")):
                raise ScriptError(f"{at}: attempt {n - 1} ends with tool uses (needs a last turn)")
            attempts.append(Attempt(n, call["model"]))
        current = attempts[-1]
        if turn != len(current.calls) + 1:
            raise ScriptError(f"{at}: turn {turn} out of order (expected {len(current.calls) + 1})")
        if call["model"] != current.model:
            raise ScriptError(f"{at}: model changes inside attempt {n}")
        if current.calls and not current.calls[-1].get("tool_uses"):
            raise ScriptError(f"{at}: turn {turn} follows a turn without tool uses")
        current.calls.append(call)
    if attempts[-1].calls[-1].get("tool_uses"):
        raise ScriptError(f"{where}: the last attempt ends with tool uses (needs a last turn)")

    # The route lists the attempts that write code; a sign-off is reported beside it, as the
    # engine's summary does (`route` plus `signoff`).
    writers = [a.model for a in attempts if not any("signoff" in c for c in a.calls)]
    route = data.get("route")
    if route != writers:
        raise ScriptError(f"{where}: route {route} but the writing attempts use {writers}")
    expect: dict[int, str] = {}
    for e in data.get("expect", []):
        if e.get("outcome") not in OUTCOMES:
            raise ScriptError(f"{where}: expect outcome {e.get('outcome')!r} not in {OUTCOMES}")
        expect[e["attempt"]] = e["outcome"]
    if sorted(expect) != [a.number for a in attempts]:
        raise ScriptError(f"{where}: needs one [[expect]] per attempt, has {sorted(expect)}")
    if expect[attempts[-1].number] not in ("pass", "unvalidated"):
        raise ScriptError(f"{where}: the last attempt must leave the project passing")
    return Script(task, path, route, bool(data.get("cost_alert", False)), expect, attempts)



def check_route(script: Script, config: Config) -> None:
    """The first model must be the one the configured rules pick (the seed's base score plus
    gearshift's rules); a later attempt is a correction, an escalation or a sign-off."""
    task, routing = script.task, config.routing
    score = {"multi-module": 0.3, "architecture": 0.5, "security": 0.6}.get(task.scope, 0.0)
    score += 0.2 if len(task.context_files) > 10 else 0.0
    default, escalation = config.default_model.id, config.escalation_model.id
    if task.scope in routing.signoff_scopes:
        first = default
    elif task.scope in routing.always_escalate_scopes or score >= routing.complexity_threshold:
        first = escalation
    else:
        first = default
    slow = config.escalation_model.typical_latency_ms > routing.max_latency_ms
    if task.interactive and routing.interactive_fallback and slow:
        first = default
    if script.route[0] != first:
        raise ScriptError(f"{task.id}: route starts with {script.route[0]}, the rules pick {first}")
    last = script.attempts[-1]
    signed = any("signoff" in c for c in last.calls)
    if task.scope in routing.signoff_scopes and not (signed and last.model == escalation):
        raise ScriptError(f"{task.id}: a sign-off scope must end with an {escalation} sign-off")
    if signed and task.scope not in routing.signoff_scopes:
        raise ScriptError(f"{task.id}: a sign-off, but {task.scope} is not in signoff_scopes")


# ---------------------------------------------------------------------------------------------
# Applying tool uses


def apply_tool_use(root: Path, use: dict[str, Any], at: str) -> bool:
    """Apply one text editor command to `root`; True when it changed a file. A review's tools
    (`tool = "view_file"` / `"record_finding"`) change nothing; a finding must point at lines
    that exist."""
    if use.get("tool") == "record_finding":
        path = root / use["file"]
        count = len(path.read_text().splitlines()) if path.is_file() else -1
        if not 1 <= use["start_line"] <= use["end_line"] <= count:
            raise ScriptError(f"{at}: finding at {use['file']}:{use['start_line']}-{use['end_line']} (file has {count} lines)")
        return False
    command, rel = ("view" if use.get("tool") == "view_file" else use.get("command")), use.get("path", "")
    path = (root / rel).resolve()
    if Path(rel).is_absolute() or not path.is_relative_to(root.resolve()):
        raise ScriptError(f"{at}: path {rel!r} leaves the project")
    if command == "view":
        if not path.exists():
            raise ScriptError(f"{at}: view of missing {rel}")
        return False
    if command == "create":
        if path.exists():
            raise ScriptError(f"{at}: create over existing {rel} (use str_replace)")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(use["file_text"])
        return True
    if not path.is_file():
        raise ScriptError(f"{at}: {command} on missing {rel}")
    text = path.read_text()
    if command == "str_replace":
        count = text.count(use["old_str"])
        if count != 1:
            raise ScriptError(f"{at}: str_replace old_str matches {count} times in {rel}")
        path.write_text(text.replace(use["old_str"], use.get("new_str", "")))
        return True
    if command == "insert":
        lines = text.splitlines(keepends=True)
        n = use["insert_line"]
        if not 0 <= n <= len(lines):
            raise ScriptError(f"{at}: insert_line {n} outside 0..{len(lines)} of {rel}")
        new = use.get("insert_text", use.get("new_str", ""))
        if not new.endswith("\n"):
            new += "\n"
        path.write_text("".join(lines[:n]) + new + "".join(lines[n:]))
        return True
    raise ScriptError(f"{at}: unknown command {command!r}")


# ---------------------------------------------------------------------------------------------
# Validators: the real tools, run in the scratch copy


def validator_commands(root: Path) -> dict[str, list[str]]:
    py = sys.executable
    bin_ = root / "node_modules" / ".bin"
    return {
        "python_compile": [py, "-m", "compileall", "-q", "-x", r"node_modules|\.gearshift", "."],
        "ruff": [py, "-m", "ruff", "check", "--no-cache", "."],
        "mypy": [py, "-m", "mypy", "--cache-dir", os.devnull],
        "pytest": [py, "-m", "pytest", "-q"],
        "typescript_compile": [str(bin_ / "tsc"), "--noEmit", "-p", "."],
        "eslint_strict": [str(bin_ / "eslint"), "--max-warnings", "0", "."],
        "vitest_run": [str(bin_ / "vitest"), "run"],
    }


@dataclass
class Verdict:
    outcome: str
    failed: dict[str, str]


def validate(root: Path, checks: tuple[str, ...]) -> Verdict:
    commands = validator_commands(root)
    failed: dict[str, str] = {}
    env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0", "PYTHONDONTWRITEBYTECODE": "1"}
    for check in checks:
        proc = subprocess.run(
            commands[check], cwd=root, capture_output=True, text=True, env=env, timeout=300
        )
        if proc.returncode != 0:
            failed[check] = (proc.stdout + proc.stderr).strip()
    if any(c not in LOGIC_CHECKS for c in failed):
        return Verdict("fail-syntax", failed)
    return Verdict("fail-logic" if failed else "pass", failed)


def summarize(output: str, limit: int = 6) -> list[str]:
    """The lines of a failing tool's output that say what failed."""
    lines = [ln.rstrip() for ln in output.splitlines()]
    for marks in (("FAILED ",), ("error", "Error", "F401", " FAIL ", "×", "-->")):
        picked = [ln for ln in lines if any(m in ln for m in marks)]
        if picked:
            return picked[:limit]
    return lines[:limit]


# ---------------------------------------------------------------------------------------------
# One project


def attempt_kind(number: int, model: str, previous_model: str | None, calls: list[Any]) -> str:
    if number == 1:
        return "initial"
    if any("signoff" in c for c in calls):
        return "signoff"
    return "correction" if model == previous_model else "escalation"


def route_label(script: Script, config: Config) -> str:
    names = [config.model(m).label.split()[0] for m in script.route]
    label = f"[{', '.join(names)}]"
    last = script.attempts[-1]
    if any("signoff" in c for c in last.calls):
        label += f"+{config.model(last.model).label.split()[0]} sign-off"
    return label


def verify_project(name: str, opts: argparse.Namespace) -> list[str]:
    """Replay every task of `name`; the problems found (none when all expectations hold)."""
    project = HERE / name
    config = load_config(project)
    tasks = load_tasks(project / "tasks.toml")
    checks = config.validation.checks
    problems: list[str] = []
    print(f"== {name}: {len(tasks)} tasks, checks {', '.join(checks)}")
    with tempfile.TemporaryDirectory(prefix=f"verify-{name}-") as tmp:
        root = Path(opts.keep or tmp) / name
        if opts.keep:
            shutil.rmtree(root, ignore_errors=True)
            print(f"   working in {root} (kept)")
        shutil.copytree(project, root, ignore=COPY_IGNORE)
        if (project / "package.json").exists():
            if not (project / "node_modules").is_dir():
                return [f"{name}: node_modules is missing; run `npm ci` in {project}"]
            (root / "node_modules").symlink_to(project / "node_modules")
        baseline = validate(root, checks)
        print(f"   baseline: {baseline.outcome}")
        if baseline.outcome != "pass":
            return [f"{name}: the project does not pass its own validators: {baseline.failed}"]
        seen_scripts = {p.stem for p in (project / "demo-script").glob("*.toml")}
        for task in tasks:
            seen_scripts.discard(task.id)
            try:
                script = load_script(project / "demo-script" / f"{task.id}.toml", task, config)
                check_route(script, config)
                problems += run_task(script, root, checks, opts)
            except (ScriptError, FileNotFoundError, KeyError, tomllib.TOMLDecodeError) as exc:
                problems.append(f"{task.id}: {exc}")
                print(f"   {task.id}: ERROR {exc}")
                break
            print(f"   {task.id:28} {route_label(script, config)}")
        if seen_scripts:
            problems.append(f"{name}: scripts without a task: {sorted(seen_scripts)}")
        final = validate(root, checks)
        print(f"   final state: {final.outcome}")
        if final.outcome != "pass":
            problems.append(f"{name}: final state fails {sorted(final.failed)}")
    return problems


def run_task(
    script: Script, root: Path, checks: tuple[str, ...], opts: argparse.Namespace
) -> list[str]:
    """Replay one task attempt by attempt; check each attempt's validation outcome."""
    problems: list[str] = []
    task = script.task
    previous_model: str | None = None
    for attempt in script.attempts:
        kind = attempt_kind(attempt.number, attempt.model, previous_model, attempt.calls)
        previous_model = attempt.model
        edits = 0
        for call in attempt.calls:
            at = f"{task.id} attempt {attempt.number} turn {call['turn']}"
            for use in call.get("tool_uses", []):
                edits += apply_tool_use(root, use, at)
        want = script.expect[attempt.number]
        if want == "unvalidated":
            if (task.requires_validation and not task.is_review) or edits:
                problems.append(f"{task.id}: 'unvalidated' means no validation and no edits")
            verdict = Verdict("unvalidated", {})
        else:
            verdict = validate(root, checks)
        got = verdict.outcome
        mark = "ok " if got == want else "BAD"
        print(f"   {mark} {task.id} attempt {attempt.number} ({kind}, {attempt.model}, "
              f"{len(attempt.calls)} calls, {edits} edits): {got} (expected {want})")
        for check, output in verdict.failed.items():
            for line in summarize(output, 40 if opts.verbose else 6):
                print(f"         {check}: {line}")
        if got != want:
            problems.append(f"{task.id} attempt {attempt.number}: {got}, expected {want}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("projects", nargs="*", help="folders under sample-projects/ (default: all)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show more validator output")
    parser.add_argument("--keep", metavar="DIR", help="replay in DIR/<project> and keep it")
    args = parser.parse_args(argv)
    names = args.projects or sorted(
        p.name for p in HERE.iterdir() if (p / "tasks.toml").is_file() and (p / "demo-script").exists()
    )
    problems: list[str] = []
    for name in names:
        problems += verify_project(name, args)
    if problems:
        print("\nFAILED:")
        for p in problems:
            print(f" - {p}")
        return 1
    print(f"\nall expectations hold ({', '.join(names)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
