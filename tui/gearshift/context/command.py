"""`gearshift context PROJECT --files PATH... [--prompt TEXT] [--json]`: a selection, no model call.

It runs exactly what the engine runs for a task (`ImportGraph.load_or_build`, then
`select_context` with the project's `[context]` config) and shows the result: each file with
why it was chosen, how it is sent and its token estimate, what was pruned and why, tokens sent
against the naive selection, and how long each phase took.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

from gearshift.config import ConfigError, load_config
from gearshift.context.graph import ImportGraph
from gearshift.context.select import AMBIGUOUS, ContextError, Selection, select_context


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _parser() -> _Parser:
    p = _Parser(
        prog="gearshift context",
        description="Show the context a task would get — files, reasons, token estimates — without calling a model.",
    )
    p.add_argument("project", help="the project folder")
    p.add_argument("--files", nargs="*", default=[], metavar="PATH",
                   help="files the task names (paths relative to the project, or module names)")
    p.add_argument("--prompt", default="", help="the task's prompt; paths and modules it mentions count as named")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--text", action="store_true", help="with --json: include each file's text as sent")
    p.add_argument("--max-files", type=int, help="override [context] max_files")
    p.add_argument("--budget", type=int, help="override [context] token_budget")
    return p


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    root = Path(args.project)
    if not root.is_dir():
        return _fail(f"{args.project}: not a project folder")
    root = root.resolve()
    try:
        cfg = load_config(root).context
        overrides = {k: v for k, v in (("max_files", args.max_files), ("token_budget", args.budget)) if v is not None}
        for key, value in overrides.items():
            if value <= 0:
                return _fail(f"--{key.replace('_', '-').replace('token-', '')}: expected a positive integer, got {value}")
        cfg = dataclasses.replace(cfg, **overrides)
    except ConfigError as exc:
        return _fail(str(exc))
    if not args.files and not args.prompt.strip():
        return _fail("name at least one file with --files, or mention one in --prompt")

    t0 = time.perf_counter()
    graph = ImportGraph.load_or_build(root)
    load_ms = (time.perf_counter() - t0) * 1000.0
    try:
        selection = select_context(root, cfg, list(args.files), args.prompt, graph=graph)
    except ContextError as exc:
        return _fail(str(exc))
    if not selection.files:
        return _fail(_nothing_named(selection))
    reparsed = 0.0 if graph.stats.get("cold") else graph.stats.get("parse_ms", 0.0)
    timings = {
        "graph": load_ms - reparsed,
        "update": reparsed + selection.timings_ms.get("update", 0.0),
        "select": selection.timings_ms.get("select", 0.0),
    }
    report = _report(root, cfg, graph, selection, timings, args.text)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(_table(report))
    return 0


def _fail(message: str) -> int:
    print(f"gearshift context: error: {message}", file=sys.stderr)
    return 2


def _nothing_named(selection: Selection) -> str:
    """Why no file was selected: an ambiguous mention (with its candidates), else nothing named."""
    clashes = [p for p in selection.pruned if p["reason"].startswith(AMBIGUOUS)]
    if not clashes:
        return "no project file is named: give one with --files, or mention its path in --prompt"
    which = "; ".join(f"{p['path']} could be {p['reason'][len(AMBIGUOUS):]}" for p in clashes)
    return f"the prompt's mention is ambiguous: {which} — name one with --files, or write its path in --prompt"


def _report(
    root: Path, cfg: Any, graph: ImportGraph, selection: Selection, timings: dict[str, float], text: bool
) -> dict[str, Any]:
    out = selection.to_dict(include_text=text)
    out["timings_ms"] = {k: round(v, 3) for k, v in timings.items()}
    out["project"] = str(root)
    out["config"] = {
        "max_files": cfg.max_files,
        "token_budget": cfg.token_budget,
        "pruning_strategy": cfg.pruning_strategy,
        "include_types": cfg.include_types,
        "strip_documentation": cfg.strip_documentation,
    }
    stats = graph.stats
    out["graph"] = {
        "files": stats.get("files", len(graph.files)),
        "parsed": stats.get("parsed", 0),
        "cold": bool(stats.get("cold")),
        "workers": stats.get("workers", 0),
    }
    return out


def _table(report: dict[str, Any]) -> str:
    files, pruned = report["files"], report["pruned"]
    sent, naive = report["tokens_sent"], report["tokens_naive"]
    share = f" ({sent / naive:.0%} of naive)" if naive else ""
    cfg = report["config"]
    lines = [
        f"{len(files)} files, {sent:,} tokens sent{share}; naive {naive:,} tokens "
        f"(named files + their direct imports); fan-out {report['fanout']}",
        f"budget {cfg['token_budget']:,} tokens, {cfg['max_files']} files, {cfg['pruning_strategy']}",
        "",
    ]
    width = max([len(f["path"]) for f in files] + [4])
    lines.append(f"{'tokens':>7}  {'mode':<10}  {'file':<{width}}  why")
    for f in files:
        lines.append(f"{f['tokens']:>7,}  {f['mode']:<10}  {f['path']:<{width}}  {f['reason']}")
    if pruned:
        lines += ["", f"pruned ({len(pruned)}):"]
        shown = pruned[:20]
        lines += [f"  {p['path']}  — {p['reason']}" for p in shown]
        if len(pruned) > len(shown):
            lines.append(f"  … and {len(pruned) - len(shown)} more (--json lists them all)")
    t, g = report["timings_ms"], report["graph"]
    how = "built" if g["cold"] else f"loaded, {g['parsed']} re-parsed"
    lines += [
        "",
        f"timings: graph {t['graph']:.1f} ms ({g['files']} files, {how}), "
        f"update {t['update']:.1f} ms, select {t['select']:.1f} ms",
    ]
    return "\n".join(lines)
