"""From an import as written to the project file it loads, or to nothing (outside the project).

Resolution depends on the whole file set (creating `pkg/x.py` turns `from pkg import x` from a
name in `pkg/__init__.py` into a module) and on the tsconfigs, so the graph caches raw imports
per file and resolves them here on every load; it is dictionary lookups, no file system access.
Anything that does not resolve to an indexed file — the standard library, site-packages,
node_modules — is a leaf and simply has no edge.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable
from pathlib import Path

from gearshift.context.tsconfig import CONFIG_NAMES, TsConfig, load_config

PY_SUFFIXES = (".py", ".pyi")
JS_SUFFIXES = (".ts", ".tsx", ".d.ts", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")
_JS_TO_TS = {".js": (".ts", ".tsx", ".d.ts"), ".jsx": (".tsx",), ".mjs": (".mts", ".d.mts"),
             ".cjs": (".cts", ".d.cts")}


def is_python(path: str) -> bool:
    return path.endswith(PY_SUFFIXES)


def is_declaration(path: str) -> bool:
    """Files that hold only types: stubs and TypeScript declaration files."""
    return path.endswith((".pyi", ".d.ts", ".d.mts", ".d.cts"))


class Resolver:
    """Module names and specifiers → project files, for one snapshot of the file set."""

    def __init__(self, root: Path, files: Iterable[str], configs: Iterable[str] = ()) -> None:
        self.files = set(files)
        self._modules = _module_index(self.files)
        self._package_dirs = {posixpath.dirname(f) for f in self.files if _is_init(f)}
        self._script_cache: dict[tuple[str, str], str | None] = {}
        self._memo: dict[tuple[str, tuple[str, ...]], list[tuple[str, str]]] = {}
        self.configs: dict[str, TsConfig] = {}
        for rel in sorted(configs):
            cfg = load_config(root, rel)
            # jsconfig only where there is no tsconfig in the same folder
            self.configs.setdefault(cfg.dir, cfg)
        self._config_for_dir: dict[str, TsConfig | None] = {}

    # -- Python -----------------------------------------------------------------------------

    def module(self, dotted: str) -> str | None:
        return self._modules.get(dotted)

    def python(
        self, src: str, module: str, level: int, names: tuple[str, ...]
    ) -> list[tuple[str, str]]:
        """[(target file, binding)] for one import; binding "" means the module itself."""
        src_dir = src.rpartition("/")[0]
        if level:
            base = src_dir
            for _ in range(level - 1):
                if not base:
                    return []
                base = base.rpartition("/")[0]
            path = posixpath.join(base, *module.split(".")) if module else base
            target = self._py_file(path)
            return self._names(target, lambda n: self._py_file(posixpath.join(path, n)), names)
        if src_dir in self._package_dirs:
            # Inside a package an absolute import means the same from every file: memoise it.
            key = (module, names)
            found = self._memo.get(key)
            if found is None:
                found = self._memo[key] = self._absolute_import(src_dir, module, names)
            return found
        return self._absolute_import(src_dir, module, names)

    def _absolute_import(
        self, src_dir: str, module: str, names: tuple[str, ...]
    ) -> list[tuple[str, str]]:
        if not names:  # import a.b.c: the longest prefix that is a project module
            parts = module.split(".")
            for k in range(len(parts), 0, -1):
                found = self._absolute(src_dir, ".".join(parts[:k]))
                if found:
                    return [(found, "")]
            return []
        target = self._absolute(src_dir, module)
        return self._names(target, lambda n: self._absolute(src_dir, f"{module}.{n}"), names)

    @staticmethod
    def _names(
        target: str | None, submodule: Callable[[str], str | None], names: tuple[str, ...]
    ) -> list[tuple[str, str]]:
        """`from m import n`: n is a submodule when such a file exists, else a name in m."""
        out: list[tuple[str, str]] = []
        for name in names:
            orig = name.partition(":")[0]
            sub = submodule(orig) if orig != "*" else None
            if sub:
                out.append((sub, name))
            elif target:
                out.append((target, name))
        return out

    def _absolute(self, src_dir: str, dotted: str) -> str | None:
        found = self._modules.get(dotted)
        if found is not None or src_dir in self._package_dirs:
            return found
        # A script's own folder is first on sys.path when it runs.
        key = (src_dir, dotted)
        if key not in self._script_cache:
            self._script_cache[key] = self._py_file(posixpath.join(src_dir, *dotted.split(".")))
        return self._script_cache[key]

    def _py_file(self, path: str) -> str | None:
        package = f"{path}/__init__" if path else "__init__"
        for candidate in (f"{path}.py", f"{package}.py", f"{path}.pyi", f"{package}.pyi"):
            if candidate in self.files:
                return candidate
        return None

    # -- TypeScript / JavaScript ------------------------------------------------------------

    def js(self, src: str, spec: str) -> str | None:
        if spec.startswith(("./", "../")) or spec in (".", ".."):
            return self._js_file(posixpath.join(posixpath.dirname(src), spec))
        if spec.startswith("/"):
            return None
        cfg = self._config(posixpath.dirname(src))
        if cfg is not None:
            for candidate in cfg.path_candidates(spec):
                found = self._js_file(candidate)
                if found:
                    return found
            if cfg.base_url is not None:
                return self._js_file(posixpath.join(cfg.base_url, spec))
        return None

    def _js_file(self, path: str) -> str | None:
        path = posixpath.normpath(path)
        if path.startswith("../") or path == "..":
            return None
        if path == ".":
            path = ""
        stem, ext = posixpath.splitext(path)
        candidates: list[str] = []
        if ext in JS_SUFFIXES or path.endswith(".d.ts"):
            candidates.append(path)
            candidates.extend(stem + alt for alt in _JS_TO_TS.get(ext, ()))
        candidates.extend(path + ext for ext in JS_SUFFIXES)
        candidates.extend(posixpath.join(path, "index" + ext) for ext in JS_SUFFIXES)
        for candidate in candidates:
            if candidate in self.files:
                return candidate
        return None

    def _config(self, folder: str) -> TsConfig | None:
        """The nearest tsconfig/jsconfig at or above `folder`."""
        if folder in self._config_for_dir:
            return self._config_for_dir[folder]
        found = self.configs.get(folder)
        if found is None and folder:
            found = self._config(posixpath.dirname(folder))
        self._config_for_dir[folder] = found
        return found


def _is_init(path: str) -> bool:
    return posixpath.basename(path) in ("__init__.py", "__init__.pyi")


def _module_index(files: set[str]) -> dict[str, str]:
    """Every dotted name a project file answers to, from each source root above it.

    Source roots are the project root and the folder above each top-level package (so `src/`
    layouts and `tui/gearshift` resolve as they do once installed). A deeper root wins a clash,
    and a `.py` wins over its `.pyi` stub.
    """
    package_dirs = {posixpath.dirname(f) for f in files if _is_init(f)}
    roots = {""}
    for d in package_dirs:
        parent = posixpath.dirname(d)
        if d and parent not in package_dirs:
            roots.add(parent)
    ordered = sorted(roots, key=lambda r: (-r.count("/") - (1 if r else 0), r))
    index: dict[str, str] = {}
    pythons = sorted((f for f in files if is_python(f)), key=lambda f: f.endswith(".pyi"))
    for root in ordered:
        prefix = f"{root}/" if root else ""
        for f in pythons:
            if not f.startswith(prefix):
                continue
            rel = f[len(prefix) :]
            rel = rel[: -4 if rel.endswith(".pyi") else -3]
            if rel.endswith("__init__"):
                rel = rel[: -len("__init__")].rstrip("/")
                if not rel:
                    continue
            index.setdefault(rel.replace("/", "."), f)
    return index


def config_files(paths: Iterable[str]) -> list[str]:
    return [p for p in paths if posixpath.basename(p) in CONFIG_NAMES]
