"""Build and check the corpus: every task's oracle must tell the reference from the broken code and
from each wrong fix the simulated model may write, or the task (or that wrong fix) is not used.

Checks per task, on fresh copies of the pinned project:
- the pristine project passes the oracle;
- the broken project (the task's starting tree) fails it;
- each logic-wrong fix (off-by-one, dropped branch) fails it cleanly — one that hangs or exhausts
  memory is dropped, since no model's wrong answer should need a timeout to be caught;
- each syntax slip does not compile.
Results are cached in bench/_work/economics/built.json, keyed by the task's definition and the
sdist's hash, so a second run does not re-run them.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import corpus
from mutate import compiles, replace_function

CACHE = corpus.WORK / "built.json"


def _key(task: corpus.BenchTask, project: corpus.Project) -> str:
    raw = json.dumps([asdict(task), project.sha256], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _check_wrong(task: corpus.BenchTask, project: corpus.Project, broken: Path, patches: list[corpus.Patch]) -> dict[str, str]:
    usable: dict[str, str] = {}
    first = patches[0]
    for kind, text in first.wrong.items():
        if kind == "syntax_slip":
            if not compiles(text):
                usable[kind] = text
            continue
        with tempfile.TemporaryDirectory() as tmp:
            tree = Path(tmp) / "p"
            shutil.copytree(broken, tree, symlinks=True)
            for i, p in enumerate(patches):
                path = tree / p.target.file
                path.write_text(replace_function(path.read_text(), p.target.function, text if i == 0 else p.reference))
            if corpus.run_oracle(task, project, tree) == "fail":
                usable[kind] = text
    return usable


def build_task(task: corpus.BenchTask, project: corpus.Project) -> dict[str, Any]:
    from arms import score_of

    pristine = corpus.fetch(project)
    problems = []
    if corpus.run_oracle(task, project, pristine) != "pass":
        problems.append("the pristine project fails its oracle")
    with tempfile.TemporaryDirectory() as tmp:
        broken = Path(tmp) / project.root.name
        patches = corpus.materialise(task, pristine, broken)
        if corpus.run_oracle(task, project, broken) != "fail":
            problems.append("the broken project does not fail its oracle")
        wrong = _check_wrong(task, project, broken, patches)
        if not any(k != "syntax_slip" for k in wrong):
            problems.append("no logic-wrong fix is rejected by the oracle")
        score = score_of(task, broken)
    return {
        "score": score,
        "problems": problems,
        "edits": [
            {"file": p.target.file, "broken": p.broken, "reference": p.reference, "wrong": wrong if i == 0 else {}}
            for i, p in enumerate(patches)
        ],
    }


def build(tasks: list[corpus.BenchTask], projects: dict[str, corpus.Project], log: Any = None) -> dict[str, dict[str, Any]]:
    cache: dict[str, Any] = json.loads(CACHE.read_text()) if CACHE.is_file() else {}
    out = {}
    for task in tasks:
        project = projects[task.project]
        key = _key(task, project)
        if key not in cache:
            if log:
                log(f"building {task.id} …")
            cache[key] = build_task(task, project)
            CACHE.parent.mkdir(parents=True, exist_ok=True)
            CACHE.write_text(json.dumps(cache))
        out[task.id] = cache[key]
    return out
