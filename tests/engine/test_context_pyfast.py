"""The cut-down parse (pyfast) gives exactly the imports and names a full `ast` parse gives.

Compared file by file on every .py file of the installed standard library and site-packages
and on the fixtures, then graph by graph (edges, bound names, flags) on real packages; then the
cases the cut must get right or hand to the full parse, one by one.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import textwrap
import warnings
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from gearshift.context import pyscan
from gearshift.context.graph import ImportGraph
from gearshift.context.pyfast import reduced_source
from gearshift.context.pyscan import LAZY, TYPE_ONLY, scan_python, scan_python_imports

from tests.support.context_trees import copy_tree, write

REPO = Path(__file__).resolve().parents[2]


def _sources(*roots: Path) -> list[Path]:
    files: set[Path] = set()
    for root in roots:
        if root.is_dir():
            files.update(p for p in root.rglob("*.py") if p.is_file())
    return sorted(files)


@pytest.fixture(autouse=True)
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        yield


def _compare(files: list[Path]) -> tuple[list[str], int, int, int]:
    """(differences, files compared, files the cut handled, files `ast` rejects), on two cores."""
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        parts = list(pool.map(_compare_some, [files[0::2], files[1::2]]))
    diffs = [d for part in parts for d in part[0]]
    return diffs, sum(p[1] for p in parts), sum(p[2] for p in parts), sum(p[3] for p in parts)


def _compare_some(files: list[Path]) -> tuple[list[str], int, int, int]:
    diffs: list[str] = []
    compared = cut = rejected = 0
    warnings.simplefilter("ignore")  # invalid escapes and the like in third-party code
    for path in files:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if len(data) > pyscan.MAX_PARSE_BYTES:
            continue  # never parsed by the graph either
        full = scan_python(data)
        if full[4]:
            rejected += 1  # see test_an_error_inside_a_cut_body_keeps_the_imports
            continue
        fast = scan_python_imports(data)
        compared += 1
        cut += fast[3] is None
        if fast[:2] != full[:2] or fast[4] != full[4]:
            missing = [i for i in full[0] if i not in fast[0]][:3]
            extra = [i for i in fast[0] if i not in full[0]][:3]
            defs = {k: (full[1].get(k), fast[1].get(k)) for k in full[1].keys() | fast[1].keys()
                    if full[1].get(k) != fast[1].get(k)}
            diffs.append(f"{path}: missing {missing} extra {extra} defs {dict(list(defs.items())[:3])}")
    return diffs, compared, cut, rejected


def test_equal_to_the_full_parse_on_the_installed_stdlib_and_site_packages() -> None:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    packages = {Path(p) for p in [*site.getsitepackages(), sysconfig.get_paths()["purelib"]]}
    own = [p for p in _sources(stdlib) if not {"site-packages", "dist-packages"} & set(p.parts)]
    diffs, compared, cut, _ = _compare(sorted({*own, *_sources(*packages)}))
    assert not diffs, f"{len(diffs)} files differ; first ones:\n" + "\n".join(diffs[:15])
    assert compared > 3000  # the stdlib alone has ~1,800 files
    assert cut > 0.9 * compared  # and the cut, not the fallback, handled them


def test_equal_to_the_full_parse_on_the_fixtures_and_sample_projects() -> None:
    diffs, compared, cut, _ = _compare(_sources(REPO / "tests" / "fixtures", REPO / "sample-projects"))
    assert not diffs, "\n".join(diffs[:15])
    assert compared >= 10 and cut > 0.8 * compared


def _graph_view(graph: ImportGraph) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in sorted(graph.files):
        edges = {t: (sorted(e.names), e.type_only, e.lazy, e.reexport) for t, e in graph.edges(f).items()}
        rec = graph.record(f)
        out[f] = (edges, rec.defs if rec else None, rec.error if rec else None)
    return out


@pytest.mark.parametrize("package", ["textual", "rich", "anthropic", "pygments", "_pytest"])
def test_graphs_are_identical(package: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = next((Path(p) / package for p in site.getsitepackages() if (Path(p) / package).is_dir()), None)
    if source is None:
        pytest.skip(f"{package} is not installed")
    root = tmp_path / "tree"  # the package inside a project, so its absolute imports resolve
    shutil.copytree(source, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    fast = ImportGraph.load_or_build(root, cache_dir=tmp_path / "fast")
    monkeypatch.setattr(pyscan, "scan_python_imports", scan_python)
    full = ImportGraph.load_or_build(root, cache_dir=tmp_path / "full")
    assert fast.stats["cold"] and full.stats["cold"]
    assert _graph_view(fast) == _graph_view(full)
    assert sum(len(fast.edges(f)) for f in fast.files) > 20  # a real graph, not two empty ones


# -- one case at a time -------------------------------------------------------------------------


def both(source: str) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    data = textwrap.dedent(source).encode()
    return scan_python_imports(data), scan_python(data)


def assert_cut_and_equal(source: str) -> tuple[Any, ...]:
    fast, full = both(source)
    assert fast[3] is None, "expected the cut parse to be used"
    assert fast[:2] == full[:2] and not full[4]
    return fast


def assert_fallback_and_equal(source: str) -> tuple[Any, ...]:
    fast, full = both(source)
    assert fast == full  # the full parse itself, details and all
    return fast


def test_imports_in_strings_docstrings_and_comments_are_not_imports() -> None:
    fast = assert_cut_and_equal('''
        """Usage:

        from textual.app import App
        import os
        """
        import real  # import fake
        X = 'from a import b'
        Y = "import c" if True else 'x'
        Z = (
            "from d import e"
        )


        def f():
            """
        import inside_a_docstring_at_column_zero
            """
            return "\\"import g\\""
        ''')
    assert fast[0] == (("real", 0, (), 0),)


def test_flags_lazy_and_type_only_through_nesting() -> None:
    fast = assert_cut_and_equal('''
        import typing
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from a import A
        elif typing.TYPE_CHECKING:
            import b
        else:
            import c
        if not TYPE_CHECKING:
            import d


        class K:
            import e

            def m(self):
                for x in y:
                    with z:
                        try:
                            from .f import F
                        except ImportError:
                            import g

            class Inner:
                async def n(self):
                    import h


        def outer():
            def inner():
                from ..i import (
                    I1,
                    I2 as J,
                )
            return inner


        def checks():
            if TYPE_CHECKING:
                import j
            import k
        ''')
    flags = {m or n[0]: f for m, _lvl, n, f in fast[0]}
    assert flags["a"] == TYPE_ONLY and flags["b"] == TYPE_ONLY
    assert flags["c"] == 0 and flags["d"] == 0 and flags["e"] == 0
    assert flags["f"] == LAZY and flags["g"] == LAZY and flags["h"] == LAZY
    assert flags["j"] == LAZY | TYPE_ONLY and flags["k"] == LAZY
    assert ("i", 2, ("I1", "I2:J"), LAZY) in fast[0]


def test_one_line_forms_and_continuations() -> None:
    assert_cut_and_equal('''
        import a; import b
        if TYPE_CHECKING: import c
        try: import d
        except ImportError: d = None
        from e import \\
            f


        def g():
            x = 1; import h
            try: import i
            except ImportError: pass


        def j(): import k


        class L: import m
        ''')


def test_headers_black_layout_lambdas_and_annotations() -> None:
    fast = assert_cut_and_equal('''
        def a(
            x: int = 1,
            key=lambda v: v[1:],
        ) -> dict[str, int]:
            from b import c
            return {}


        def d(x: Callable[[int], int] = lambda: 0) -> lambda: 1: ...


        @decorator(arg=[1, 2])
        class E(Base, metaclass=ABCMeta):
            X: ClassVar[int] = 0

            @property
            def f(
                self,
            ) -> int:
                return 1
        T = TypeVar("T")
        U = int | None
        ''')
    assert fast[1] == {"a": "f", "d": "f", "E": "t", "T": "t", "U": "t"}


def test_a_dedented_continuation_falls_back_to_the_full_parse() -> None:
    assert_fallback_and_equal('''
        def f():
            value = call(
        1, 2)
            import g
            return value
        ''')


def test_adjacent_prefixed_escaped_and_continued_strings() -> None:
    fast = assert_cut_and_equal((REPO / "tests/fixtures/context/pyfast/strings.py").read_text())
    assert [i[0] for i in fast[0]] == ["after_strings", "lazy_after_strings"]
    assert fast[0][1][3] == LAZY and set(fast[1]) == {"A", "B", "C", "D", "E", "F", "f", "K"}


@pytest.mark.parametrize(("prefix", "fast"), [
    (b"# -*- coding: utf-8 -*-\n", True),
    (b"\xef\xbb\xbf", True),
    (b"#!/usr/bin/env python\n# vim: set fileencoding=latin-1 :\n", False),
])
def test_encodings(prefix: bytes, fast: bool) -> None:
    data = prefix + b"import os\n\ndef f():\n    import sys\n"
    got, full = scan_python_imports(data), scan_python(data)
    assert got[:2] == full[:2] and (got[3] is None) == fast


def test_crlf_is_read_and_tabs_and_lone_cr_fall_back() -> None:
    crlf = b"import os\r\n\r\ndef f():\r\n    import sys\r\n"
    assert scan_python_imports(crlf)[:2] == scan_python(crlf)[:2]
    assert reduced_source(crlf) is not None
    assert reduced_source(b"def f():\n\timport sys\n") is None
    assert reduced_source(b"import os\rimport sys\n") is None
    assert reduced_source(b"x = 'unterminated\n") is None


def test_many_blank_lines_inside_deep_headers_do_not_blow_up() -> None:
    # Lines that were comments are blank after the cut; an ambiguous pattern backtracked
    # exponentially over them (asyncio/staggered.py took seconds). This must finish at once.
    body = "\n".join(["    async def run(", "            x) -> None:"] + ["        "] * 40 + ["        pass"])
    source = f"def outer(\n        a,\n) -> None:\n{body}\n    x = 1\n"
    assert_cut_and_equal(source)


def test_an_error_inside_a_cut_body_keeps_the_imports(tmp_path: Path) -> None:
    """The one documented difference: the cut never sees a syntax error inside a body it drops.

    The full parse of such a file has no imports at all; the cut keeps the ones around the
    error. The error is recorded when a selection views the file (its details need the full
    parse), and the imports stay.
    """
    source = "import os\n\n\ndef f():\n    return 0777\n"
    fast, full = both(source)
    assert fast[0] == (("os", 0, (), 0),) and fast[4] == ""
    assert full[0] == () and full[4].startswith("SyntaxError")
    root = tmp_path / "proj"
    write(root, "broken.py", source)
    graph = ImportGraph.load_or_build(root)
    detailed = graph.detailed("broken.py")
    assert detailed is not None and detailed.error.startswith("SyntaxError")
    assert detailed.imports == (("os", 0, (), 0),) and detailed.outline == ()


def test_details_are_made_once_per_version_and_persisted(tmp_path: Path) -> None:
    root = copy_tree("py_project", tmp_path)
    graph = ImportGraph.load_or_build(root)
    rec = graph.record("pkg/mod.py")
    assert rec is not None and rec.outline is None and rec.docstrings is None
    full = scan_python((root / "pkg/mod.py").read_bytes())
    detailed = graph.detailed("pkg/mod.py")
    assert detailed is not None and (detailed.docstrings, detailed.outline) == (full[2], full[3])
    assert graph.detailed("pkg/mod.py") is detailed  # kept, not parsed again
    graph.save_details()
    warm = ImportGraph.load_or_build(root)
    assert warm.stats["parsed"] == 0 and warm.record("pkg/mod.py") == detailed
    # a file edited since its scan is rescanned before its details are made
    assert warm.record("pkg/types.py").outline is None  # type: ignore[union-attr]
    write(root, "pkg/types.py", 'import pkg.mod\n\n\ndef g():\n    """Doc."""\n')
    fresh = warm.detailed("pkg/types.py")
    assert fresh is not None and fresh.imports == (("pkg.mod", 0, (), 0),)
    assert fresh.docstrings == ((5, 4, 5, 14, True),) and warm.imports("pkg/types.py") == {"pkg/mod.py"}


NESTED_FSTRINGS = [  # valid only from Python 3.12 (PEP 701): quotes and comments inside fields
    'd = {}\nx = f"{d["k"]}"\nimport a\n',
    'x = f"{", ".join(y)}"\nimport a\ndef f():\n    import b\n',
    'x = f"""{\n  y  # a comment with """ in it\n}"""\nimport a\n',
    "x = f'{'#'}'\ndef g():\n    import b\n",
    'x = f"{x}" + f"{{import c}}"\ndef h():\n    import d\n',
]
OTHER_PYTHON = """
import json, sys
from pathlib import Path
from gearshift.context.pyscan import scan_python, scan_python_imports
out = []
for src in json.loads(sys.argv[1]) + [p.read_text() for p in map(Path, sys.argv[2:])]:
    fast, full = scan_python_imports(src.encode()), scan_python(src.encode())
    out.append([fast[:2] == full[:2], fast[3] is None, full[4]])
print(json.dumps(out))
"""


def _interpreter(version: str) -> str | None:
    """A working python<version>: on PATH, or among pyenv's versions (its shims may refuse)."""
    pyenv = Path(os.environ.get("PYENV_ROOT", "~/.pyenv")).expanduser() / "versions"
    found = [shutil.which(f"python{version}"), *map(str, sorted(pyenv.glob(f"{version}.*/bin/python{version}")))]
    for python in filter(None, found):
        if subprocess.run([python, "-c", "pass"], capture_output=True).returncode == 0:
            return python
    return None


@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_newer_pythons_with_nested_fstrings(version: str) -> None:
    python = _interpreter(version)
    if python is None:
        pytest.skip(f"python{version} is not installed")
    fixtures = [str(p) for p in _sources(REPO / "tests" / "fixtures" / "context")]
    done = subprocess.run(
        [python, "-c", OTHER_PYTHON, json.dumps(NESTED_FSTRINGS), *fixtures],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO / "tui")},
    )
    if done.returncode != 0 and "No module named" in done.stderr:
        pytest.skip(done.stderr.strip().splitlines()[-1])
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert all(equal for equal, _cut, _error in results)
    nested = results[: len(NESTED_FSTRINGS)]
    assert not any(error for _eq, _cut, error in nested)  # all valid there
    assert [cut for _eq, cut, _err in nested] == [False, False, False, False, True]


SAME_CUT = """
import json, sys
from pathlib import Path
from gearshift.context.pyfast import reduced_source
print(json.dumps([reduced_source(Path(p).read_bytes()) for p in sys.argv[1:]]))
"""


def _other_pythons_3_11() -> list[str]:
    """Installed Python 3.11 interpreters other than this one (the system's, pyenv's)."""
    pyenv = Path(os.environ.get("PYENV_ROOT", "~/.pyenv")).expanduser() / "versions"
    found = [shutil.which("python3.11"), "/usr/bin/python3.11", *map(str, pyenv.glob("3.11.*/bin/python3.11"))]
    mine = subprocess.run([sys.executable, "-c", "import sys; print(sys.version)"], capture_output=True, text=True).stdout
    out: dict[str, str] = {}
    for python in filter(None, found):
        if not Path(python).is_file():
            continue
        done = subprocess.run([python, "-c", "import sys; print(sys.version)"], capture_output=True, text=True)
        if done.returncode == 0 and done.stdout != mine:
            out.setdefault(done.stdout, python)
    return sorted(out.values())


def test_every_installed_python_3_11_cuts_the_same_way() -> None:
    """The cut is written with regular expressions, and `re` itself changed within 3.11 (before
    3.11.5 a possessive repeat could mis-match, gh-106052): each interpreter must cut alike."""
    others = _other_pythons_3_11()
    if not others:
        pytest.skip("no other Python 3.11 is installed")
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = [str(p) for p in [
        *_sources(REPO / "tests" / "fixtures" / "context", REPO / "tui" / "gearshift"),
        *_sources(stdlib / "asyncio", stdlib / "email", stdlib / "json"),
    ]]
    mine = [reduced_source(Path(p).read_bytes()) for p in files]
    assert sum(cut is not None for cut in mine) > len(files) // 2  # the comparison covers real cuts
    for python in others:
        done = subprocess.run(
            [python, "-c", SAME_CUT, *files], capture_output=True, text=True,
            env={**os.environ, "PYTHONPATH": str(REPO / "tui")},
        )
        assert done.returncode == 0, done.stderr
        theirs = json.loads(done.stdout)
        differ = [f for f, a, b in zip(files, mine, theirs, strict=True) if a != b]
        assert not differ, f"{python} cuts {len(differ)} files differently, e.g. {differ[:3]}"
