"""Reading files into graph records, in this process or split with a second one.

A record is a plain tuple so the cache can be marshalled (the fastest stdlib serialiser for
builtins) and a worker can hand records back through a pipe. Parsing dominates a cold build —
even cut down (see pyfast), the textual tree takes about half a second on one core — so a
large cold build sends half the files (by bytes) to `python -m gearshift.context.pyscan` and
parses the other half here; with two cores that nearly halves the wall time. Any failure of the worker
only costs time: its half is parsed here instead.
"""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

from gearshift.context.jsscan import scan_js_file
from gearshift.context.pyscan import no_gc, scan_python_file
from gearshift.context.resolve import is_python

PARALLEL_MIN_BYTES = 1_500_000  # below this the second process costs more than it saves


class Record(NamedTuple):
    mtime_ns: int
    size: int
    chars: int  # length of the decoded text: what token estimates are made from
    imports: tuple[tuple[str, int, tuple[str, ...], int], ...]
    defs: dict[str, str]
    # None until a view needs them (Python only; see pyscan): `ImportGraph.detailed` makes them
    docstrings: tuple[tuple[int, int, int, int, bool], ...] | None
    outline: tuple[Any, ...] | None
    error: str


def scan_file(path: str, rel: str, details: bool = False) -> tuple[Any, ...]:
    """The record of one file as a plain tuple (see `Record`)."""
    return scan_python_file(path, details) if is_python(rel) else scan_js_file(path)


def scan_many(root: str, rels: list[str]) -> dict[str, tuple[Any, ...]]:
    with no_gc():
        return {rel: scan_file(os.path.join(root, rel), rel) for rel in rels}


def scan_files(
    root: Path, rels: list[str], sizes: dict[str, int]
) -> tuple[dict[str, tuple[Any, ...]], int]:
    """Records for `rels`, and how many processes parsed them."""
    total = sum(sizes.get(r, 0) for r in rels)
    if total < PARALLEL_MIN_BYTES or (os.cpu_count() or 1) < 2:
        return scan_many(str(root), rels), 1
    mine, theirs = _split(rels, sizes)
    worker = _start_worker(str(root), theirs)
    out = scan_many(str(root), mine)
    got = _finish_worker(worker)
    if got is None or set(got) != set(theirs):
        got = scan_many(str(root), theirs)
        return {**out, **got}, 1
    return {**out, **got}, 2


def _split(rels: list[str], sizes: dict[str, int]) -> tuple[list[str], list[str]]:
    """Two halves of about equal bytes, largest files first."""
    halves: tuple[list[str], list[str]] = ([], [])
    load = [0, 0]
    for rel in sorted(rels, key=lambda r: -sizes.get(r, 0)):
        side = 0 if load[0] <= load[1] else 1
        halves[side].append(rel)
        load[side] += sizes.get(rel, 0)
    return halves


def _start_worker(root: str, rels: list[str]) -> subprocess.Popen[bytes] | None:
    package_parent = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    try:
        proc = subprocess.Popen(
            [sys.executable, "-S", "-m", "gearshift.context.pyscan"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        assert proc.stdin is not None
        proc.stdin.write(marshal.dumps((root, rels)))
        proc.stdin.close()
    except OSError:
        return None
    return proc


def _finish_worker(proc: subprocess.Popen[bytes] | None) -> dict[str, tuple[Any, ...]] | None:
    if proc is None:
        return None
    assert proc.stdout is not None
    try:
        data = proc.stdout.read()
        proc.wait(timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait()
        return None
    if proc.returncode != 0:
        return None
    try:
        got = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None
    return got if isinstance(got, dict) else None
