"""The economics benchmark: gearshift's cascade against naive all-Opus on real third-party code.

    python bench/economics/run.py [--quick] [--json] [--seed N] [--opus-factor F] [--plot FILE]

Every arm runs the same tasks with the same seed (see arms.py for the arms, outcomes.py for the
only invented numbers, counting.py for how tokens are counted). Prints a table for people, or with
`--json` one JSON object: `arms` (each with cost_usd, pass_rate, tasks …), `ratio_vs_naive` and
`pass_ratio_vs_naive` for the cascade with bootstrap 95 % intervals, the per-lever shares, and the
sensitivity sweep over Sonnet's pass rate with its break-even points.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import arms as arms_mod  # noqa: E402
import corpus  # noqa: E402
import results as summary  # noqa: E402
import verify  # noqa: E402

QUICK_TASKS = 20


def pick(tasks: list[corpus.BenchTask], quick: bool) -> list[corpus.BenchTask]:
    """All tasks, or for --quick the same share of every scope (evenly spaced in file order, ≥ 20)."""
    if not quick:
        return tasks
    share = QUICK_TASKS / len(tasks)
    chosen: list[corpus.BenchTask] = []
    for scope in dict.fromkeys(t.scope for t in tasks):
        group = [t for t in tasks if t.scope == scope]
        n = min(len(group), math.ceil(len(group) * share))
        chosen += [group[round(i * len(group) / n)] for i in range(n)]
    order = {t.id: i for i, t in enumerate(tasks)}
    return sorted(chosen, key=lambda t: order[t.id])


def _run_one(args: tuple[str, list[str], int, float]) -> list[dict]:
    """One task in every chosen arm (a worker process's unit of work)."""
    task_id, arm_names, seed, opus_factor = args
    arms = [a for a in arms_mod.ARMS if a.name in arm_names]
    projects = corpus.load_projects()
    task = next(t for t in corpus.load_tasks() if t.id == task_id)
    info = verify.build([task], projects)[task.id]
    runs = arms_mod.run_task(task, arms, projects[task.project], info, seed=seed, opus_factor=opus_factor)
    return [asdict(r) for r in runs]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_TASKS} tasks, every arm (≤ 10 min on 2 cores)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--opus-factor", type=float, default=1.2, help="Opus 4.7 tokens per Sonnet token (1.0–1.35)")
    ap.add_argument("--arms", default="", help="comma-separated arm names (default: all)")
    ap.add_argument("--tasks", default="", help="comma-separated task ids (default: the corpus or --quick's share)")
    ap.add_argument("--plot", metavar="FILE", help="write the break-even plot (PNG or SVG; needs matplotlib)")
    ap.add_argument("--out", metavar="FILE", default=str(corpus.WORK / "results.json"))
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--report", metavar="RUNS", help="only report on a saved run (OUT or OUT.partial), no new runs")
    args = ap.parse_args(argv)
    log = (lambda m: print(m, file=sys.stderr)) if args.json else print
    if args.report:
        return report_saved(Path(args.report), args)

    projects = corpus.load_projects()
    tasks = pick(corpus.load_tasks(), args.quick)
    if args.tasks:
        wanted = set(args.tasks.split(","))
        tasks = [t for t in tasks if t.id in wanted]
    t0 = time.perf_counter()
    built = verify.build(tasks, projects, log=log)
    broken = {tid: b["problems"] for tid, b in built.items() if b["problems"]}
    if broken:
        for tid, problems in broken.items():
            log(f"{tid}: dropped — {'; '.join(problems)}")
        tasks = [t for t in tasks if t.id not in broken]
    chosen = [a for a in arms_mod.ARMS if not args.arms or a.name in args.arms.split(",")]
    log(f"{len(tasks)} tasks on {len({t.project for t in tasks})} projects × {len(chosen)} arms, seed {args.seed}")
    names = [a.name for a in chosen]
    results: dict[str, list[dict]] = {name: [] for name in names}
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        jobs = [(t.id, names, args.seed, args.opus_factor) for t in tasks]
        for n, runs in enumerate(pool.map(_run_one, jobs), 1):
            for r in runs:
                results[r["arm"]].append(r)
            print(f"[{n}/{len(jobs)}] {jobs[n - 1][0]} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
            # every finished task kept, so a run stopped part-way still has its tasks' runs
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out + ".partial").write_text(json.dumps({"runs": results}))
    report = summary.report(results, tasks, seed=args.seed, opus_factor=args.opus_factor)
    report["elapsed_s"] = round(time.perf_counter() - t0, 1)
    report["arms_described"] = {a.name: a.what for a in chosen}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"report": report, "runs": results}, indent=1))
    if args.plot:
        summary.plot(report, Path(args.plot))
    if args.json:
        print(json.dumps(report))
    else:
        print(summary.table(report))
    return 0


def report_saved(path: Path, args: argparse.Namespace) -> int:
    """The table (or JSON, or plot) of a saved run: a finished one, or the tasks a stopped run
    finished (its `.partial`), reported over exactly those tasks."""
    try:
        results = json.loads(path.read_text())["runs"]
    except (OSError, ValueError, KeyError) as exc:
        print(f"run.py: cannot read the runs in {path}: {exc}", file=sys.stderr)
        return 2
    done = {r["task"] for runs in results.values() for r in runs}
    tasks = [t for t in corpus.load_tasks() if t.id in done]
    report = summary.report(results, tasks, seed=args.seed, opus_factor=args.opus_factor)
    if args.plot:
        summary.plot(report, Path(args.plot))
    print(json.dumps(report) if args.json else summary.table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
