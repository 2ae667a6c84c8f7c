"""What the validation runner costs on top of the tools it runs, on a tiny Python project.

Builds a project like the one in docs/performance.md (3 modules of ~100 lines, 10 tests) and times,
in one run on one machine: the same checks (python_compile, ruff, pytest) run one after another
with `subprocess.run`, against `run_validation` running them concurrently with its process
groups, line events and parsing; and a narrowed run (changed = one file) against a whole one.
Reports medians of N runs with min–max and the ratios. The machine is shared and noisy: compare
the ratios, not the absolute numbers.

    python bench/validation_bench.py [--runs 7]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tui"))

from gearshift.config import config_from_mapping  # noqa: E402
from gearshift.validation.checks import resolve_checks  # noqa: E402
from gearshift.validation.runner import run_validation  # noqa: E402

FUNCTION = """def f{n}_{i}(x: int) -> int:
    total = 0
    for k in range(x):
        total += k * {i}
    return total
"""


def build(root: Path) -> None:
    pkg = root / "src" / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    for n in range(3):
        body = "\n\n".join(FUNCTION.format(n=n, i=i) for i in range(15))
        (pkg / f"m{n}.py").write_text(f'"""Module {n}."""\n\n\n{body}')
    lines = ["from pkg.m0 import f0_1\n"]
    for t in range(10):
        lines.append(f"\n\ndef test_{t}() -> None:\n    assert f0_1({t}) == {sum(range(t))}\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_m0.py").write_text("".join(lines))


def median_of(action: Callable[[], object], runs: int) -> tuple[float, float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        build(root)
        cfg = config_from_mapping(
            root,
            "bench",
            {"validation": {"checks": ["python_compile", "ruff", "pytest"], "python": sys.executable}},
        )
        specs = resolve_checks(cfg, root)
        report_dir = Path(tmp) / "reports"
        report_dir.mkdir()
        commands = [s.command(root, report_dir) for s in specs]
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": f"{root / 'src'}:{root}"}

        def direct() -> None:
            for cmd in commands:
                assert isinstance(cmd, list)
                subprocess.run(cmd, cwd=root, env=env, capture_output=True, check=False)

        def runner(changed: list[str] | None = None) -> None:
            result = asyncio.run(
                run_validation(specs, root, lambda e: None, run_id="b", task_id=None, changed=changed)
            )
            assert result.outcome == "pass", result.findings

        rows = [
            ("direct subprocess.run, one after another", median_of(direct, args.runs)),
            ("run_validation, whole project", median_of(runner, args.runs)),
            ("run_validation, changed=[one module]", median_of(lambda: runner(["src/pkg/m1.py"]), args.runs)),
        ]
    print(f"validators on a tiny project ({args.runs} runs; median, min–max)")
    for label, (med, lo, hi) in rows:
        print(f"  {label:44} {med:8.1f} ms  ({lo:.1f}–{hi:.1f})")
    base = rows[0][1][0]
    print(
        f"  ratio runner/direct: {rows[1][1][0] / base:.2f}; "
        f"narrowed/whole: {rows[2][1][0] / rows[1][1][0]:.2f}"
    )


if __name__ == "__main__":
    main()
