"""Staging a 10,000-file tree: the copy-on-write stage, the hard-linked stage, and a full copy.

Builds a synthetic repository (nested packages, source-like file sizes drawn from a log-normal
distribution with a few large files, plus a .git folder and caches that staging skips) and times,
in one run on one machine: `CowStage.create` (the default where checks run sandboxed), the
hard-linked `Stage.create` (the fallback), `shutil.copytree` of the same tree, and the cleanup of
each; then a task's whole life on each stage (create, edit 5 files, diff, discard). Reports medians of N runs with min–max, and the ratio. Absolute numbers depend
on the machine and its page cache; the ratio is what to compare.

    python bench/staging_bench.py [--files 10000] [--runs 7] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tui"))

from gearshift.edits.cowstage import CowStage  # noqa: E402
from gearshift.edits.workspace import Stage  # noqa: E402


def build_tree(root: Path, files: int, seed: int = 7) -> tuple[int, int]:
    """A repository-like tree: returns (files written, bytes written)."""
    rng = random.Random(seed)
    line = "    value = compute(alpha, beta, gamma)  # a typical line of source code\n"
    written = total = 0
    per_dir = 40
    while written < files:
        depth = rng.randint(1, 4)
        folder = root.joinpath(*(f"pkg{rng.randint(0, 11)}" for _ in range(depth)))
        folder.mkdir(parents=True, exist_ok=True)
        for _ in range(min(per_dir, files - written)):
            size = min(int(rng.lognormvariate(8.0, 1.0)), 400_000)  # median ~3 KB, tail ~100s KB
            suffix = rng.choice([".py", ".py", ".ts", ".md", ".json", ".txt"])
            path = folder / f"file{written}{suffix}"
            path.write_text((line * (size // len(line) + 1))[:size])
            written += 1
            total += size
    for cache in (".git/objects/ab", "pkg0/__pycache__", ".mypy_cache/3.11"):
        (root / cache).mkdir(parents=True, exist_ok=True)
        for n in range(50):
            (root / cache / f"blob{n}").write_bytes(os.urandom(2048))
    return written, total


def timed(
    action: Callable[[], object], cleanup: Callable[[], object], runs: int
) -> tuple[list[float], list[float]]:
    made, cleaned = [], []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        made.append(time.perf_counter() - start)
        start = time.perf_counter()
        cleanup()
        cleaned.append(time.perf_counter() - start)
    return made, cleaned


def row(name: str, samples: list[float]) -> str:
    median, low, high = (
        1000 * statistics.median(samples),
        1000 * min(samples),
        1000 * max(samples),
    )
    return f"| {name:<32} | {median:9.1f} ms | {low:7.1f}–{high:.1f} ms |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=None, help="where to build the tree (a temp dir)")
    args = parser.parse_args()
    if args.runs < 5:
        parser.error("--runs must be at least 5 (medians of fewer runs are noise)")
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="staging-bench-") as tmp:
        project, out = Path(tmp) / "project", Path(tmp) / "out"
        files, size = build_tree(project, args.files)
        out.mkdir()
        stages = project / ".gearshift" / "stages"
        stage_made, stage_gone = timed(
            lambda: Stage.create(project, stages, "bench"),
            lambda: shutil.rmtree(stages / "bench"),
            args.runs,
        )
        cow_dir = Path(tmp) / "cow"
        cow_made, cow_gone = timed(
            lambda: CowStage.create(project, cow_dir, "bench"),
            lambda: shutil.rmtree(cow_dir / "bench"),
            args.runs,
        )
        edited = sorted(p.relative_to(project).as_posix() for p in project.rglob("*.py"))[:5]

        def task_life(make: Callable[[], Stage | CowStage]) -> None:
            stage = make()
            for rel in edited:
                stage.write_text(rel, stage.read_text(rel) + "# edited\n")
            assert len(stage.changes()) == len(edited) and stage.diff()
            stage.discard()

        linked_life, _ = timed(
            lambda: task_life(lambda: Stage.create(project, stages, "life")), lambda: None, args.runs
        )
        cow_life, _ = timed(
            lambda: task_life(lambda: CowStage.create(project, cow_dir, "life")), lambda: None, args.runs
        )
        ignore = shutil.ignore_patterns(".gearshift")
        copy_made, copy_gone = timed(
            lambda: shutil.copytree(project, out / "copy", ignore=ignore, symlinks=True),
            lambda: shutil.rmtree(out / "copy"),
            args.runs,
        )
    python = sys.version.split()[0]
    print(f"tree: {files:,} files, {size / 1e6:.1f} MB; {args.runs} runs each; Python {python}")
    print(f"| {'what':<32} | {'median':>12} | {'min–max':>15} |")
    print(f"|{'-' * 34}|{'-' * 14}|{'-' * 17}|")
    print(row("CowStage.create (copy-on-write)", cow_made))
    print(row("Stage.create (hard links)", stage_made))
    print(row("shutil.copytree", copy_made))
    print(row("discard copy-on-write stage", cow_gone))
    print(row("discard linked stage (rmtree)", stage_gone))
    print(row("remove copy (rmtree)", copy_gone))
    print(row("task on copy-on-write stage", cow_life))
    print(row("task on linked stage", linked_life))
    ratio = statistics.median(copy_made) / statistics.median(stage_made)
    print(f"Stage.create is {ratio:.1f}x faster than copytree (median against median)")
    cow = statistics.median(cow_made) / statistics.median(stage_made)
    life = statistics.median(cow_life) / statistics.median(linked_life)
    print(f"copy-on-write / hard links: create {cow:.4f}x, whole task {life:.3f}x (target: at most 1.5x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
