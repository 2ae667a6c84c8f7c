"""Re-exports lead to the code: a barrel or a package's __init__ is two lines; the class is elsewhere."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from gearshift.config import ContextConfig
from gearshift.context.graph import ImportGraph
from gearshift.context.select import select_context

from tests.support.context_trees import write

CFG = ContextConfig()
NO_TYPES = replace(CFG, include_types=False)

TS_TREE = {
    "src/bookings.ts": (
        "export class BookingService {\n  book(): number {\n    return 1;\n  }\n}\n\n"
        "export class BookingConflictError extends Error {}\n"
    ),
    "src/time.ts": "export function interval(a: number, b: number): number[] {\n  return [a, b];\n}\n",
    "src/shape.ts": "export interface Shape {\n  width: number;\n}\n",
    "src/unused.ts": "export function nobodyCalls(): void {}\n",
    "src/index.ts": (
        'export { BookingService, BookingConflictError } from "./bookings.js";\n'
        'export { Shape } from "./shape.js";\n'
        'export { nobodyCalls } from "./unused.js";\n'
        'export * from "./time.js";\n'
    ),
    "tests/fixtures.ts": "export function at(hhmm: string): string {\n  return hhmm;\n}\n",
    "tests/bookings.test.ts": (
        'import { BookingService, Shape } from "../src/index.js";\n'
        'import { interval } from "../src/index.js";\n'
        'import { at } from "./fixtures.js";\n\n'
        "const s: Shape = { width: 1 };\n"
        "new BookingService().book();\ninterval(1, 2);\nat(\"09:00\");\n"
    ),
}

PY_TREE = {
    "app/__init__.py": "",
    "app/core/__init__.py": (
        "from .engine import Engine, start as launch\n"
        "from .settings import Settings\n"
        "from .extra import helper\n"
    ),
    "app/core/engine.py": (
        "class Engine:\n    def run(self) -> int:\n        return 1\n\n\n"
        "def start() -> Engine:\n    return Engine()\n"
    ),
    "app/core/settings.py": "from typing import Protocol\n\n\nclass Settings(Protocol):\n    debug: bool\n",
    "app/core/extra.py": "def helper() -> None:\n    pass\n",
    "main.py": "from app.core import Engine, Settings\n\n\ndef go(s: Settings) -> int:\n    return Engine().run()\n",
    "cli.py": "from app.core import launch\n\nlaunch()\n",
}


def tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        write(tmp_path, rel, text)
    return tmp_path.resolve()


def reasons(root: Path, cfg: ContextConfig, named: str) -> dict[str, str]:
    return {f.path: f.reason for f in select_context(root, cfg, [named]).files}


@pytest.mark.parametrize("cfg", [CFG, NO_TYPES], ids=["include_types", "no_types"])
def test_ts_barrel_leads_to_the_classes_and_functions(tmp_path: Path, cfg: ContextConfig) -> None:
    root = tree(tmp_path, TS_TREE)
    got = reasons(root, cfg, "tests/bookings.test.ts")
    via = "imported by tests/bookings.test.ts via src/index.ts"
    assert got["src/bookings.ts"] == via  # a class, behind `export { ... } from`
    assert got["src/time.ts"] == via  # a function, behind `export *`
    assert "src/unused.ts" not in got  # re-exported, but the test does not import it
    # include_types still governs type definitions
    assert ("src/shape.ts" in got) == cfg.include_types


def test_a_reexported_definition_ranks_a_little_below_a_direct_import(tmp_path: Path) -> None:
    root = tree(tmp_path, TS_TREE)
    order = [f.path for f in select_context(root, NO_TYPES, ["tests/bookings.test.ts"]).files]
    # the barrel and the direct import (one name: 3.25) before the definitions behind it (2.75)
    assert order.index("src/index.ts") < order.index("tests/fixtures.ts") < order.index("src/time.ts")


@pytest.mark.parametrize("cfg", [CFG, NO_TYPES], ids=["include_types", "no_types"])
def test_python_package_init_leads_to_the_module_defining_the_class(
    tmp_path: Path, cfg: ContextConfig
) -> None:
    root = tree(tmp_path, PY_TREE)
    got = reasons(root, cfg, "main.py")
    assert got["app/core/__init__.py"] == "imported by main.py"
    assert got["app/core/engine.py"] == "imported by main.py via app/core/__init__.py"
    assert "app/core/extra.py" not in got
    if cfg.include_types:
        assert got["app/core/settings.py"] == "type of main.py"  # a Protocol
    else:
        assert "app/core/settings.py" not in got


def test_renamed_reexports_are_followed_to_the_original_name(tmp_path: Path) -> None:
    root = tree(tmp_path, PY_TREE)
    graph = ImportGraph.load_or_build(root)
    assert graph.origin("app/core/__init__.py", "launch") == ("app/core/engine.py", "f", "start")
    assert graph.definition("app/core/__init__.py", "launch") == ("app/core/engine.py", "f")
    got = reasons(root, NO_TYPES, "cli.py")
    assert got["app/core/engine.py"] == "imported by cli.py via app/core/__init__.py"


def test_a_named_definition_file_is_not_added_twice(tmp_path: Path) -> None:
    root = tree(tmp_path, PY_TREE)
    sel = select_context(root, CFG, ["main.py", "app/core/engine.py"])
    paths = [f.path for f in sel.files]
    assert paths.count("app/core/engine.py") == 1
    assert sel.files[1].reason == "named"
