"""Run checks as subprocesses in a workdir, stream their output as events, judge the result.

Each check gets its own session (`start_new_session=True`), so its process group holds every
process it spawns — pytest workers, a dev server a test forgot to stop, vitest's pool. A timeout,
a cancellation, or simply the check's main process exiting ends with SIGKILL to that whole group:
nothing a validator started outlives the run, wherever a cancellation lands (process.py). Checks
run concurrently, as many at a time as the machine has cores; tool output goes to the UI line by
line as it arrives, and machine-readable reports are written to a temp folder outside the
workdir so the staged diff stays clean.

With a `Confinement` each check runs inside its bubblewrap sandbox (sandbox.py): the group's
first process is bwrap, whose death takes every process of the sandbox with it (a PID namespace:
`setsid` escapees included); the marker kill (reap.py) covers a sandbox that outlived its bwrap
(seen when asyncio killed bwrap alone, on a cancel during its start). Every check, sandboxed or
not, gets the allow-listed environment of checkenv.py, never the API key.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import shutil
import tempfile
import time
from collections import deque
from pathlib import Path

from gearshift.events import (
    CheckFinished,
    EventSink,
    ValidationFinished,
    ValidationLine,
    ValidationStarted,
)
from gearshift.validation import process
from gearshift.validation.checkenv import scrubbed_env
from gearshift.validation.checks import CheckSpec, missing_module, python_test_files, setup_error
from gearshift.validation.findings import CheckResult, Finding, ValidationResult
from gearshift.validation.gate import judge
from gearshift.validation.parsers import PARSERS, scrub, strip_ansi
from gearshift.validation.reap import MARKER_VAR, new_marker
from gearshift.validation.sandbox import Confinement
from gearshift.vocab import ValidationReason

TAIL_LINES = 40
EVENT_LINE_MAX = 1000  # a minified JSON report on one line must not flood the UI
_STDOUT_MAX = 32 * 1024 * 1024
_LINE_KEEP = 4 * EVENT_LINE_MAX
_SAFE = re.compile(r"[^\w.-]")
_DRAIN_S = 5.0  # how long to wait for pipes after the group is dead (a setsid'd escapee)


def _env(spec: CheckSpec, marker: str) -> dict[str, str]:
    """The allow-listed environment (no API key, no credentials) plus the check's own settings
    and the marker that finds its processes again after a setsid."""
    env = scrubbed_env(os.environ, spec.env_passthrough)
    env.pop("FORCE_COLOR", None)
    env.update(PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1", NO_COLOR="1")
    env.update(dict(spec.env))
    env[MARKER_VAR] = marker  # after spec.env: a check cannot opt out of being found
    return env


@dataclasses.dataclass
class _Output:
    """What a check printed: all of stdout (for parsers) and the last lines of both streams."""

    stdout: bytearray = dataclasses.field(default_factory=bytearray)
    tail: deque[str] = dataclasses.field(default_factory=lambda: deque(maxlen=TAIL_LINES))


async def _pump(
    stream: asyncio.StreamReader,
    out: _Output,
    keep: bool,
    emit: EventSink,
    run_id: str,
    check: str,
    show: bool = True,
    plumbing: str = "",
) -> None:
    """Forward each line as it arrives. Reads chunks, not readline(), so a line longer than
    asyncio's buffer limit cannot stall the check; only a line's head is kept for display."""
    pending = bytearray()

    def flush() -> None:
        line = strip_ansi(pending.decode("utf-8", "replace").rstrip("\r"))
        pending.clear()
        out.tail.append(line[:EVENT_LINE_MAX])
        if show and not (plumbing and plumbing in line):  # e.g. pytest's "generated xml file: /tmp/…"
            emit(ValidationLine(run_id=run_id, check=check, line=line[:EVENT_LINE_MAX]))

    while True:
        chunk = await stream.read(65536)
        if not chunk:
            if pending:
                flush()
            return
        if keep and len(out.stdout) < _STDOUT_MAX:
            out.stdout.extend(chunk)
        first, *rest = chunk.split(b"\n")
        pending.extend(first[: max(_LINE_KEEP - len(pending), 0)])
        for part in rest:
            flush()
            pending.extend(part[:_LINE_KEEP])


def _interpret(
    spec: CheckSpec,
    workdir: Path,
    exit_code: int | None,
    timed_out: bool,
    text: str,
    tail: str,
    confinement: Confinement | None = None,
) -> tuple[bool, list[Finding], str]:
    """(passed, findings, setup error) for a finished check."""
    if spec.module and exit_code not in (0, None) and f"No module named {spec.module}" in tail:
        return False, [], missing_module(spec)
    passed = exit_code == 0 and not timed_out
    if spec.parser == "pytest" and exit_code == 5 and not timed_out:
        # "No tests collected" passes only in a project that has no test files at all:
        # if it has some, the tests were lost (renamed, broken, deselected) and that fails.
        found = (
            confinement.layers.first_test_file()  # the merged tree, not the project alone
            if confinement is not None
            else next(python_test_files(workdir), None)
        )
        if found is None:
            return True, [], ""
        message = f"pytest collected no tests although the project has test files ({found}, …)"
        return False, [_about_the_check(spec, "no-tests-collected", message, tail, workdir)], ""
    if passed:
        return True, [], ""
    try:
        # A timed-out command's output lines are not findings; its tail goes with the timeout.
        parsed = [] if timed_out and spec.parser == "lines" else PARSERS[spec.parser](text, workdir)
    except Exception:  # a report we cannot read must fall back, never pass
        parsed = []
    findings = [dataclasses.replace(f, check=spec.name, kind=spec.kind) for f in parsed]
    if timed_out:
        stopped = f"{spec.name} did not finish within {spec.timeout_s:g} s and was stopped"
        findings.append(_about_the_check(spec, "timeout", stopped, tail, workdir))
    elif not findings:
        last = next((ln.strip() for ln in reversed(tail.splitlines()) if ln.strip()), "")
        message = f"{spec.name} exited with status {exit_code}" + (f": {last}" if last else "")
        findings.append(_about_the_check(spec, f"exit-{exit_code}", scrub(message, workdir), tail, workdir))
    return False, findings, ""


def _about_the_check(spec: CheckSpec, rule: str, message: str, tail: str, workdir: Path) -> Finding:
    """A finding about the check as a whole (no file, no line): it found no tests, timed out,
    or failed with nothing a parser could read; the output's tail goes with it."""
    return Finding(spec.name, spec.kind, None, None, None, rule, message, scrub(tail, workdir))


async def _execute(
    spec: CheckSpec,
    cmd: list[str] | str,
    workdir: Path,
    tmp_dir: Path,
    emit: EventSink,
    run_id: str,
    confinement: Confinement | None = None,
) -> CheckResult:
    started = time.perf_counter()
    marker = new_marker()
    env = _env(spec, marker)
    if confinement is not None:
        cmd = confinement.command(
            cmd,
            workdir=workdir,
            tmp_dir=tmp_dir,
            network=spec.network,
            python=spec.python,
            env_path=env.get("PATH", ""),
        )
    try:
        proc = await process.start(cmd, workdir, env, marker)
    except OSError as exc:
        return CheckResult(
            spec.name, spec.kind, False, [], None, 0.0, error=f"{spec.name} could not be started: {exc}"
        )
    out = _Output()
    assert proc.stdout is not None and proc.stderr is not None
    pumps = [
        # Lines naming the run's own temp folder (report files, caches) are gearshift's plumbing.
        asyncio.create_task(
            _pump(proc.stdout, out, True, emit, run_id, spec.name, spec.stream_stdout, str(tmp_dir))
        ),
        asyncio.create_task(_pump(proc.stderr, out, False, emit, run_id, spec.name, True, str(tmp_dir))),
    ]
    timed_out = False
    try:
        try:
            # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancellation that
            # lands as the check exits, and the run would go on after Ctrl+C or SIGTERM.
            async with asyncio.timeout(spec.timeout_s):
                await process.exited(proc)
        except TimeoutError:
            timed_out = True
        await process.kill_group(proc.pid, marker)  # the timed-out check, or whatever it left running
        exit_code = await process.exited(proc)
        # Not proc.wait(): a process that left the group (setsid) may hold the pipes open forever.
        _done, stuck = await asyncio.wait(pumps, timeout=_DRAIN_S)
    except BaseException:  # cancelled: kill everything, reap, close, and let the cancellation go on
        await process.to_the_end(process.stop(proc, marker, pumps))
        raise
    for p in stuck:
        p.cancel()
    process.release(proc)  # let go of pipes an escapee still holds
    duration_ms = (time.perf_counter() - started) * 1000
    text = out.stdout.decode("utf-8", "replace")
    if spec.report:
        report = tmp_dir / spec.report
        text = report.read_text("utf-8", "replace") if report.is_file() else ""
    tail = "\n".join(out.tail)
    passed, findings, error = _interpret(spec, workdir, exit_code, timed_out, text, tail, confinement)
    return CheckResult(
        spec.name,
        spec.kind,
        passed,
        findings,
        exit_code,
        duration_ms,
        timed_out=timed_out,
        error=error,
        output_tail=tail,
    )


async def _run_check(
    spec: CheckSpec,
    index: int,
    workdir: Path,
    tmp_root: Path,
    emit: EventSink,
    run_id: str,
    changed: list[str] | None,
    limit: asyncio.Semaphore,
    project: Path | None,
    confinement: Confinement | None,
) -> CheckResult:
    # a thread: the first time, asking the interpreter whether the tool is installed is a subprocess
    error = await asyncio.to_thread(setup_error, spec, workdir, project)
    if error:
        result = CheckResult(spec.name, spec.kind, False, [], None, 0.0, error=error)
    else:
        async with limit:
            tmp_dir = tmp_root / f"{index}-{_SAFE.sub('_', spec.name)}"
            tmp_dir.mkdir()
            cmd = spec.command(workdir, tmp_dir, changed)
            if cmd is None:
                result = CheckResult(
                    spec.name,
                    spec.kind,
                    True,
                    [],
                    None,
                    0.0,
                    output_tail="skipped: no changed file is one it checks",
                )
            else:
                result = await _execute(spec, cmd, workdir, tmp_dir, emit, run_id, confinement)
    emit(
        CheckFinished(
            run_id=run_id,
            check=result.name,
            kind=result.kind,
            passed=result.passed,
            findings=[f.to_dict() for f in result.findings],
            duration_ms=result.duration_ms,
            exit_code=result.exit_code,
            timed_out=result.timed_out,
            error=result.error,
        )
    )
    return result


async def run_validation(
    specs: list[CheckSpec],
    workdir: Path,
    emit: EventSink,
    *,
    run_id: str,
    task_id: str | None,
    reason: ValidationReason = "attempt",
    changed: list[str] | None = None,
    project: Path | None = None,
    confinement: Confinement | None = None,
) -> ValidationResult:
    """Run `specs` in `workdir` and judge them. `changed` (paths relative to the workdir) lets
        the cheap checks look at those files only; test runners always run whole. `project` is the
        folder named in setup messages (defaults to `workdir`). With `confinement`, every check runs in
    its sandbox, over its layers mounted at `workdir` (see sandbox.py). Cancelling the awaiting task kills
        every check's process group, emits ValidationFinished(outcome="cancelled"), and re-raises.
    """
    workdir = Path(workdir)
    emit(ValidationStarted(run_id=run_id, task_id=task_id, checks=[s.name for s in specs], reason=reason))
    limit = asyncio.Semaphore(max(1, os.cpu_count() or 1))
    tmp_root = Path(tempfile.mkdtemp(prefix="gearshift-validate-"))
    tasks = [
        asyncio.create_task(
            _run_check(spec, i, workdir, tmp_root, emit, run_id, changed, limit, project, confinement)
        )
        for i, spec in enumerate(specs)
    ]
    try:
        checks = list(await asyncio.gather(*tasks))
    except BaseException as exc:  # gather leaves siblings running on an error: stop them all
        for t in tasks:
            t.cancel()
        if tasks:  # each kills and reaps its checks; a second cancel must not cut that short
            await process.to_the_end(asyncio.wait(tasks))
        if isinstance(exc, asyncio.CancelledError):
            emit(
                ValidationFinished(
                    run_id=run_id, task_id=task_id, outcome="cancelled", findings=[], reason=reason
                )
            )
        raise
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    result = ValidationResult(run_id, judge(checks), checks)
    emit(
        ValidationFinished(
            run_id=run_id,
            task_id=task_id,
            outcome=result.outcome,
            findings=[f.to_dict() for f in result.findings],
            reason=reason,
        )
    )
    return result
