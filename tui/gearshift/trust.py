"""Project trust, like direnv's `allow`: a cloned repository runs none of its own commands
until the user has seen them and said yes.

What a project's config can make gearshift execute beyond the built-in checks needs trust: each
`[validation.commands.NAME]` the config's `checks` list runs, and the interpreter of the python
checks when it lives inside the project (a committed `.venv/bin/python`, which is what gearshift
picks by default, or a `validation.python` pointing into the project). A config that needs
nothing of the kind is trusted as it is.

A trust record is keyed to the resolved project path and holds a fingerprint of exactly what
was trusted: the digest of the gearshift table (gearshift.toml, or `[tool.gearshift]` in
pyproject.toml), the interpreter's path, its target, and the target's bytes when that lies
inside the project. Any change to one of them asks again. Records live in the user's config
folder (`$XDG_CONFIG_HOME/gearshift/trust.json`, by default `~/.config/gearshift/`), never in
the project, which is the thing not yet trusted. A record file that cannot be read counts as no
trust at all, and says why.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gearshift.config import Config
from gearshift.validation.interpreter import PYTHON_CHECKS, configured_python, python_is_project_code

TRUST_FILE = "trust.json"
VERSION = 1


class TrustError(Exception):
    """The trust records cannot be read or written: one line saying which file and why."""


@dataclass(frozen=True)
class Needs:
    """What a config would run of the project's own: the exact commands and the interpreter."""

    commands: tuple[tuple[str, str], ...]  # (name, shell command) in the order they run
    interpreter: str  # "" when the python checks do not use an interpreter inside the project

    def __bool__(self) -> bool:
        return bool(self.commands or self.interpreter)

    def lines(self) -> list[str]:
        """One line per thing to trust, as shown to the user before they say yes."""
        out = [f"command {name}: {run}" for name, run in self.commands]
        if self.interpreter:
            target = os.path.realpath(self.interpreter)
            arrow = f" → {target}" if target != self.interpreter else ""
            out.append(f"interpreter {self.interpreter}{arrow}")
        return out

    def summary(self) -> str:
        return "; ".join(self.lines())


def needs(config: Config) -> Needs:
    """What of the project's own `config` would make gearshift execute."""
    validation = config.validation
    if not validation.enabled:
        return Needs((), "")
    commands = tuple(
        (name, validation.commands[name].run) for name in validation.checks if name in validation.commands
    )
    interpreter = ""
    if any(name in PYTHON_CHECKS for name in validation.checks):
        python = configured_python(config)
        if python_is_project_code(config.root, python):
            interpreter = python
    return Needs(commands, interpreter)


def fingerprint(config: Config, what: Needs) -> str:
    """sha256 over the config's digest and the interpreter (path, target, and the target's
    bytes when the project holds them: a rewritten `.venv/bin/python` script asks again)."""
    h = hashlib.sha256()
    h.update(f"config:{config.digest}\n".encode())
    for name, run in what.commands:
        h.update(f"command:{name}={run}\n".encode())
    if what.interpreter:
        target = Path(os.path.realpath(what.interpreter))
        h.update(f"interpreter:{what.interpreter}\ntarget:{target}\n".encode())
        if config.root in target.parents:
            try:
                h.update(hashlib.sha256(target.read_bytes()).hexdigest().encode())
            except OSError as exc:
                h.update(f"unreadable:{exc.strerror}".encode())
    return h.hexdigest()


def store_path(environ: dict[str, str] | os._Environ[str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "gearshift" / TRUST_FILE


def load_records(path: Path | None = None) -> dict[str, dict[str, Any]]:
    """Trusted projects by resolved path; TrustError when the file is not a trust file."""
    path = path or store_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise TrustError(f"{path}: cannot read the trust records ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TrustError(
            f"{path}: the trust records are not valid JSON ({exc}); fix or delete the file"
        ) from None
    projects = data.get("projects") if isinstance(data, dict) else None
    if not isinstance(projects, dict) or not all(isinstance(v, dict) for v in projects.values()):
        raise TrustError(f'{path}: not a gearshift trust file (no "projects" table); fix or delete the file')
    return projects


def _save_records(records: dict[str, dict[str, Any]], path: Path) -> None:
    """Write atomically, readable by the user only: a half-written file must not lose trust
    records, and other users have no business reading which projects one trusts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".trust-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"version": VERSION, "projects": records}, fh, indent=1, sort_keys=True)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Verdict:
    trusted: bool
    needs: Needs
    reason: str = ""  # why not: never trusted, changed since, or the records are unreadable


def verdict(config: Config, path: Path | None = None) -> Verdict:
    """Whether `config` may run what it needs, according to the user's records."""
    what = needs(config)
    if not what:
        return Verdict(True, what)
    try:
        record = load_records(path).get(str(config.root))
    except TrustError as exc:
        return Verdict(False, what, str(exc))
    if record is None:
        return Verdict(False, what, "not trusted yet")
    if record.get("fingerprint") != fingerprint(config, what):
        return Verdict(False, what, "its config or interpreter changed since you trusted it")
    return Verdict(True, what)


def checked(config: Config, *, once: bool = False, path: Path | None = None) -> Config:
    """`config` with `trusted` set from the records (or True for this run only, `once`)."""
    trusted = once or verdict(config, path).trusted
    return dataclasses.replace(config, trusted=trusted)


def record(config: Config, path: Path | None = None) -> Needs:
    """Trust `config` as it is now; returns what was trusted. TrustError if the records cannot
    be read (they are not overwritten) or written."""
    path = path or store_path()
    what = needs(config)
    records = load_records(path)
    records[str(config.root)] = {
        "fingerprint": fingerprint(config, what),
        "trusted": what.lines(),
        "config": config.source,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    try:
        _save_records(records, path)
    except OSError as exc:
        raise TrustError(f"{path}: cannot write the trust records ({exc.strerror or exc})") from None
    return what


def revoke(root: Path, path: Path | None = None) -> bool:
    """Forget the project's trust; False when there was none."""
    path = path or store_path()
    records = load_records(path)
    if records.pop(str(root), None) is None:
        return False
    try:
        _save_records(records, path)
    except OSError as exc:
        raise TrustError(f"{path}: cannot write the trust records ({exc.strerror or exc})") from None
    return True


def refusal(config: Config, reason: str = "") -> str:
    """The one line a headless run exits with when the config is not trusted."""
    why = f" ({reason})" if reason else ""
    return (
        f"{config.root}: the project's config runs its own code, not trusted{why}: "
        f"{needs(config).summary()} — review it, then run `gearshift trust {config.root}` "
        "(or pass --trust for this run only)"
    )
