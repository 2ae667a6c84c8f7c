"""Which checks a project runs, and the exact command each one is for a given staged copy.

A `CheckSpec` is plain data so the runner stays tool-agnostic: it substitutes `{report}` (a
file in a temp dir outside the workdir, where machine output goes) and `{targets}` (the whole
project, or only the changed files for the checks that are cheap to narrow), then runs it.
Tools are told not to leave caches in the staged copy, because whatever they write there would
show up in the diff the user reviews.
"""

from __future__ import annotations

import configparser
import dataclasses
import os
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gearshift.config import Config
from gearshift.validation.findings import CheckResult
from gearshift.validation.interpreter import (  # noqa: F401  (re-exported: checks' vocabulary)
    PYTHON_CHECKS,
    configured_python,
    project_python,
    python_is_project_code,
)
from gearshift.vocab import CheckKind

# Folders no check should look into: environments, dependencies, tool state, build output.
SKIP_DIRS = frozenset({".venv", "venv", "node_modules", ".git", ".gearshift", "__pycache__", "build", "dist"})

# Run by the project's own interpreter, because what is valid syntax depends on its version.
# Prints one JSON object per file that does not compile; exits 1 if any did. compile() writes
# no bytecode. Hidden folders and other virtualenvs (a pyvenv.cfg inside) are skipped too.
COMPILE_SCRIPT = """\
import json, os, sys, warnings
warnings.simplefilter("ignore")
SKIP = set(@SKIP@)
def walk():
    for top, dirs, files in os.walk("."):
        dirs[:] = sorted(d for d in dirs if d not in SKIP and not d.startswith(".")
                         and not os.path.exists(os.path.join(top, d, "pyvenv.cfg")))
        for f in sorted(files):
            if f.endswith(".py"):
                yield os.path.relpath(os.path.join(top, f))
bad = 0
for path in sys.argv[1:] or walk():
    try:
        with open(path, "rb") as fh:
            compile(fh.read(), path, "exec", dont_inherit=True)
    except SyntaxError as e:
        bad += 1
        print(json.dumps({"file": path, "line": e.lineno, "col": e.offset, "type":
                          type(e).__name__, "message": e.msg, "text": e.text or ""}))
    except (ValueError, OSError) as e:
        bad += 1
        print(json.dumps({"file": path, "line": None, "col": None, "type": type(e).__name__,
                          "message": str(e), "text": ""}))
sys.exit(1 if bad else 0)
""".replace("@SKIP@", repr(sorted(SKIP_DIRS)))

PY_SUFFIXES = (".py", ".pyi")
JS_SUFFIXES = (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts", ".vue", ".svelte")
NODE_PACKAGES = {"tsc": "typescript", "eslint": "eslint", "vitest": "vitest"}


@dataclass(frozen=True)
class CheckSpec:
    """One check, ready to run in one workdir.

    Exactly one of `argv` (run directly) and `shell` (a custom command, run by /bin/sh) is set.
    In `argv`, `{report}` becomes the path of the machine-output file (when `report` names one)
    and the element `{targets}` becomes `targets`, or the changed files with a suffix in
    `narrow` when the caller passes them. `python`/`module` and `node_bins` are what preflight
    verifies and what lets a "No module named ruff" read as a setup problem, not a failure.
    """

    name: str
    kind: CheckKind
    parser: str  # a key of parsers.PARSERS
    timeout_s: float
    argv: tuple[str, ...] = ()
    shell: str = ""
    report: str = ""  # file name for machine output; "" means the parser reads stdout
    targets: tuple[str, ...] = (".",)
    narrow: tuple[str, ...] = ()  # suffixes of changed files this check may narrow to
    env: tuple[tuple[str, str], ...] = ()
    python: str = ""
    module: str = ""
    node_bins: tuple[str, ...] = ()
    # False where stdout is the parser's JSON: raw JSON in the live log is noise, the findings
    # that CheckFinished carries say the same thing legibly (stderr still streams).
    stream_stdout: bool = True
    network: bool = False  # keeps the network inside the sandbox (validation.network / .network)
    env_passthrough: tuple[str, ...] = ()  # variables passed beyond the allow-list (checkenv.py)
    # Set (to what to tell the user) on a project's own command whose config is not trusted:
    # the check is reported as not run, never started.
    untrusted: str = ""

    def command(
        self, workdir: Path, tmp_dir: Path, changed: list[str] | None = None
    ) -> list[str] | str | None:
        """The argv list (or shell string) to run; None when narrowing left nothing to check.

        `tmp_dir` is this check's private folder outside the workdir: `{tmp}` names it and
        `{report}` names the machine-output file in it.
        """
        if self.shell:
            return self.shell
        targets: list[str] = list(self.targets)
        if changed is not None and self.narrow:
            targets = sorted(
                {
                    rel
                    for rel in (_relative(c, workdir) for c in changed)
                    if rel.endswith(self.narrow) and (workdir / rel).is_file()
                }
            )
            if not targets:
                return None
        argv: list[str] = []
        for arg in self.argv:
            if arg == "{targets}":
                argv.extend(targets)
            else:
                arg = arg.replace("{report}", str(tmp_dir / (self.report or "report")))
                argv.append(arg.replace("{tmp}", str(tmp_dir)))
        return argv


def _relative(path: str, workdir: Path) -> str:
    p = Path(path)
    if p.is_absolute():
        try:
            return p.relative_to(workdir).as_posix()
        except ValueError:
            return p.as_posix()
    return p.as_posix()


def _python_env(workdir: Path) -> tuple[tuple[str, str], ...]:
    """Put the staged copy first on sys.path: a project installed editable in its venv would
    otherwise import the original files and the checks would judge the wrong code."""
    paths = [str(workdir / "src")] if (workdir / "src").is_dir() else []
    paths.append(str(workdir))
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    return (("PYTHONPATH", os.pathsep.join(paths)),)


def _mypy_config_has_files(workdir: Path) -> bool:
    """Whether the mypy config mypy would pick in `workdir` lists its own `files`."""
    for name in ("mypy.ini", ".mypy.ini"):
        if (workdir / name).is_file():
            return _ini_has(workdir / name, "mypy", "files")
    pyproject = workdir / "pyproject.toml"
    if pyproject.is_file():
        try:
            mypy = tomllib.loads(pyproject.read_text()).get("tool", {}).get("mypy")
        except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError):
            mypy = None
        if isinstance(mypy, dict):
            return "files" in mypy
    if (workdir / "setup.cfg").is_file():
        return _ini_has(workdir / "setup.cfg", "mypy", "files")
    return False


def _ini_has(path: Path, section: str, option: str) -> bool:
    parser = configparser.ConfigParser()
    try:
        parser.read(path)
    except (configparser.Error, UnicodeDecodeError):
        return False
    return parser.has_option(section, option)


# Parsers that read JSON from stdout: such a check's stdout is not streamed line by line.
JSON_STDOUT_PARSERS = frozenset({"python_compile", "ruff", "mypy"})


def _python_check(
    name: str, kind: CheckKind, parser: str, config: Config, workdir: Path, python: str, **kw: Any
) -> CheckSpec:
    return CheckSpec(
        name,
        kind,
        parser,
        config.validation.timeout_s,
        python=python,
        env=_python_env(workdir),
        stream_stdout=parser not in JSON_STDOUT_PARSERS,
        **kw,
    )


def _builtin(name: str, config: Config, workdir: Path, python: str) -> CheckSpec:
    timeout = config.validation.timeout_s
    if name == "python_compile":
        return _python_check(
            name,
            "syntax",
            "python_compile",
            config,
            workdir,
            python,
            argv=(python, "-c", COMPILE_SCRIPT, "{targets}"),
            targets=(),
            narrow=PY_SUFFIXES,
        )
    if name == "ruff":
        return _python_check(
            name,
            "syntax",
            "ruff",
            config,
            workdir,
            python,
            argv=(
                python,
                "-m",
                "ruff",
                "check",
                "--output-format",
                "json",
                "--no-cache",
                "--force-exclude",
                "{targets}",
            ),
            narrow=PY_SUFFIXES,
            module="ruff",
        )
    if name == "mypy":
        targets = () if _mypy_config_has_files(workdir) else (".",)
        return _python_check(
            name,
            "syntax",
            "mypy",
            config,
            workdir,
            python,
            argv=(python, "-m", "mypy", "-O", "json", "--cache-dir", "{tmp}/mypy_cache", "{targets}"),
            targets=targets,
            module="mypy",
        )
    if name == "pytest":
        return _python_check(
            name,
            "logic",
            "pytest",
            config,
            workdir,
            python,
            argv=(
                python,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-o",
                "junit_family=xunit1",
                "--junitxml={report}",
            ),
            report="junit.xml",
            targets=(),
            module="pytest",
        )
    if name == "typescript_compile":
        return CheckSpec(
            name,
            "syntax",
            "tsc",
            timeout,
            argv=("node_modules/.bin/tsc", "--noEmit", "--pretty", "false"),
            targets=(),
            node_bins=("tsc",),
        )
    if name == "eslint_strict":
        return CheckSpec(
            name,
            "syntax",
            "eslint",
            timeout,
            argv=("node_modules/.bin/eslint", "--format", "json", "--output-file", "{report}", "{targets}"),
            report="eslint.json",
            narrow=JS_SUFFIXES,
            node_bins=("eslint",),
        )
    if name == "vitest_run":
        return CheckSpec(
            name,
            "logic",
            "vitest",
            timeout,
            argv=(
                "node_modules/.bin/vitest",
                "run",
                "--reporter=default",
                "--reporter=json",
                "--outputFile.json={report}",
                "--includeTaskLocation",
            ),
            report="vitest.json",
            targets=(),
            node_bins=("vitest",),
        )
    raise KeyError(name)


def resolve_checks(config: Config, workdir: Path) -> list[CheckSpec]:
    """config.validation.checks in order, each built for `workdir` (a built-in or a
    `[validation.commands.NAME]`, which runs through the shell with its own kind and parser).
    None when `validation.enabled` is false."""
    if not config.validation.enabled:
        return []
    python = project_python(config)
    specs = []
    for name in config.validation.checks:
        custom = config.validation.commands.get(name)
        if custom is not None:
            specs.append(
                CheckSpec(
                    name,
                    custom.kind,
                    custom.parser,
                    custom.timeout_s or config.validation.timeout_s,
                    shell=custom.run,
                    targets=(),
                    untrusted="" if config.trusted else untrusted_message(config.root),
                )
            )
        else:
            specs.append(_builtin(name, config, Path(workdir), python))
    return [_confined(spec, config) for spec in specs]


def _confined(spec: CheckSpec, config: Config) -> CheckSpec:
    """The sandbox settings from config: network per command (else the default), passthrough."""
    custom = config.validation.commands.get(spec.name)
    network = config.validation.network if custom is None or custom.network is None else custom.network
    return dataclasses.replace(spec, network=network, env_passthrough=config.validation.env_passthrough)


def untrusted_message(root: Path) -> str:
    return f"untrusted, not run: this command comes from the project's config; `gearshift trust {root}` allows it"


def _install_command(folder: Path) -> str:
    if (folder / "pnpm-lock.yaml").is_file():
        return "pnpm install --frozen-lockfile"
    if (folder / "yarn.lock").is_file():
        return "yarn install --frozen-lockfile"
    if (folder / "package-lock.json").is_file() or (folder / "npm-shrinkwrap.json").is_file():
        return "npm ci"
    return "npm install"


def _interpreter_found(python: str) -> bool:
    if os.sep in python or "/" in python:
        return os.access(python, os.X_OK) and Path(python).is_file()
    return shutil.which(python) is not None


_MODULES_FOUND: set[tuple[str, str]] = set()  # (python, module) known installed: asked once


def _module_found(python: str, module: str) -> bool:
    """Whether `python` can import `module` (a subprocess, ~30 ms; a yes is remembered, a no is
    asked again so installing the tool mid-session is noticed)."""
    if (python, module) in _MODULES_FOUND:
        return True
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec(sys.argv[1]) is None)"
    try:
        found = subprocess.run(
            [python, "-c", probe, module], capture_output=True, timeout=30, check=False
        ).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return True  # cannot tell: let the check run and report in its own words
    if found:
        _MODULES_FOUND.add((python, module))
    return found


def missing_module(spec: CheckSpec) -> str:
    """What to say when the check's tool is not installed for its interpreter."""
    return f"{spec.module} is not installed for {spec.python}: run `{spec.python} -m pip install {spec.module}`"


def setup_error(spec: CheckSpec, workdir: Path, project: Path | None = None) -> str:
    """Why `spec` cannot run in `workdir` for reasons that are not the model's doing; "" if none.

    `project` is the folder to name to the user (the staged copy is a temp folder they never
    see); it defaults to `workdir`.
    """
    where = project or workdir
    if spec.untrusted:
        return spec.untrusted
    if spec.python and not _interpreter_found(spec.python):
        return (
            f"the Python interpreter {spec.python} does not exist: create the project's "
            f".venv or set validation.python"
        )
    if spec.python and spec.module and not _module_found(spec.python, spec.module):
        return missing_module(spec)
    if not spec.node_bins:
        return ""
    if shutil.which("node") is None:
        return "node is not on PATH: install Node.js to run the JavaScript checks"
    if not (workdir / "node_modules").is_dir():
        if project is not None and (project / "node_modules").is_dir():
            return (
                f"node_modules is missing in the staged copy {workdir} although {project} "
                "has one: the staged copy must link it"
            )
        return f"node_modules is missing in {where}: run `{_install_command(where)}` in that folder"
    for binary in spec.node_bins:
        if not (workdir / "node_modules" / ".bin" / binary).exists():
            package = NODE_PACKAGES.get(binary, binary)
            return (
                f"node_modules/.bin/{binary} is missing in {where}: run "
                f"`npm install --save-dev {package}` in that folder"
            )
    return ""


def preflight(specs: list[CheckSpec], workdir: Path, *, project: Path | None = None) -> list[CheckResult]:
    """A failed CheckResult (with `error` set) for each check that cannot run at all."""
    out = []
    for spec in specs:
        error = setup_error(spec, Path(workdir), project)
        if error:
            out.append(
                CheckResult(
                    spec.name,
                    spec.kind,
                    passed=False,
                    findings=[],
                    exit_code=None,
                    duration_ms=0.0,
                    error=error,
                )
            )
    return out


def python_test_files(workdir: Path) -> Iterator[str]:
    """Files pytest would collect by its default patterns, outside the skipped folders."""
    for top, dirs, files in os.walk(workdir):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for f in sorted(files):
            if f.endswith(".py") and (f.startswith("test_") or f.endswith("_test.py")):
                yield Path(top, f).relative_to(workdir).as_posix()
