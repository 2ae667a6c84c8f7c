"""`tsconfig.json` / `jsconfig.json`: the baseUrl and paths that turn "@/lib/x" into a project file.

The files are JSONC (comments, trailing commas) and may `extends` another config; a child's
compilerOptions win key by key, and baseUrl/paths stay relative to the file that set them, as
`tsc` does. Configs from packages (`"extends": "@tsconfig/node20"`) live in node_modules, outside
the project, and are not followed: they never set project paths.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_NAMES = ("tsconfig.json", "jsconfig.json")
_COMMENTS = re.compile(r'"(?:[^"\\]|\\.)*"|//[^\n]*|/\*.*?\*/', re.S)
_TRAILING_COMMAS = re.compile(r'"(?:[^"\\]|\\.)*"|,(?=\s*[}\]])', re.S)


def _keep_strings(m: re.Match[str]) -> str:
    return m.group() if m.group()[0] == '"' else ""


def parse_jsonc(text: str) -> Any:
    """JSON with comments and trailing commas, which every tsconfig may use."""
    return json.loads(_TRAILING_COMMAS.sub(_keep_strings, _COMMENTS.sub(_keep_strings, text)))


@dataclass
class TsConfig:
    """What module resolution needs from one config: where bare specifiers are looked up."""

    dir: str  # posix path of the config's folder, relative to the project root ("" for the root)
    base_url: str | None = None  # project-relative folder, or None
    paths_base: str = ""  # the folder `paths` targets are relative to
    paths: list[tuple[str, list[str]]] = field(default_factory=list)  # pattern → targets
    error: str = ""

    def path_candidates(self, spec: str) -> list[str]:
        """Project-relative candidates for `spec` from `paths`, the most specific pattern first."""
        best: tuple[int, str, list[str]] | None = None
        for pattern, targets in self.paths:
            if "*" not in pattern:
                if pattern == spec:
                    return [posixpath.join(self.paths_base, t) for t in targets]
                continue
            prefix, _, suffix = pattern.partition("*")
            fits = len(spec) >= len(prefix) + len(suffix)
            matches = fits and spec.startswith(prefix) and spec.endswith(suffix)
            if matches and (best is None or len(prefix) > best[0]):
                best = (len(prefix), spec[len(prefix) : len(spec) - len(suffix)], targets)
        if best is None:
            return []
        return [posixpath.join(self.paths_base, t.replace("*", best[1], 1)) for t in best[2]]


def load_config(root: Path, rel: str) -> TsConfig:
    """Read the config at project-relative `rel`, following relative `extends`."""
    folder = posixpath.dirname(rel)
    options: dict[str, Any] = {}
    origin: dict[str, str] = {}  # option → folder of the file that set it
    try:
        _merge(root, rel, options, origin, seen=set())
    except (OSError, ValueError) as exc:
        return TsConfig(dir=folder, error=f"{rel}: {exc}")
    cfg = TsConfig(dir=folder)
    base = options.get("baseUrl")
    if isinstance(base, str):
        cfg.base_url = _norm(posixpath.join(origin["baseUrl"], base))
    paths = options.get("paths")
    if isinstance(paths, dict):
        cfg.paths_base = cfg.base_url if cfg.base_url is not None else origin["paths"]
        for pattern, targets in paths.items():
            if isinstance(targets, list):
                cfg.paths.append((pattern, [t for t in targets if isinstance(t, str)]))
    return cfg


def _merge(
    root: Path, rel: str, options: dict[str, Any], origin: dict[str, str], seen: set[str]
) -> None:
    if rel in seen:
        raise ValueError("extends cycle")
    seen.add(rel)
    data = parse_jsonc((root / rel).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    parents = data.get("extends")
    for parent in [parents] if isinstance(parents, str) else (parents or []):
        if isinstance(parent, str) and parent.startswith("."):
            target = _norm(posixpath.join(posixpath.dirname(rel), parent))
            if not target.endswith(".json"):
                target += ".json"
            if (root / target).is_file():
                _merge(root, target, options, origin, seen)
    own = data.get("compilerOptions")
    if isinstance(own, dict):
        for key, value in own.items():
            options[key] = value
            origin[key] = posixpath.dirname(rel)


def _norm(path: str) -> str:
    out = posixpath.normpath(path)
    return "" if out == "." else out
