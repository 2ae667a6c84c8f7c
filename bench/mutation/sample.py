"""A seeded random sample of a profile's mutants, for a mutation run that cannot run them all.

    bench/mutation/run.sh journey 2 $(python bench/mutation/sample.py journey 120 --seed 1)

The journey profile's mutants each run whole tasks against real validators (~30–45 s apiece on
this machine, some 5 hours for the file on two workers). A uniform sample estimates the killed
share of the whole file without bias, and `summary.py` gives that estimate a 95 % interval; every
survivor in the sample is still a mutant to kill or explain. Needs the profile's mutants to have
been generated once (any `run.sh PROFILE` does that). Draws from all the file's mutants, so the
same seed names the same sample again (already-run ones are simply re-used from the results).
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

WORK = Path(__file__).resolve().parents[1] / "_work"


def mutant_names(profile: str) -> list[str]:
    names: list[str] = []
    for meta in sorted((WORK / f"mutation-{profile}" / "mutants").rglob("*.py.meta")):
        names += sorted(json.loads(meta.read_text())["exit_code_by_key"])
    return names


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("profile")
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    names = mutant_names(args.profile)
    if not names:
        raise SystemExit(f"sample.py: no mutants generated for {args.profile!r} yet: run bench/mutation/run.sh {args.profile} once")
    print("\n".join(random.Random(args.seed).sample(names, min(args.n, len(names)))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
