"""Propose the corpus's tasks: run once by a maintainer, its output reviewed and committed as tasks.toml.

For each pinned project it walks the library's functions (top-level and methods) of a useful size,
finds the test files that name them, and keeps a function only when the project's own tests
(a) pass on the pristine code, (b) fail with the body removed, and (c) fail with at least one
plausible wrong fix (an off-by-one or a dropped branch) — so the oracle can tell right from
wrong. Candidates are drawn in a seeded order, so a re-run proposes the same tasks.

    python bench/economics/mine.py --per-project 12 > bench/economics/tasks.proposed.toml
"""

from __future__ import annotations

import argparse
import ast
import random
import re
import sys
import tempfile
from pathlib import Path

import corpus
from mutate import body_statements, locate, wrong_variants

MIN_STATEMENTS, MAX_STATEMENTS = 5, 45


def candidates(project: corpus.Project, root: Path) -> list[tuple[str, str]]:
    out = []
    for path in sorted((root / project.package).rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("__"):
                out.append((rel, node.name))
            if isinstance(node, ast.ClassDef):
                for sub in node.body:
                    if isinstance(sub, ast.FunctionDef) and not sub.name.startswith("_"):
                        out.append((rel, f"{node.name}.{sub.name}"))
    return out


def test_files_naming(root: Path, name: str) -> list[str]:
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    hits = []
    for path in sorted((root / "tests").rglob("test_*.py")):
        if pattern.search(path.read_text(errors="replace")):
            hits.append(path.relative_to(root).as_posix())
    return hits


def verify(task: corpus.BenchTask, project: corpus.Project, pristine: Path) -> dict[str, bool] | None:
    if corpus.run_oracle(task, project, pristine) != "pass":
        return None
    with tempfile.TemporaryDirectory() as tmp:
        broken = Path(tmp) / "p"
        found = corpus.materialise(task, pristine, broken)
        if corpus.run_oracle(task, project, broken) != "fail":
            return None
        rejected = {}
        for kind, text in found[0].wrong.items():
            if kind == "syntax_slip":
                continue
            target = broken / found[0].target.file
            original = target.read_text()
            target.write_text(original.replace(found[0].broken, text, 1))
            rejected[kind] = corpus.run_oracle(task, project, broken) == "fail"
            target.write_text(original)
    return rejected if any(rejected.values()) else None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-project", type=int, default=12)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--project", default="", help="only this project")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    for project in corpus.load_projects().values():
        if args.project and project.name != args.project:
            continue
        pristine = corpus.fetch(project)
        pool = candidates(project, pristine)
        rng.shuffle(pool)
        kept = 0
        for rel, qualname in pool:
            if kept >= args.per_project:
                break
            text = locate((pristine / rel).read_text(), qualname).text
            if not MIN_STATEMENTS <= body_statements(text) <= MAX_STATEMENTS:
                continue
            if not {"off_by_one", "dropped_branch"} & set(wrong_variants(text)):
                continue
            short = qualname.rsplit(".", 1)[-1]
            # a unittest suite tests through the public API, not by name: its whole suite is the oracle
            tests = ["*"] if project.runner == "unittest" else test_files_naming(pristine, short)
            if not tests or len(tests) > 3:
                continue
            task = corpus.BenchTask(
                id=f"{project.package[:4]}-{short.strip('_').replace('_', '-')}",
                project=project.name,
                scope="single-file",
                kind="delete",
                targets=(corpus.Target(rel, qualname),),
                oracle=tuple(tests),
                keyword=short if not short.startswith("_") and project.runner == "pytest" else "",
            )
            try:
                ok = verify(task, project, pristine)
            except Exception as exc:  # a candidate that times out or breaks collection is skipped
                print(f"# skipped {task.id}: {exc!r}", file=sys.stderr)
                continue
            if ok is None:
                print(f"# rejected {task.id}", file=sys.stderr)
                continue
            kept += 1
            print(f"[[task]]\nid = {task.id!r}\nproject = {project.name!r}\nscope = \"single-file\"\nkind = \"delete\"")
            print(f"targets = [{{ file = {rel!r}, function = {qualname!r} }}]")
            print(f"oracle = {list(tests)!r}\nkeyword = {task.keyword!r}\n# wrong fixes the tests reject: {ok}\n")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
