"""What running a check inside the bubblewrap sandbox adds, against the same check unsandboxed.

In one run on one machine, on a small Python project staged copy-on-write with one edited file
and one deleted file (so the overlay has all its layers and the deletion step runs): the same
check, through the same `run_validation`, with and without the sandbox, alternating so drift in
the machine's load hits both alike. Two checks: `true` (a custom command: pure overhead) and
python_compile (a real, short check). Reports medians of N runs with min–max, and the median
added per check run (target: at most 30 ms).

    python bench/sandbox_bench.py [--runs 21]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tui"))

from gearshift.config import config_from_mapping  # noqa: E402
from gearshift.edits.cowstage import CowStage  # noqa: E402
from gearshift.validation.checks import resolve_checks  # noqa: E402
from gearshift.validation.runner import run_validation  # noqa: E402
from gearshift.validation.sandbox import Confinement, choose  # noqa: E402


def build(root: Path) -> None:
    (root / "pkg").mkdir(parents=True)
    for n in range(20):
        body = "".join(f"def f{n}_{i}(x: int) -> int:\n    return x * {i}\n\n\n" for i in range(30))
        (root / "pkg" / f"m{n}.py").write_text(body)


async def once(specs: list, stage: CowStage, confinement: Confinement | None) -> float:
    start = time.perf_counter()
    result = await run_validation(
        specs,
        stage.workdir,
        lambda e: None,
        run_id="b",
        task_id=None,
        project=stage.project,
        confinement=confinement,
    )
    elapsed = time.perf_counter() - start
    assert result.outcome == "pass", [c.output_tail for c in result.checks]
    return elapsed


def row(name: str, samples: list[float]) -> str:
    med, low, high = (1000 * f(samples) for f in (statistics.median, min, max))
    return f"| {name:<36} | {med:8.1f} ms | {low:6.1f}–{high:.1f} ms |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    status = choose("auto")
    if not status.active or status.bwrap is None:
        print(f"no sandbox here: {status.describe()}")
        return 1
    lines = ["| what | median | min–max |", "|---|---|---|"]
    added: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="sandbox-bench-") as tmp:
        project = Path(tmp) / "project"
        build(project)
        stage = CowStage.create(project, Path(tmp) / "stages", "bench-1-1")
        stage.write_text("pkg/m0.py", stage.read_text("pkg/m0.py") + "\nEDITED = True\n")
        stage.remove("pkg/m19.py")
        confinement = Confinement(status.bwrap, stage.layers())
        for check in ("true", "python_compile"):
            config = config_from_mapping(
                project,
                "(bench)",
                {"validation": {"checks": [check], "commands": {"true": {"run": "true"}}}},
            )
            specs = resolve_checks(config, stage.workdir)
            plain: list[float] = []
            boxed: list[float] = []
            asyncio.run(once(specs, stage, confinement))  # warm the page cache for both
            for _ in range(args.runs):
                plain.append(asyncio.run(once(specs, stage, None)))
                boxed.append(asyncio.run(once(specs, stage, confinement)))
            lines.append(row(f"{check}, unsandboxed", plain))
            lines.append(row(f"{check}, sandboxed (bwrap + overlay)", boxed))
            added[check] = 1000 * statistics.median([b - p for b, p in zip(boxed, plain, strict=True)])
    print(f"{args.runs} runs each, alternating; Python {sys.version.split()[0]}")
    print("\n".join(lines))
    for check, ms in added.items():
        print(f"sandbox adds {ms:.1f} ms per {check} run (median of paired differences; target ≤ 30 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
