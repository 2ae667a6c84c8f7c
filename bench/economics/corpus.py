"""The benchmark's corpus: pinned third-party projects and the tasks cut from their code.

Nothing downloaded is committed: `projects.toml` pins each sdist by version and sha256, and
`tasks.toml` names the functions to break. `fetch` downloads an sdist from the package index with
pip (the ordinary client), refuses it unless its hash matches, and unpacks it under
`bench/_work/economics/`. A task's starting tree is the pristine project with its target
functions broken; its reference patch is the original code; its oracle is the project's own
tests that exercise the function (`pytest FILES -k KEYWORD`).
"""

from __future__ import annotations

import hashlib
import resource
import shutil
import subprocess
import sys
import tarfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from mutate import delete_body, locate, off_by_one, replace_function, wrong_variants

HERE = Path(__file__).resolve().parent
WORK = HERE.parent / "_work" / "economics"
ORACLE_TIMEOUT_S = 180  # generous: a loaded 2-core machine is slow, and a wrong fix that hangs is never used
ORACLE_MEMORY_BYTES = 2 << 30  # a wrong fix can loop and allocate without end


@dataclass(frozen=True)
class Project:
    name: str
    version: str
    sdist: str
    sha256: str
    package: str
    pytest_args: tuple[str, ...] = ()
    runner: str = "pytest"  # or "unittest" (a suite that only runs under unittest)
    exclude: tuple[str, ...] = ()  # test files left out of a whole-suite oracle (a missing extra)

    @property
    def root(self) -> Path:
        return WORK / "projects" / f"{self.name}-{self.version}"


@dataclass(frozen=True)
class Target:
    file: str
    function: str  # qualified name inside the file: "name" or "Class.method"


@dataclass(frozen=True)
class BenchTask:
    id: str
    project: str
    scope: str
    kind: str  # "delete" (body removed) | "mutate" (a planted bug)
    targets: tuple[Target, ...]
    oracle: tuple[str, ...]
    keyword: str = ""
    tags: dict[str, str] = field(default_factory=dict)

    def prompt(self) -> str:
        names = ", ".join(f"`{t.function}` in `{t.file}`" for t in self.targets)
        if self.kind == "delete":
            what = f"The body of {names} was removed (it now raises NotImplementedError)."
            ask = "Restore the implementation so the project's tests pass; the docstrings and callers say what it must do."
        else:
            what = f"A bug was introduced in {names}: the project's tests for it fail."
            ask = "Find the bug and fix it with the smallest change; do not change the tests."
        note = {
            "security": " This code handles untrusted input: keep escaping and validation exact.",
            "architecture": " The pieces must keep working together across modules.",
        }.get(self.scope, "")
        return f"{what} {ask}{note}"


def load_projects(path: Path = HERE / "projects.toml") -> dict[str, Project]:
    data = tomllib.loads(path.read_text())
    out = {}
    for p in data["project"]:
        out[p["name"]] = Project(
            name=p["name"],
            version=p["version"],
            sdist=p["sdist"],
            sha256=p["sha256"],
            package=p["package"],
            pytest_args=tuple(p.get("pytest_args", ())),
            runner=p.get("runner", "pytest"),
            exclude=tuple(p.get("exclude", ())),
        )
    return out


def load_tasks(path: Path = HERE / "tasks.toml") -> list[BenchTask]:
    data = tomllib.loads(path.read_text())
    tasks = []
    for t in data["task"]:
        tasks.append(
            BenchTask(
                id=t["id"],
                project=t["project"],
                scope=t["scope"],
                kind=t["kind"],
                targets=tuple(Target(x["file"], x["function"]) for x in t["targets"]),
                oracle=tuple(t["oracle"]),
                keyword=t.get("keyword", ""),
                tags=dict(t.get("tags", {})),
            )
        )
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        raise ValueError("tasks.toml: duplicate task ids")
    return tasks


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch(project: Project) -> Path:
    """The project's pristine tree, downloaded and unpacked once; the hash is checked every time."""
    downloads = WORK / "downloads"
    archive = downloads / project.sdist
    if not archive.is_file():
        downloads.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             f"{project.name}=={project.version}", "-d", str(downloads)],
            check=True,
        )
    digest = _sha256(archive)
    if digest != project.sha256:
        archive.unlink()
        raise RuntimeError(f"{project.sdist}: sha256 {digest} does not match the pin {project.sha256}")
    if not project.root.is_dir():
        tmp = project.root.with_name(project.root.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        (inner,) = list(tmp.iterdir())
        inner.rename(project.root)
        shutil.rmtree(tmp)
    return project.root


@dataclass(frozen=True)
class Patch:
    """What the simulated model may write for one target: the reference and the wrong ones."""

    target: Target
    broken: str
    reference: str
    wrong: dict[str, str]


def patches(task: BenchTask, pristine: Path) -> list[Patch]:
    out = []
    for target in task.targets:
        source = (pristine / target.file).read_text()
        reference = locate(source, target.function).text
        if task.kind == "delete":
            broken = delete_body(reference)
            wrong = wrong_variants(reference)
        else:
            planted = off_by_one(reference)
            if planted is None:
                raise ValueError(f"{task.id}: {target.function} has nothing to nudge")
            broken = planted
            wrong = {k: v for k, v in wrong_variants(reference).items() if k != "off_by_one"}
        out.append(Patch(target, broken, reference, wrong))
    return out


def materialise(task: BenchTask, pristine: Path, dest: Path) -> list[Patch]:
    """Copy the pristine project to `dest` with the task's functions broken."""
    shutil.copytree(pristine, dest, symlinks=True)
    found = patches(task, pristine)
    for p in found:
        path = dest / p.target.file
        path.write_text(replace_function(path.read_text(), p.target.function, p.broken))
    return found


def oracle_files(task: BenchTask, project: Project) -> list[str]:
    """The test files: the task's own, or (`["*"]`) every test file of the project but the excluded."""
    if list(task.oracle) != ["*"]:
        return list(task.oracle)
    root = project.root
    return [
        p.relative_to(root).as_posix()
        for p in sorted((root / "tests").rglob("test_*.py"))
        if p.relative_to(root).as_posix() not in project.exclude
    ]


def oracle_command(task: BenchTask, project: Project) -> list[str]:
    files = oracle_files(task, project)
    if project.runner == "unittest":
        return [sys.executable, "-m", "unittest", "-q", *files]
    # -c /dev/null --rootdir=.: the project's own tree decides, not a pytest config above it
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-c", "/dev/null", "--rootdir=.",
           *project.pytest_args, *files]
    if task.keyword:
        cmd += ["-k", task.keyword]
    return cmd


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ORACLE_MEMORY_BYTES, ORACLE_MEMORY_BYTES))


def run_oracle(task: BenchTask, project: Project, tree: Path) -> str:
    """'pass', 'fail', or 'hang' (a timeout or the memory cap: such a wrong fix is not used)."""
    try:
        proc = subprocess.run(
            oracle_command(task, project),
            cwd=tree,
            capture_output=True,
            text=True,
            timeout=ORACLE_TIMEOUT_S,
            preexec_fn=_limit_memory,
        )
    except subprocess.TimeoutExpired:
        return "hang"
    if proc.returncode == 0:
        return "pass"
    return "hang" if "MemoryError" in proc.stdout + proc.stderr else "fail"
