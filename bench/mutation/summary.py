"""Per-module counts of a mutmut run (bench/mutation/run.sh), for the README's table.

mutmut keeps each file's results in `mutants/<path>.meta` (JSON: an exit code per mutant); this
reads those and maps the codes as mutmut's own `stats.status_by_exit_code` does, so the numbers
are the ones `mutmut results` lists, grouped by module. `--survivors` also names each surviving
mutant, for `mutmut show NAME`.

Killed share = killed (by a test or a timeout) / (killed + timeout + survived): a timeout is a
mutant that made the tests hang (a loop whose exit was mutated away), which a user would notice.
"run" leaves out mutants not checked (a run limited to some functions by mutant globs); "other"
is mutmut's "no tests" (no selected test calls the function), "suspicious" and the like.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code


def counts(mutants_dir: Path) -> dict[str, Counter[str]]:
    by_module: dict[str, Counter[str]] = {}
    for meta in sorted(mutants_dir.rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        if not codes:
            continue
        module = str(meta.relative_to(mutants_dir / "src").with_suffix("").with_suffix(""))
        by_module[module] = Counter(status_by_exit_code[code] for code in codes.values())
    return by_module


def wilson(killed: int, ran: int, z: float = 1.96) -> tuple[float, float]:
    """The 95 % Wilson interval of a killed share measured on `ran` mutants: what a uniform
    sample (bench/mutation/sample.py) says about the whole file."""
    if not ran:
        return (0.0, 0.0)
    p = killed / ran
    centre = (p + z * z / (2 * ran)) / (1 + z * z / ran)
    half = z * ((p * (1 - p) / ran + z * z / (4 * ran * ran)) ** 0.5) / (1 + z * z / ran)
    return (100.0 * (centre - half), 100.0 * (centre + half))


def share(c: Counter[str]) -> float:
    ran = c["killed"] + c["timeout"] + c["survived"]
    return 100.0 * (c["killed"] + c["timeout"]) / ran if ran else 0.0


def main() -> None:
    mutants_dir = Path("mutants")
    by_module = counts(mutants_dir)
    total: Counter[str] = Counter()
    print("| module | mutants | run | killed | timeout | survived | other | killed share (95 % interval if sampled) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for module, c in [*by_module.items(), ("**all**", None)]:
        if c is None:
            c = total
        else:
            total += c
            module = f"`{module}.py`"
        ran = sum(c.values()) - c["not checked"]
        other = ran - c["killed"] - c["timeout"] - c["survived"]
        decided = c["killed"] + c["timeout"] + c["survived"]
        interval = ""
        if c["not checked"]:  # a sample: what it says about the whole file
            lo, hi = wilson(c["killed"] + c["timeout"], decided)
            interval = f" ({lo:.1f}–{hi:.1f} %)"
        print(
            f"| {module} | {sum(c.values())} | {ran} | {c['killed']} | {c['timeout']} | {c['survived']} "
            f"| {other} | {share(c):.1f} %{interval} |"
        )
    if "--survivors" in sys.argv:
        for meta in sorted(mutants_dir.rglob("*.py.meta")):
            for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
                if status_by_exit_code[code] not in ("killed", "timeout", "not checked"):
                    print(status_by_exit_code[code], name)


if __name__ == "__main__":
    main()
