"""Which project files a task's named files pull in, and in what order.

Scores are additive so that a file linked to several named files, or linked in several ways,
rises above one linked once. The weights, from strongest to weakest:

- imported by a named file: 3.0 (+1.0 when what it provides is a type and include_types is on,
  +0.25 per imported name up to four) — the model must read what the code it edits calls;
- a type definition a named file uses, reached through re-exports: 2.5 (include_types only);
- the file defining a function, class or value a named file imports through a re-export (a
  barrel, a package's __init__): 2.5 (+0.25 per name up to four), whatever include_types says;
- imports a named file: 2.0 (+0.5 for a test) — callers and tests show how the code is used;
- a lazy import (inside a function) either way: −0.5;
- the prompt mentions the file's module name: +1.5, or one of its top-level names: +1.0;
- a base class of a named file's classes: +1.0.

Files that only import a named file (its dependents) are capped at `max_dependents`: a budget is
a ceiling, not a target, and a widely used module has hundreds of callers; the best-ranked few
(tests first, then those the prompt points at) show how the code is used.

Ties go to the smaller file (more fit in the budget), then to the path, so a selection is
deterministic.
"""

from __future__ import annotations

import re

from gearshift.context.graph import Edge, ImportGraph, module_name
from gearshift.context.pyscan import TYPE
from gearshift.context.resolve import is_declaration

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
_TEST = re.compile(r"(^|/)(tests?/|test_[^/]*$|[^/]*_test\.py$|[^/]*\.(test|spec)\.[jt]sx?$)")


class Candidate:
    """A file a named file links to, its score, why, and what matters in it."""

    __slots__ = ("path", "score", "reasons", "keep", "used_edges", "dependent_only")

    def __init__(self, path: str) -> None:
        self.path = path
        self.score = 0.0
        self.reasons: list[str] = []
        self.keep: set[str] = set()  # definitions to keep whole in a signatures view
        self.used_edges: list[tuple[str, Edge]] = []  # (named file, how this file imports it)
        self.dependent_only = True  # linked only by importing a named file

    def add(self, score: float, reason: str, keep: set[str] | None = None) -> None:
        self.score += score
        if reason not in self.reasons:
            self.reasons.append(reason)
        if keep:
            self.keep |= keep

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)

    @property
    def uses(self) -> set[str]:
        """The names this dependent binds from named files (a module's name for `import m`)."""
        out: set[str] = set()
        for named, edge in self.used_edges:
            out |= {b.partition(":")[2] or b.partition(":")[0] for b in edge.names if b != "*"}
            if not edge.names:
                out.add(module_name(named))
        return out


def is_test(path: str) -> bool:
    return bool(_TEST.search(path))


def prompt_words(prompt: str) -> set[str]:
    return set(_WORD.findall(prompt))


def candidates(
    graph: ImportGraph,
    named: list[str],
    include_types: bool,
    words: set[str],
    *,
    bases: frozenset[str] | set[str] = frozenset(),
    max_dependents: int = 3,
) -> tuple[list[Candidate], list[dict[str, str]]]:
    """Ranked candidates, and what was left out on principle with why.

    `bases` are the names the named files' classes derive from; `words` the prompt's words.
    """
    found: dict[str, Candidate] = {}
    skipped: dict[str, str] = {}
    for n in named:
        _dependencies(graph, n, set(named), include_types, bases, found, skipped)
        _dependents(graph, n, set(named), found)
    lowered = {w.lower() for w in words}
    long_words = [w for w in words if len(w) >= 4]
    for c in found.values():
        _prompt_boost(graph, c, long_words, lowered)
    ranked = sorted(found.values(), key=lambda c: (-c.score, _chars(graph, c.path), c.path))
    pruned = [{"path": p, "reason": r} for p, r in sorted(skipped.items()) if p not in found]
    kept: list[Candidate] = []
    dependents = 0
    for c in ranked:
        if c.dependent_only:
            dependents += 1
            if dependents > max_dependents:
                reason = f"{c.reason}; beyond the {max_dependents} best dependents"
                pruned.append({"path": c.path, "reason": reason})
                continue
        kept.append(c)
    return kept, pruned


def _candidate(found: dict[str, Candidate], path: str) -> Candidate:
    c = found.get(path)
    if c is None:
        c = found[path] = Candidate(path)
    return c


def _dependencies(
    graph: ImportGraph,
    n: str,
    named: set[str],
    include_types: bool,
    bases: frozenset[str] | set[str],
    found: dict[str, Candidate],
    skipped: dict[str, str],
) -> None:
    """What `n` imports, and the files defining what it imports through re-exports."""
    for target, edge in graph.edges(n).items():
        if target in named:
            continue
        bound = set(edge.bound())
        type_only = edge.type_only or is_declaration(target)
        if type_only and not include_types:
            skipped.setdefault(target, f"type-only import of {n} (include_types is off)")
            continue
        typed = include_types and (type_only or _all_types(graph, target, bound))
        score = _link_score(3.0 + (1.0 if typed else 0.0), bound, bound, bases, edge.lazy)
        c = _candidate(found, target)
        c.add(score, f"{'type of' if typed else 'imported by'} {n}", bound)
        c.dependent_only = False
        _reexported(graph, n, target, edge, named, include_types, bases, found)


def _link_score(base: float, names: set[str], imported: set[str], bases: frozenset[str] | set[str], lazy: bool) -> float:
    """A dependency's weight: its base, +0.25 per name it provides (up to four), +1.0 when a
    named file subclasses one of them, −0.5 for a lazy import."""
    return base + 0.25 * min(len(names), 4) + (1.0 if imported & bases else 0.0) - (0.5 if lazy else 0.0)


def _reexported(
    graph: ImportGraph,
    n: str,
    target: str,
    edge: Edge,
    named: set[str],
    include_types: bool,
    bases: frozenset[str] | set[str],
    found: dict[str, Candidate],
) -> None:
    """The files defining what `n` imports from `target` when `target` re-exports it (a barrel,
    a package's __init__): the code is there, not in the two lines that pass it on.

    Types (and whatever a type-only import brings) need include_types; functions, classes and
    values are followed regardless, one step below a direct import.
    """
    defined: dict[str, tuple[set[str], set[str]]] = {}  # file -> (its names, names as imported)
    for name in sorted(set(edge.bound())):
        d = graph.origin(target, name)
        if d is None or d[0] == target or d[0] in named:
            continue
        path, kind, orig = d
        if kind == TYPE or edge.type_only or is_declaration(path):
            if include_types:
                c = _candidate(found, path)
                c.add(2.5, f"type of {n}", {orig})
                c.dependent_only = False
            continue
        origs, imported = defined.setdefault(path, (set(), set()))
        origs.add(orig)
        imported.add(name)
    for path, (origs, imported) in defined.items():
        score = _link_score(2.5, origs, imported, bases, edge.lazy)
        c = _candidate(found, path)
        c.add(score, f"imported by {n} via {target}", origs)
        c.dependent_only = False


def _dependents(graph: ImportGraph, n: str, named: set[str], found: dict[str, Candidate]) -> None:
    """What imports `n`, with the names it uses from it (to pick its definitions that matter)."""
    for importer in graph.importers(n):
        if importer in named:
            continue
        edge = graph.edges(importer)[n]
        score = 2.0 + (0.5 if is_test(importer) else 0.0) - (0.5 if edge.lazy else 0.0)
        c = _candidate(found, importer)
        c.add(score, f"imports {n}")
        c.used_edges.append((n, edge))


def _all_types(graph: ImportGraph, target: str, names: set[str]) -> bool:
    if not names:
        return False
    for name in names:
        d = graph.definition(target, name)
        if d is None or (d[1] != TYPE and not is_declaration(d[0])):
            return False
    return True


def _prompt_boost(graph: ImportGraph, c: Candidate, long_words: list[str], lowered: set[str]) -> None:
    if not lowered:
        return
    if module_name(c.path).lower() in lowered:
        c.score += 1.5
    rec = graph.record(c.path)
    if rec is not None and long_words:
        hit = [w for w in long_words if w in rec.defs]
        if hit:
            c.score += 1.0
            c.keep.update(hit)


def _chars(graph: ImportGraph, path: str) -> int:
    rec = graph.record(path)
    return rec.chars if rec is not None else 0
