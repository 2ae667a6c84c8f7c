"""What a task points at: the files it names (context_files) and those its prompt mentions.

Split from `select` because resolving what a person meant — a path, a path without its suffix,
a file name that is unique in the project, a module name, an ambiguous name — is its own job;
`select` decides what of it, and of the neighbourhood, is sent.
"""

from __future__ import annotations

import re
from pathlib import Path

from gearshift.context.graph import ImportGraph

AMBIGUOUS = "mentioned in the prompt but ambiguous: "  # + the candidates, in a pruned reason
_MENTION = re.compile(r"[\w@$~][\w./@$~-]*")
_EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,7}$")


class ContextError(ValueError):
    """A named file that does not exist, is outside the project, or is not a text file."""

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message  # the message without the path


def not_readable(rel: str, reason: str) -> ContextError:
    return ContextError(f"{rel}: {reason}", reason)


# Named files and prompt mentions


def resolve_named(root: Path, graph: ImportGraph, named: list[str]) -> list[str]:
    out: list[str] = []
    for entry in named:
        rel = _project_file(root, entry)
        if rel is None and not (root / entry).is_dir():
            rel = graph.resolve_module(entry)  # a module name ("pkg.mod") or "src/x"
        if rel is None:
            raise ContextError(_why_not(root, entry))
        if rel not in out:
            out.append(rel)
    return out


def _project_file(root: Path, entry: str) -> str | None:
    p = Path(entry)
    full = p if p.is_absolute() else root / p
    try:
        rel = full.resolve().relative_to(root)
    except (ValueError, OSError):
        return None
    return rel.as_posix() if full.is_file() else None


def _why_not(root: Path, entry: str) -> str:
    p = Path(entry)
    full = (p if p.is_absolute() else root / p).resolve()
    try:
        full.relative_to(root)
    except ValueError:
        return f"{entry}: outside the project ({root})"
    if full.is_dir():
        return f"{entry}: is a folder, not a file"
    return f"{entry}: no such file in {root}"


def prompt_mentions(
    root: Path, graph: ImportGraph, prompt: str, known: set[str]
) -> tuple[list[str], list[dict[str, str]]]:
    """Project files the prompt names by path ("src/app.py", "app.py") or module ("pkg.mod")."""
    found: list[str] = []
    ambiguous: list[dict[str, str]] = []
    by_name: dict[str, list[str]] = {}
    for raw in _MENTION.findall(prompt):
        token = raw.rstrip(".,:;!?)]}'\"`")
        if not token or token in known:
            continue
        rel: str | None = None
        if "/" in token or _EXTENSION.search(token):
            rel, clash = _path_mention(root, graph, token, by_name)
            if clash:
                ambiguous.append({"path": token, "reason": AMBIGUOUS + clash})
        if rel is None and "." in token and "/" not in token:
            rel = graph.resolve_module(token)
            parts = token.split(".")
            if rel is None and len(parts) > 2:
                rel = graph.resolve_module(".".join(parts[:-1]))  # pkg.mod.Name
        if rel is not None and rel not in known and rel not in found:
            found.append(rel)
    return found, ambiguous


def _path_mention(
    root: Path, graph: ImportGraph, token: str, by_name: dict[str, list[str]]
) -> tuple[str | None, str]:
    """A path in the prompt: exact, without its suffix, or the unique file it ends."""
    rel = _project_file(root, token) if not token.startswith(("/", "~")) else None
    if rel is None and "/" in token:
        rel = graph.resolve_module(token)
    if rel is not None or not _EXTENSION.search(token):
        return rel, ""
    if not by_name:
        by_name.update(graph.memoized(("by_name", graph.files), lambda: _by_basename(graph.files)))
    same_name = by_name.get(token.rsplit("/", 1)[-1], [])
    matches = [p for p in same_name if p == token or p.endswith("/" + token)]
    if len(matches) == 1:
        return matches[0], ""
    if len(matches) > 1:
        return None, ", ".join(sorted(matches)[:4]) + (" …" if len(matches) > 4 else "")
    return None, ""


def _by_basename(files: frozenset[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in files:
        out.setdefault(path.rsplit("/", 1)[-1], []).append(path)
    return out


def read_text(root: Path, rel: str) -> str:
    try:
        data = (root / rel).read_bytes()
    except OSError as exc:
        raise not_readable(rel, f"cannot be read ({exc.strerror})") from None
    if b"\0" in data[:8192]:
        raise not_readable(rel, "not a text file")
    return data.decode("utf-8", errors="replace")
