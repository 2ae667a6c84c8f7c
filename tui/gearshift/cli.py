"""The `gearshift` command: the app, the headless runner, and the tools around them.

    gearshift [PROJECT]                      open the app (default: the current folder)
    gearshift run PROJECT --headless ...     run the task queue with no UI
    gearshift report [PROJECT] ...           what the ledger says
    gearshift tune [PROJECT] ...             the complexity threshold: per band, and what another would do
    gearshift init [PROJECT]                 write a starting gearshift.toml
    gearshift context PROJECT --files ...    show a context selection without calling a model
    gearshift demo [python|typescript]       open the app on a scratch copy of a sample project
    gearshift trust [PROJECT]                allow the project's own commands (--revoke, --list)
    gearshift --version                      print the version

Each command explains its options with --help (e.g. `gearshift report --help`).

Heavy imports (the SDK, Textual) happen inside the commands that need them, so `report`,
`init` and `context` start instantly. Usage and configuration mistakes exit with status 2 and
one line on stderr — never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gearshift.config import ConfigError, load_config
from gearshift.ledger import LedgerError
from gearshift.redact import redact
from gearshift.startup import RECORDINGS_DIR, UsageError
from gearshift.startup import gateway_for as _gateway
from gearshift.startup import tasks_for as _tasks_for
from gearshift.trust import TrustError

if TYPE_CHECKING:
    from gearshift.config import Config
    from gearshift.tasks import Task

COMMANDS = ("run", "report", "tune", "init", "context", "demo", "trust")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def _project(path: str | None) -> Path:
    root = Path(path or ".").resolve()
    if not root.is_dir():
        raise UsageError(f"{root}: no such project folder")
    state = root / ".gearshift"
    if state.exists() and not state.is_dir():
        raise UsageError(
            f"{state} is a file, not a folder: gearshift keeps its ledger and journals there — move the file aside"
        )
    ledger = state / "ledger.db"
    if ledger.is_dir():
        raise UsageError(f"{ledger} is a folder, not the ledger: move it aside and gearshift starts a new ledger")
    return root


def _add_model_source(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--record", metavar="DIR", help="save every model stream to DIR (needs ANTHROPIC_API_KEY)"
    )
    group.add_argument("--replay", metavar="DIR", help="answer calls from recorded streams in DIR")
    p.add_argument("--speed", type=float, default=1.0, help="replay pace factor (default 1.0 = as recorded)")
    p.add_argument("--instant", action="store_true", help="replay at full speed")


def cmd_run(argv: list[str]) -> int:
    p = _Parser(prog="gearshift run", description="Run a project's task queue.")
    p.add_argument("project", help="the project folder")
    p.add_argument("--tasks", metavar="FILE", help="tasks file (default: PROJECT/tasks.toml)")
    p.add_argument("--headless", action="store_true", help="no UI: print events")
    p.add_argument(
        "--json", action="store_true", help="with --headless: one JSON object per event, then a summary line"
    )
    p.add_argument(
        "--auto-approve",
        action="store_true",
        help="with --headless: apply validated changes to the project's files",
    )
    p.add_argument(
        "--escalate",
        choices=("auto", "never"),
        default=None,
        help="with --headless: what to do when escalation is proposed (default auto)",
    )
    p.add_argument(
        "--trust", action="store_true", help="run the project's own commands this once, without recording trust"
    )
    p.add_argument(
        "--sarif", metavar="FILE", help="with --headless: write every review finding as a SARIF 2.1.0 log to FILE"
    )
    _add_model_source(p)
    args = p.parse_args(argv)
    if not args.headless:  # the app asks the person instead
        for flag, used in (
            ("--json", args.json),
            ("--auto-approve", args.auto_approve),
            ("--escalate", args.escalate),
            ("--sarif", args.sarif),
        ):
            if used:
                raise UsageError(f"gearshift run: {flag} needs --headless (the app asks you instead)")
    escalate = args.escalate or "auto"
    root = _project(args.project)
    sarif = Path(args.sarif).resolve() if args.sarif else None
    if sarif is not None and not sarif.parent.is_dir():
        raise UsageError(f"gearshift run: --sarif {args.sarif}: no such folder {sarif.parent}")
    config = load_config(root)
    tasks = _tasks_for(root, args.tasks)
    speed = 0.0 if args.instant else args.speed
    if not args.headless:
        from gearshift.ui.launch import launch

        return launch(
            root,
            tasks_file=args.tasks,
            record=args.record,
            replay=args.replay,
            speed=speed,
            run_all=True,
            trust_once=args.trust,
        )
    from gearshift.headless import run_headless

    if not tasks:  # most likely a mistake (a wrong --tasks path, tables not yet written)
        where = args.tasks or str(root / "tasks.toml")
        raise UsageError(f"gearshift run: {where} has no [[task]] tables: nothing to run")
    config = _trusted_or_stop(config, once=args.trust)
    _stop_if_checks_cannot_run(config, tasks)
    try:
        gateway = _gateway(root, args.record, args.replay, speed)
    except ValueError as exc:  # --record without a key, a missing replay folder, ...
        raise UsageError(str(exc)) from None
    if not gateway.has_credentials:  # known before any call: no task is routed, no call booked
        from gearshift.models.call import NO_KEY_MESSAGE

        raise UsageError(f"gearshift run: {NO_KEY_MESSAGE} (no recordings in {root / RECORDINGS_DIR} either)")
    from gearshift.signals import Stopped, say_stopped, until_stopped

    try:
        run = run_headless(
            config,
            tasks,
            gateway,
            as_json=args.json,
            auto_approve=args.auto_approve,
            escalate=escalate,
            sarif=sarif,
        )
        return asyncio.run(until_stopped(run))
    except Stopped as exc:  # SIGTERM / SIGHUP, handled like Ctrl+C (130): 143 / 129
        return say_stopped(exc)


def _trusted_or_stop(config: Config, *, once: bool) -> Config:
    """Headless, nobody can be asked: an untrusted config stops the run before any model call
    and before preflight runs any interpreter of the project's."""
    from gearshift import trust

    if not once:
        verdict = trust.verdict(config)
        if not verdict.trusted:
            raise UsageError(f"gearshift run: {trust.refusal(config, verdict.reason)}")
    return trust.checked(config, once=True)  # trusted: by the records, or for this run


def _stop_if_checks_cannot_run(config: Config, tasks: list[Task]) -> None:
    """A headless run whose validators cannot start (node_modules or the interpreter missing)
    would fail every task with the same setup message: say it once, up front, as bad input."""
    from gearshift.validation.checks import preflight, resolve_checks
    from gearshift.validation.sandbox import choose

    if not config.validation.enabled or not any(t.requires_validation for t in tasks):
        return
    sandbox = choose(config.validation.sandbox)  # probed once: the session reuses the answer
    if sandbox.refused:
        raise UsageError(f"gearshift run: {sandbox.describe()}")
    problems = preflight(resolve_checks(config, config.root), config.root)
    if problems:
        hint = ""
        if config.source == "(defaults)":  # the template's checks are TypeScript ones
            hint = (
                f" (there is no gearshift.toml, so the default checks ran: `gearshift init {config.root}` "
                "writes one with the validators your project has)"
            )
        raise UsageError(f"gearshift run: {problems[0].name} cannot run: {problems[0].error}{hint}")


def _ledger_of(root: Path):
    from gearshift.ledger import Ledger

    db = root / ".gearshift" / "ledger.db"
    if not db.is_file():
        raise UsageError(f"{root}: no ledger yet ({db} does not exist) — run some tasks first")
    return Ledger(db)


def cmd_tune(argv: list[str]) -> int:
    from gearshift.tune import build_tune, format_tune

    p = _Parser(
        prog="gearshift tune",
        description=(
            "Per complexity band and scope: pass and escalation rates and cost by route; then what "
            "thresholds 0.30–0.95 would cost and pass, and the cheapest that keeps today's pass rate."
        ),
    )
    p.add_argument("project", nargs="?")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output format (default table)")
    args = p.parse_args(argv)
    root = _project(args.project)
    config = load_config(root)
    ledger = _ledger_of(root)
    try:
        print(format_tune(build_tune(ledger, config), args.format))
    finally:
        ledger.close()
    return 0


def cmd_report(argv: list[str]) -> int:
    from gearshift.report import GROUPINGS, build_report, format_report

    p = _Parser(prog="gearshift report", description="Spend, escalation rate and latency from the ledger.")
    p.add_argument("project", nargs="?", help="the project folder (default: the current folder)")
    p.add_argument(
        "--by",
        choices=GROUPINGS,
        default="model",
        help="group spend, escalation rate and latency by model (default), by each configured tag "
        "([cost_tracking] tags), by the task_type tag, or by arm (the [routing.experiment] arms compared)",
    )
    p.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default="table",
        help="a table for people, JSON or CSV for scripts and spreadsheets (default: table)",
    )
    args = p.parse_args(argv)
    root = _project(args.project)
    config = load_config(root)
    tags = config.cost_tracking.tags  # "by tag" reports on the tags the team chose
    ledger = _ledger_of(root)
    try:
        if args.by == "arm":
            from gearshift.experiment_report import arm_report, format_arm_report

            print(format_arm_report(arm_report(ledger, config), args.format))
        else:
            report = build_report(ledger, by=args.by, tags=tags, escalation_label=config.escalation_model.label)
            print(format_report(report, args.format))
    finally:
        ledger.close()
    return 0


def cmd_init(argv: list[str]) -> int:
    from gearshift.initproject import detect_checks, init_project

    p = _Parser(prog="gearshift init", description="Write a starting gearshift.toml.")
    p.add_argument(
        "project", nargs="?", help="the project folder, created if missing (default: the current folder)"
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing gearshift.toml")
    args = p.parse_args(argv)
    root = Path(args.project or ".").resolve()
    if not root.exists():  # `gearshift init newdir` starts a new project
        try:
            root.mkdir(parents=True)
        except OSError as exc:
            raise UsageError(f"gearshift init: cannot create {root}: {exc.strerror}") from None
        print(f"created {root}")
    root = _project(str(root))
    try:
        written = init_project(root, force=args.force)
    except FileExistsError as exc:
        raise UsageError(str(exc)) from None
    for path in written:
        print(f"wrote {path}")
    print(f"validators detected: {', '.join(detect_checks(root)) or 'none'}")
    return 0


def cmd_context(argv: list[str]) -> int:
    from gearshift.context.command import main as context_main

    return context_main(argv)


def cmd_demo(argv: list[str]) -> int:
    from gearshift.demo import open_demo

    p = _Parser(
        prog="gearshift demo", description="Open the app on a scratch copy of a sample project, offline."
    )
    p.add_argument("sample", nargs="?", default="python", help="python or typescript (default: python)")
    p.add_argument("--instant", action="store_true", help="replay the recordings at full speed")
    args = p.parse_args(argv)
    return open_demo(args.sample, speed=0.0 if args.instant else 1.0)


def cmd_trust(argv: list[str]) -> int:
    from gearshift import trust

    p = _Parser(
        prog="gearshift trust",
        description="Allow a project's own commands and interpreter to run (recorded in your config folder).",
    )
    p.add_argument("project", nargs="?")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--revoke", action="store_true", help="forget the project's trust")
    group.add_argument("--list", action="store_true", help="list the trusted projects")
    args = p.parse_args(argv)
    if args.list:
        if args.project:
            raise UsageError("gearshift trust: --list takes no project")
        records = trust.load_records()
        if not records:
            print(f"no trusted projects ({trust.store_path()})")
        for trusted_root, entry in sorted(records.items()):
            print(f"{trusted_root}  (trusted {entry.get('at', '?')})")
            for line in entry.get("trusted", []):
                print(f"    {line}")
        return 0
    root = _project(args.project)
    if args.revoke:
        gone = trust.revoke(root)
        print(f"{root}: trust revoked" if gone else f"{root}: was not trusted")
        return 0
    config = load_config(root)
    what = trust.needs(config)
    if not what:
        print(f"{root}: nothing to trust — its config runs only built-in checks with an interpreter outside the project")
        return 0
    trust.record(config)
    print(f"{root}: trusted ({config.source}). From now on gearshift runs:")
    for line in what.lines():
        print(f"    {line}")
    print(f"Any change to these asks again. Recorded in {trust.store_path()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in COMMANDS:
            command = {
                "run": cmd_run,
                "report": cmd_report,
                "tune": cmd_tune,
                "init": cmd_init,
                "context": cmd_context,
                "demo": cmd_demo,
                "trust": cmd_trust,
            }[argv[0]]
            return command(argv[1:])
        if argv and argv[0] in ("-h", "--help"):
            print(__doc__)
            return 0
        if argv and argv[0] in ("-V", "--version"):
            from gearshift import __version__

            print(f"gearshift {__version__}")
            return 0
        p = _Parser(prog="gearshift", description="Open the gearshift app on a project.")
        p.add_argument("project", nargs="?", help="the project folder (default: the current folder)")
        p.add_argument("--tasks", metavar="FILE", help="tasks file (default: PROJECT/tasks.toml)")
        _add_model_source(p)
        args = p.parse_args(argv)
        root = _project(args.project)
        load_config(root)
        from gearshift.ui.launch import launch

        return launch(
            root,
            tasks_file=args.tasks,
            record=args.record,
            replay=args.replay,
            speed=0.0 if args.instant else args.speed,
        )
    except (ConfigError, UsageError, LedgerError, TrustError) as exc:
        message = redact(str(exc))  # a subcommand's own errors already start with its name
        print(message if message.startswith("gearshift") else f"gearshift: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
