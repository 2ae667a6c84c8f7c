"""One task's context: the named files byte-exact, then the best of their neighbourhood that fits.

Named files (the task's context_files) are sent whole and unmodified — the model edits them with
str_replace, which must match. Files the prompt mentions by path or module name come next: whole
(and then treated as named) when they fit in what the budget leaves, else cut to fit (see
`_add_mentions`) or left out, with why — a mention is a hint, and "what keys are in data.json?"
must not send a million tokens. Then the ranked neighbours (see `rank`) are added while the file
cap and the token budget allow: stripped of documentation when the config says so, or cut to the
definitions that matter plus the signatures of the rest when the whole file does not fit.
Everything left out is listed with why. Named files are sent even when they alone exceed the
budget or max_files (the model must see what it edits); the cap and the budget limit what is
added around them, so then no room is left and every candidate is pruned, with the numbers.

`tokens_naive` is what a tool without pruning would send: the named files plus every project
file they import *directly*, whole — the files a developer would paste by hand. (A transitive
closure would make any selection look good: on a large package it is most of the tree.)
"""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gearshift.config import ContextConfig
from gearshift.context import views
from gearshift.context.graph import ImportGraph
from gearshift.context.named import (  # noqa: F401  (ContextError, AMBIGUOUS: re-exported)
    AMBIGUOUS,
    ContextError,
    prompt_mentions,
    read_text,
    resolve_named,
)
from gearshift.context.rank import Candidate, candidates, prompt_words
from gearshift.context.resolve import is_python
from gearshift.models.pricing import estimate_tokens

NAMED = "named"
@dataclass(frozen=True)
class SelectedFile:
    path: str
    reason: str
    tokens: int
    mode: str  # "full" | "stripped" | "signatures"
    text: str

    def to_dict(self, include_text: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path, "reason": self.reason, "tokens": self.tokens, "mode": self.mode
        }
        if include_text:
            out["text"] = self.text
        return out


@dataclass(frozen=True)
class Selection:
    files: list[SelectedFile]
    pruned: list[dict[str, str]]  # {"path", "reason"}
    tokens_sent: int
    tokens_naive: int
    fanout: int
    timings_ms: dict[str, float]

    def to_dict(self, include_text: bool = False) -> dict[str, Any]:
        return {
            "files": [f.to_dict(include_text) for f in self.files],
            "pruned": [dict(p) for p in self.pruned],
            "tokens_sent": self.tokens_sent,
            "tokens_naive": self.tokens_naive,
            "fanout": self.fanout,
            "timings_ms": {k: round(v, 3) for k, v in self.timings_ms.items()},
        }


def select_context(
    root: Path,
    cfg: ContextConfig,
    named: list[str],
    prompt: str = "",
    *,
    graph: ImportGraph | None = None,
) -> Selection:
    """Choose what the model sees for a task naming `named` (paths or module names) with `prompt`.

    Raises `ContextError` for a named path that is missing, outside the project or not text.
    Without a `graph` the cached one is loaded (and brought up to date) first.
    """
    t0 = time.perf_counter()
    root = Path(root).resolve()
    clock = _Clock()
    if graph is None:
        graph = ImportGraph.load_or_build(root)
        if not graph.stats.get("cold"):
            clock.update_ms += graph.stats.get("parse_ms", 0.0)
    t1 = time.perf_counter()
    graph_ms = (t1 - t0) * 1000.0 - clock.update_ms
    paths = resolve_named(root, graph, named)
    mentioned, pruned = prompt_mentions(root, graph, prompt, set(paths))
    clock.refresh(graph, paths + mentioned)

    files: list[SelectedFile] = []
    for path in paths:  # never capped: the model must see every file it is asked to edit
        text = read_text(root, path)
        files.append(SelectedFile(path, NAMED, estimate_tokens(text), "full", text))
    left_out = _addprompt_mentions(root, graph, cfg, prompt, mentioned, files, pruned)
    paths += mentioned
    in_graph = [p for p in paths if p in graph.files]
    if cfg.pruning_strategy == "dependency_graph":
        seeds = [f for f in files if f.path in graph.files]  # what is sent, whole or cut
        bases = _base_names(graph, seeds)
        max_dependents = max(2, cfg.max_files // 5)
        ranked, skipped = candidates(
            graph, [f.path for f in seeds], cfg.include_types, prompt_words(prompt),
            bases=bases, max_dependents=max_dependents,
        )
        # a mention already left out (too large for any view) is not offered again as a neighbour
        ranked = [c for c in ranked if c.path not in left_out]
        pruned.extend(s for s in skipped if s["path"] not in left_out)
        _fill(root, graph, cfg, ranked, files, pruned, clock)

    graph.save_details()
    sent = {f.path: f.tokens for f in files if f.reason == NAMED}
    imported = {t for p in in_graph for t in graph.imports(p)}.difference(paths)
    naive = sum(sent.get(p) or _full_tokens(root, graph, p) for p in paths)
    naive += sum(_full_tokens(root, graph, t) for t in imported)
    t2 = time.perf_counter()
    ms = 1000.0
    return Selection(
        files=files,
        pruned=pruned,
        tokens_sent=sum(f.tokens for f in files),
        tokens_naive=naive,
        fanout=graph.fanout(in_graph),
        timings_ms={
            "graph": graph_ms,
            "update": clock.update_ms,
            "select": (t2 - t1) * ms - clock.refresh_ms,
        },
    )


MENTIONED = "mentioned in the prompt"
MIN_EXCERPT_TOKENS = 200  # less than this of a large file tells the model nothing


def _addprompt_mentions(
    root: Path,
    graph: ImportGraph,
    cfg: ContextConfig,
    prompt: str,
    mentioned: list[str],
    files: list[SelectedFile],
    pruned: list[dict[str, str]],
) -> set[str]:
    """Add the files the prompt mentions, in its order, within what the budget leaves.

    One that fits is sent whole, as a named file (the model may edit it). One that does not is
    cut to fit the room it may take — all of what is left, or half of it when neighbours of a
    source file will compete for the rest: a source file to its outline (the definitions the
    prompt names whole, the rest as signatures), anything else (data, logs, docs) to its first
    lines, which show its shape and the model can read on with the tool. Less room than
    MIN_EXCERPT_TOKENS leaves it out. The reason says which, with the numbers. A mention that is
    not text (an image: "add a link to logo.png") or cannot be read is left out too, with why —
    unlike a context file, it must not fail the task. Returns the mentions left out.
    """
    left = cfg.token_budget - sum(f.tokens for f in files)
    words = prompt_words(prompt)
    left_out: set[str] = set()
    for path in mentioned:
        try:
            text = read_text(root, path)
        except ContextError as exc:  # a mention is a hint: an image or unreadable file is skipped
            pruned.append({"path": path, "reason": f"{MENTIONED}; {exc.reason}"})
            left_out.add(path)
            continue
        tokens = estimate_tokens(text)
        if tokens <= left:
            files.append(SelectedFile(path, NAMED, tokens, "full", text))
            left -= tokens
            continue
        neighbours = cfg.pruning_strategy == "dependency_graph" and (
            path in graph.files or any(f.path in graph.files for f in files)
        )
        room = left // 2 if neighbours else left
        over = f"{MENTIONED}; over token budget ({tokens} tokens, {max(left, 0)} left)"
        cut = _cut_to_fit(root, graph, cfg, path, text, words, room, over) if room >= MIN_EXCERPT_TOKENS else None
        if cut is None:
            pruned.append({"path": path, "reason": f"{over}; left out"})
            left_out.add(path)
            continue
        files.append(cut)
        left -= cut.tokens
    return left_out


def _cut_to_fit(
    root: Path,
    graph: ImportGraph,
    cfg: ContextConfig,
    path: str,
    text: str,
    words: set[str],
    room: int,
    over: str,
) -> SelectedFile | None:
    """A mentioned file too large to send whole, in at most `room` tokens: its outline when it
    is source the views can cut, else its first lines."""
    if path in graph.files:
        cand = Candidate(path)
        record = graph.record(path)
        cand.add(0.0, over, {w for w in words if record is not None and w in record.defs})
        options = _Views.of(root, graph, cfg, cand)
        if options is not None and options.view is not None:
            picked = options.whole(room)
            if picked is None:
                for members in (True, False):
                    sig = options.view.signatures(options.keep, members=members)
                    if sig.strip() and estimate_tokens(sig) <= room:
                        picked = options._file("signatures", sig)
                        break
            if picked is not None:
                how = "stripped of documentation" if picked.mode == "stripped" else "as an outline"
                return replace(picked, reason=f"{over}; sent {how}")
    head = _head(text, room)
    if head is None:
        return None
    return SelectedFile(
        path, f"{over}; sent its first lines", estimate_tokens(head), "truncated", head
    )


def _head(text: str, room: int) -> str | None:
    """The first whole lines of `text` that fit in `room` tokens, with a note of what is left
    out (a single huge line, minified JSON, is cut mid-line)."""
    total = text.count("\n") + (not text.endswith("\n"))
    budget = room * 4 - 120  # the characters the note leaves (estimate_tokens: 4 a token)
    if budget <= 0:
        return None
    cut = text.rfind("\n", 0, budget + 1)
    if cut < budget // 2:  # no line break, or a short line before a huge one
        body, shown = text[:budget], f"the first {budget:,} of {len(text):,} characters"
    else:
        body = text[: cut + 1]
        shown = f"the first {body.count(chr(10)):,} of {total:,} lines"
    note = f"\n… [truncated: {shown} shown; view the file with the tool for the rest]\n"
    return body.rstrip("\n") + note


class _Clock:
    """Time spent bringing stale records up to date, kept apart from selection time."""

    def __init__(self) -> None:
        self.update_ms = 0.0  # re-parsing: on load (warm) and on refresh
        self.refresh_ms = 0.0  # the part of update_ms spent inside selection

    def refresh(self, graph: ImportGraph, paths: list[str]) -> None:
        t = time.perf_counter()
        graph.refresh(paths)
        spent = (time.perf_counter() - t) * 1000.0
        self.update_ms += spent
        self.refresh_ms += spent


def _fill(
    root: Path,
    graph: ImportGraph,
    cfg: ContextConfig,
    ranked: list[Candidate],
    files: list[SelectedFile],
    pruned: list[dict[str, str]],
    clock: _Clock,
) -> None:
    """Add candidates while the file cap and the token budget allow, in two passes.

    First every candidate, in rank order, gets its cheapest useful view (the whole file when it
    is small, else the definitions that matter plus one-line signatures), so the budget covers
    as many of the best files as it can; then, again in rank order, views are upgraded (whole
    file, else all member signatures) with what is left. Spending the budget on one large file
    first would starve the rest.
    """
    left = cfg.token_budget - sum(f.tokens for f in files)
    chosen: list[tuple[_Views, SelectedFile]] = []
    for cand in ranked:
        if len(files) + len(chosen) >= cfg.max_files:
            reason = f"{cand.reason}; over max_files ({cfg.max_files})"
            pruned.append({"path": cand.path, "reason": reason})
            continue
        options = picked = None
        if left > 0:
            clock.refresh(graph, [cand.path])
            options = _Views.of(root, graph, cfg, cand)
            picked = options.cheapest(left) if options is not None else None
        if options is None or picked is None:
            need = _full_tokens(root, graph, cand.path)
            reason = f"{cand.reason}; over token budget ({need} tokens, {max(left, 0)} left)"
            pruned.append({"path": cand.path, "reason": reason})
            continue
        chosen.append((options, picked))
        left -= picked.tokens
    for i, (options, picked) in enumerate(chosen):
        better = options.upgrade(picked, left)
        if better is not None:
            left -= better.tokens - picked.tokens
            chosen[i] = (options, better)
    files.extend(picked for _, picked in chosen)


SMALL_FILE_TOKENS = 400  # below this a signatures view saves too little to be worth it


class _Views:
    """The views of one candidate, each computed only when asked for."""

    def __init__(self, cand: Candidate, text: str, view: Any, strip: bool, keep: set[str]) -> None:
        self.cand = cand
        self.text = text
        self.view = view  # a PythonView / JsView, or None when the file cannot be cut
        self.strip = strip
        self.keep = keep
        self.full_tokens = estimate_tokens(text)  # an upper bound of the whole view

    @classmethod
    def of(
        cls, root: Path, graph: ImportGraph, cfg: ContextConfig, cand: Candidate
    ) -> _Views | None:
        record = graph.detailed(cand.path)
        if record is None:
            return None
        cuttable = views.can_strip(cand.path) and not record.error
        strip = cfg.strip_documentation and cuttable

        def load() -> tuple[str, Any]:
            text = read_text(root, cand.path)
            if not cuttable:
                return text, None
            if is_python(cand.path):
                return text, views.PythonView(text, record, strip)
            return text, views.JsView(text, strip)

        # Keyed by the file's version: another task of the session reuses the work.
        text, view = graph.memoized(("view", cand.path, record.mtime_ns, record.size, strip), load)
        keep = set(cand.keep)
        if isinstance(view, views.PythonView):
            keep |= _used_definitions(view, cand.uses)
        return cls(cand, text, view, strip, keep)

    def _file(self, mode: str, text: str) -> SelectedFile:
        return SelectedFile(self.cand.path, self.cand.reason, estimate_tokens(text), mode, text)

    def whole(self, left: int) -> SelectedFile | None:
        """The whole file, stripped if so configured, when it fits in `left` tokens."""
        if not self.strip or self.view is None:
            return self._file("full", self.text) if self.full_tokens <= left else None
        if self.full_tokens * 0.5 > left:  # stripping never removes half of a file's code
            return None
        chosen = self._file("stripped", self.view.whole())
        return chosen if chosen.tokens <= left else None

    def cheapest(self, left: int) -> SelectedFile | None:
        """The smallest view worth sending, if it fits: a small file whole, else an outline.

        The outline has what matters in full (`keep`) and every other definition as a one-line
        signature (classes as their header alone).
        """
        if self.full_tokens <= SMALL_FILE_TOKENS or self.view is None:
            return self.whole(left)
        sig = self.view.signatures(self.keep, members=False)
        if not sig.strip():  # nothing but imports: the file itself is the answer
            return self.whole(left)
        chosen = self._file("signatures", sig)
        return chosen if chosen.tokens <= left else None

    def upgrade(self, current: SelectedFile, left: int) -> SelectedFile | None:
        """A fuller view within `left` more tokens: the whole file, else every member's signature."""
        if current.mode != "signatures":
            return None
        room = left + current.tokens
        better = self.whole(room)
        if better is None and self.view is not None:
            sig = self._file("signatures", self.view.signatures(self.keep, members=True))
            better = sig if current.tokens < sig.tokens <= room else None
        return better


_PY_BASES = re.compile(r"^[ \t]*class[ \t]+\w+[ \t]*\(([^)]*)\)", re.M)
_JS_BASES = re.compile(r"\b(?:extends|implements)[ \t]+([\w.]+(?:[ \t]*,[ \t]*[\w.]+)*)")


def _base_names(graph: ImportGraph, named: list[SelectedFile]) -> set[str]:
    """Names the named files' classes derive from (Python bases, TS extends/implements)."""
    out: set[str] = set()
    for f in named:
        rec = graph.record(f.path)
        key = ("bases", f.path, rec.mtime_ns if rec else 0, rec.size if rec else 0, len(f.text))
        out |= graph.memoized(key, functools.partial(_bases_of, f))
    return out


def _bases_of(f: SelectedFile) -> set[str]:
    out: set[str] = set()
    pattern = _PY_BASES if is_python(f.path) else _JS_BASES
    for m in pattern.finditer(f.text):
        for part in m.group(1).split(","):
            name = part.split("=")[0].split("[")[0].strip().rsplit(".", 1)[-1]
            if name.isidentifier():
                out.add(name)
    return out


def _used_definitions(view: views.PythonView, uses: set[str]) -> set[str]:
    """Top-level definitions of a dependent that mention what it imports from a named file."""
    if not uses:
        return set()
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(uses))) + r")\b")
    text, starts = view.text, view.starts
    out: set[str] = set()
    for kind, name, start, _body, _col, end, _members in view.outline:
        hi = starts[end] if end < len(starts) else len(text)
        if kind in ("d", "c") and name and pattern.search(text, starts[start - 1], hi):
            out.add(name)
    return out


# ---------------------------------------------------------------------------------------------
def _full_tokens(root: Path, graph: ImportGraph, rel: str) -> int:
    record = graph.record(rel)
    if record is not None:
        return (record.chars + 3) // 4
    try:
        return estimate_tokens(read_text(root, rel))
    except ContextError:
        return 0
