"""How much of the later turns' input the prompt cache serves, measured on recordings.

For every attempt of every task in a recordings folder, the turns after the first are the ones a
cache can help (the first has nothing earlier to read). This reports, over those turns, the share
of input tokens read from cache: cache_read / (input + cache_write + cache_read), per sample and
per model, from the `usage` each recorded `message_start` carries — over all of them, and over
the "cacheable" ones: those whose previous request reached the model's minimum cacheable length
(under it the API writes nothing a later turn could read).

    python bench/cache_share.py [sample-projects/python-shop/gearshift-recordings ...]
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from gearshift.config import load_config

ROOT = Path(__file__).resolve().parent.parent
STEM = re.compile(r"a(\d+)-t(\d+)\.sse$")


def started_usage(sse: Path) -> tuple[str, dict[str, int]]:
    """The model and the usage of a recorded stream's `message_start`."""
    for line in sse.read_text(encoding="utf-8").splitlines():
        if line.startswith("data:") and '"message_start"' in line:
            message = json.loads(line[5:])["message"]
            return message["model"], message["usage"]
    raise ValueError(f"{sse} has no message_start")


def total_input(u: dict[str, int]) -> int:
    return sum(
        u.get(k) or 0 for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )


def later_turns(folder: Path, floors: dict[str, int] | None = None) -> list[tuple[str, dict[str, int]]]:
    """(model, usage) of every recorded call that is turn 2 or later of its attempt; with
    `floors` (model → minimum cacheable length), only those whose previous turn reached it."""
    out = []
    for sse in sorted(folder.glob("*/*.sse")):
        match = STEM.search(sse.name)
        if not match or int(match.group(2)) < 2:
            continue
        model, usage = started_usage(sse)
        if floors is not None:
            before = sse.with_name(f"a{match.group(1)}-t{int(match.group(2)) - 1}.sse")
            if total_input(started_usage(before)[1]) < floors.get(model, 1024):
                continue
        out.append((model, usage))
    return out


def read_share(usages: list[dict[str, int]]) -> float:
    read = sum(u.get("cache_read_input_tokens") or 0 for u in usages)
    total = sum(total_input(u) for u in usages)
    return read / total if total else 0.0


def main(argv: list[str]) -> int:
    folders = [Path(a) for a in argv] or sorted(ROOT.glob("sample-projects/*/gearshift-recordings"))
    for folder in folders:
        config = load_config(folder.parent)
        floors = {m.id: m.min_cache_tokens for m in config.models.values()}
        for label, turns in (("all", later_turns(folder)), ("cacheable", later_turns(folder, floors))):
            by_model: dict[str, list[dict[str, int]]] = {}
            for model, usage in turns:
                by_model.setdefault(model, []).append(usage)
            models = ", ".join(f"{m} {read_share(u):.1%} ({len(u)})" for m, u in sorted(by_model.items()))
            print(
                f"{folder.parent.name} {label}: {read_share([u for _, u in turns]):.1%} of the input of "
                f"turns ≥ 2 read from cache over {len(turns)} calls; {models}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
