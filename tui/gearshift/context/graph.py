"""The project's import graph: built once, cached in `.gearshift/`, kept current file by file.

The cache holds one record per file (its raw imports, top-level names and — once a selection
has viewed the file — its docstring positions and outline) keyed by mtime and size, so a warm
load stats the tree and re-parses only what changed; `update` re-parses exactly the files the
watcher reports. Rewriting the whole cache costs tens of milliseconds on a large tree, more
than an update may take, so an update appends its records to a journal next to the cache
instead; loading replays the journal and folds it in. Edges are *resolved* on every load
because resolution depends on the whole file set (see `resolve`), which is cheap: dictionary
lookups over a few thousand imports.
"""

from __future__ import annotations

import os
import posixpath
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from gearshift.context import cache
from gearshift.context.pyscan import LAZY, REEXPORT, TYPE_ONLY
from gearshift.context.resolve import PY_SUFFIXES, Resolver, is_python
from gearshift.context.scan import Record, scan_file, scan_files
from gearshift.context.tree import SOURCE_SUFFIXES, Ignore, indexable, skipped, walk
from gearshift.context.tsconfig import CONFIG_NAMES

JOURNAL_LIMIT = 256  # entries before an update folds the journal into the cache
MEMO_LIMIT = 48  # files kept rendered between selections (each holds its text and line index)


class Edge:
    """How one file imports another: the names it binds; whether every such import is type-only."""

    __slots__ = ("names", "type_only", "lazy", "reexport")

    def __init__(self, flags: int, reexport: bool) -> None:
        self.names: list[str] = []  # "orig" or "orig:alias"; "*" for star imports
        self.type_only = bool(flags & TYPE_ONLY)
        self.lazy = bool(flags & LAZY)
        self.reexport = reexport

    def merge(self, flags: int, reexport: bool) -> None:
        self.type_only = self.type_only and bool(flags & TYPE_ONLY)
        self.lazy = self.lazy and bool(flags & LAZY)
        self.reexport = self.reexport or reexport

    def bound(self) -> list[str]:
        """The original names imported (not the aliases), without star imports."""
        return [n.partition(":")[0] for n in self.names if not n.startswith("*")]


class ImportGraph:
    """Files and who imports whom; paths are posix paths relative to `root`."""

    def __init__(
        self,
        root: Path,
        records: dict[str, Record],
        configs: Iterable[str],
        cache_path: Path | None,
    ) -> None:
        self.root = root
        self.cache_path = cache_path
        self.stats: dict[str, Any] = {}
        self._records = records
        self._configs = set(configs)
        self._ignore = Ignore(root)
        self._deps: dict[str, dict[str, Edge]] = {}
        self._rdeps: dict[str, set[str]] = {}
        self._files: frozenset[str] | None = None
        self._journal_entries = 0
        self._unsaved: set[str] = set()  # files whose records gained details since the last write
        self._memo: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._relink_all()

    # -- building and loading ---------------------------------------------------------------

    @classmethod
    def load_or_build(cls, root: Path, cache_dir: Path | None = None) -> ImportGraph:
        """The graph of `root`, re-parsing only files whose mtime or size differ from the cache."""
        t0 = time.perf_counter()
        root = Path(root).resolve()
        cache_path = (cache_dir if cache_dir is not None else root / ".gearshift") / cache.CACHE_NAME
        cached, journal_entries = cache.read(cache_path, root)
        found, configs = walk(root, Ignore(root))
        stale = [rel for rel, st in found.items() if rel not in cached or cached[rel][:2] != st]
        fresh = set(found).difference(stale)
        records = {rel: Record._make(cached[rel]) for rel in fresh}
        t1 = time.perf_counter()
        sizes = {rel: found[rel][1] for rel in stale}
        scanned, workers = scan_files(root, stale, sizes) if stale else ({}, 0)
        records.update((rel, Record._make(rec)) for rel, rec in scanned.items())
        t2 = time.perf_counter()
        graph = cls(root, records, configs, cache_path)
        t3 = time.perf_counter()
        if stale or len(cached) != len(found) or journal_entries:
            graph._save()
        t4 = time.perf_counter()
        ms = 1000.0
        graph.stats.update({
            "files": len(found), "parsed": len(stale), "reused": len(found) - len(stale),
            "cold": not cached, "workers": workers, "walk_ms": (t1 - t0) * ms,
            "parse_ms": (t2 - t1) * ms, "resolve_ms": (t3 - t2) * ms, "save_ms": (t4 - t3) * ms,
        })
        return graph

    def _save(self) -> None:
        if self.cache_path is None:
            return
        try:
            cache.write(self.cache_path, self.root, {rel: tuple(rec) for rel, rec in self._records.items()})
            self._journal_entries = 0
            self._unsaved.clear()
        except OSError as exc:  # a read-only project still gets a graph, just not a cache
            self.stats["cache_error"] = str(exc)

    def _append(self, rels: Iterable[str]) -> None:
        """Persist these files' records (None for a deleted file) without rewriting the cache."""
        rels = list(rels)
        if self.cache_path is None:
            return
        if self._journal_entries >= JOURNAL_LIMIT or not self.cache_path.exists():
            self._save()
            return
        try:
            cache.append(self.cache_path, {r: tuple(rec) if (rec := self._records.get(r)) else None for r in rels})
            self._journal_entries += 1
            self._unsaved.difference_update(rels)
        except OSError as exc:
            self.stats["cache_error"] = str(exc)

    def detailed(self, path: str) -> Record | None:
        """The file's record with docstrings and outline, parsing it whole the first time.

        Only a selection's views need them, so a build leaves them out (see pyscan) and they are
        made here per file version, kept, and written out by `save_details`.
        """
        rec = self._records.get(path)
        if rec is None or rec.outline is not None:
            return rec
        full = Record._make(scan_file(str(self.root / path), path, details=True))
        if full[:2] != rec[:2]:  # the file changed since it was scanned: rescan it first
            self.update([path])
            rec = self._records.get(path)
            if rec is None or rec[:2] != full[:2]:
                return rec._replace(docstrings=(), outline=()) if rec else None
        # imports and defs stay as scanned: equal for any file `ast` accepts (see pyfast)
        rec = self._records[path] = rec._replace(
            docstrings=full.docstrings, outline=full.outline, error=full.error
        )
        self._unsaved.add(path)
        return rec

    def save_details(self) -> None:
        """Journal the records that gained details, so the next session does not parse them."""
        if self._unsaved:
            self._append(sorted(self._unsaved))

    # -- incremental update -----------------------------------------------------------------

    def update(self, paths: list[str]) -> list[str]:
        """Re-parse these files (created, modified or deleted; folders too) and persist.

        Paths are relative to the root, or absolute; paths outside it, in skipped folders or not
        source files are ignored (a changed tsconfig/jsconfig re-resolves everything).

        Returns the files whose project imports changed — including files that did not change
        themselves but whose imports now resolve differently because a file appeared or vanished.
        """
        set_changed = configs_changed = False
        reparsed: list[str] = []
        touched: list[str] = []
        for rel in {r for r in map(self._relative, paths) if r is not None}:
            full = self.root / rel
            if posixpath.basename(rel) in CONFIG_NAMES:
                configs_changed = True
                if full.is_file():
                    self._configs.add(rel)
                else:
                    self._configs.discard(rel)
                continue
            if full.is_dir() and skipped(self.root, rel, self._ignore, is_dir=True):
                targets, gone = [], []
            elif full.is_dir():
                found, configs = walk(self.root, self._ignore, rel)
                configs_changed |= not set(configs) <= self._configs
                self._configs |= set(configs)
                # a folder event: re-parse only what differs from its record
                targets = [r for r, st in found.items() if r not in self._records or self._records[r][:2] != st]
                gone = [r for r in self._records if r.startswith(f"{rel}/") and r not in found]
            elif full.is_file() and indexable(rel) and not skipped(self.root, rel, self._ignore):
                targets, gone = [rel], []
            else:
                targets = []
                gone = [r for r in self._records if r == rel or r.startswith(f"{rel}/")]
            for r in gone:
                del self._records[r]
                set_changed = True
                touched.append(r)
            for r in targets:
                set_changed |= r not in self._records
                self._records[r] = Record._make(scan_file(str(self.root / r), r))
                reparsed.append(r)
                touched.append(r)
        if not (set_changed or configs_changed or reparsed):
            return []
        self._files = None
        if set_changed or configs_changed:
            before = {src: set(edges) for src, edges in self._deps.items()}
            self._relink_all()
            after = {src: set(edges) for src, edges in self._deps.items()}
            every = before.keys() | after.keys()
            changed = [p for p in every if before.get(p, set()) != after.get(p, set())]
        else:
            changed = []
            for rel in reparsed:
                old = set(self._deps.get(rel, {}))
                self._link(rel)
                if set(self._deps.get(rel, {})) != old:
                    changed.append(rel)
        self._append(touched)
        return sorted(changed)

    def refresh(self, paths: Iterable[str]) -> list[str]:
        """Update whichever of these files differ on disk from their record (no watcher).

        A source file the graph does not know yet (created since the load) is added.
        """
        stale: list[str] = []
        for rel in paths:
            rec = self._records.get(rel)
            if rec is None:
                full = self.root / rel
                if indexable(rel) and full.is_file() and not skipped(self.root, rel, self._ignore):
                    stale.append(rel)
                continue
            try:
                st = os.stat(self.root / rel)
            except OSError:
                stale.append(rel)
                continue
            if (st.st_mtime_ns, st.st_size) != (rec.mtime_ns, rec.size):
                stale.append(rel)
        if stale:
            self.update(stale)
        return stale

    def _relative(self, path: str) -> str | None:
        p = Path(path)
        if p.is_absolute():
            try:
                p = p.resolve().relative_to(self.root)
            except ValueError:
                return None
        rel = posixpath.normpath(p.as_posix())
        return None if rel in (".", "") or rel.startswith("../") else rel

    # -- resolution -------------------------------------------------------------------------

    def _relink_all(self) -> None:
        self._resolver = Resolver(self.root, self._records, self._configs)
        self._deps, self._rdeps = {}, {}
        self._export_index: dict[str, tuple[dict[str, tuple[str, str]], list[str]]] = {}
        for rel in self._records:
            self._link(rel)

    def _link(self, src: str) -> None:
        old = self._deps.pop(src, {})
        for target in old:
            importers = self._rdeps.get(target)
            if importers is not None:
                importers.discard(src)
        rec = self._records.get(src)
        if rec is None:
            return
        python = is_python(src)
        edges: dict[str, Edge] = {}
        for module, level, names, flags in rec.imports:
            if python:
                pairs = self._resolver.python(src, module, level, names)
                reexport = bool(names)  # a from-import makes the names importable from here too
            else:
                found = self._resolver.js(src, module)
                pairs = ([(found, n) for n in names] or [(found, "")]) if found else []
                reexport = bool(flags & REEXPORT)
            for target, binding in pairs:
                if target == src:
                    continue
                edge = edges.get(target)
                if edge is None:
                    edges[target] = edge = Edge(flags, reexport)
                else:
                    edge.merge(flags, reexport)
                if binding:
                    edge.names.append(binding)
        self._deps[src] = edges
        self._export_index.clear()
        for target in edges:
            self._rdeps.setdefault(target, set()).add(src)

    # -- queries ----------------------------------------------------------------------------

    @property
    def files(self) -> frozenset[str]:
        """Every indexed source file."""
        if self._files is None:
            self._files = frozenset(self._records)
        return self._files

    def memoized(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        """A value derived from files, kept for the session (the key must name their versions)."""
        if key in self._memo:
            self._memo.move_to_end(key)
            return self._memo[key]
        value = self._memo[key] = make()
        if len(self._memo) > MEMO_LIMIT:
            self._memo.popitem(last=False)
        return value

    def record(self, path: str) -> Record | None:
        return self._records.get(path)

    def edges(self, path: str) -> dict[str, Edge]:
        """The project files `path` imports, with how it imports each."""
        return self._deps.get(path, {})

    def imports(self, path: str) -> set[str]:
        return set(self._deps.get(path, ()))

    def importers(self, path: str) -> set[str]:
        return set(self._rdeps.get(path, ()))

    def fanout(self, paths: list[str]) -> int:
        """Distinct project files linked (imports or importers) to these, themselves excluded."""
        own = set(paths)
        linked: set[str] = set()
        for p in own:
            linked.update(self._deps.get(p, ()))
            linked.update(self._rdeps.get(p, ()))
        return len(linked - own)

    def resolve_module(self, name: str) -> str | None:
        """A dotted module ("pkg.mod") or a path with or without its suffix ("src/x") → a file."""
        name = name.strip().strip("`'\"")
        if not name:
            return None
        if "/" in name or name.endswith(SOURCE_SUFFIXES):
            rel = self._relative(name)
            if rel is None:
                return None
            if rel in self._records:
                return rel
            stem = rel[: -len(posixpath.splitext(rel)[1])] if rel.endswith(PY_SUFFIXES) else rel
            return self._resolver._py_file(stem) or self._resolver._js_file(rel)
        return self._resolver.module(name)

    def definition(self, path: str, name: str) -> tuple[str, str] | None:
        """(file, kind) where `name` as importable from `path` is defined, through re-exports.

        kind is the defining file's kind for the name, or "m" when the name is a module.
        """
        found = self.origin(path, name)
        return found[:2] if found is not None else None

    def origin(self, path: str, name: str, _depth: int = 0) -> tuple[str, str, str] | None:
        """`definition` with the name it has where it is defined (re-exports may rename it)."""
        rec = self._records.get(path)
        if rec is None or _depth > 8:
            return None
        kind = rec.defs.get(name)
        if kind is not None:
            return path, kind, name
        named, stars = self._exports(path)
        hit = named.get(name)
        if hit is not None:
            target, orig = hit
            if module_name(target) == orig and orig not in self._records[target].defs:
                return target, "m", orig
            return self.origin(target, orig, _depth + 1)
        for target in stars:
            found = self.origin(target, name, _depth + 1)
            if found:
                return found
        return None

    def _exports(self, path: str) -> tuple[dict[str, tuple[str, str]], list[str]]:
        """Names `path` re-exports ({alias: (file, original name)}) and its star re-exports."""
        found = self._export_index.get(path)
        if found is None:
            named: dict[str, tuple[str, str]] = {}
            stars: list[str] = []
            for target, edge in self._deps.get(path, {}).items():
                if not edge.reexport:
                    continue
                for binding in edge.names:
                    orig, _, alias = binding.partition(":")
                    if orig == "*":
                        if not alias:
                            stars.append(target)
                    else:
                        named.setdefault(alias or orig, (target, orig))
            found = self._export_index[path] = (named, sorted(stars))
        return found


def module_name(path: str) -> str:
    """The name a file is imported by: its stem, or its folder's name for __init__ / index."""
    folder, _, base = path.rpartition("/")
    stem = base.partition(".")[0]
    return folder.rpartition("/")[2] if stem in ("__init__", "index") else stem

