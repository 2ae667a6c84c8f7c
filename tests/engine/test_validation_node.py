"""typescript_compile, eslint_strict and vitest_run really run on a tiny TypeScript project.

Tests never reach the network, so this borrows an installed node_modules: the one named by
GEARSHIFT_NODE_TOOLS, else the TypeScript sample's once `npm ci` has run there. Without one it
is skipped; the sample project's own runs cover the same ground.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from gearshift.config import config_from_mapping
from gearshift.events import Event
from gearshift.validation.checks import resolve_checks
from gearshift.validation.runner import run_validation

REPO = Path(__file__).resolve().parents[2]
NEEDED = ("typescript", "eslint", "typescript-eslint", "vitest")


def node_tools() -> Path | None:
    named = os.environ.get("GEARSHIFT_NODE_TOOLS")
    candidates = [Path(named)] if named else []
    candidates += sorted(REPO.glob("sample-projects/typescript*/node_modules"))
    for folder in candidates:
        if shutil.which("node") and all((folder / name).is_dir() for name in NEEDED):
            return folder
    return None


TOOLS = node_tools()
pytestmark = pytest.mark.skipif(TOOLS is None, reason="no installed node_modules to borrow")

CART = """export interface Item {
  price: number;
  qty: number;
}

export function total(items: Item[]): number {
  return items.reduce((sum, i) => sum + i.price, 0);
}
"""
TEST = """import { describe, expect, it } from "vitest";
import { total } from "./cart";

describe("total", () => {
  it("multiplies by quantity", () => {
    expect(total([{ price: 3, qty: 3 }, { price: 1, qty: 1 }])).toBe(10);
  });
});
"""


def make_project(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "package.json").write_text('{"name": "t", "private": true, "type": "module"}\n')
    (root / "tsconfig.json").write_text(
        '{"compilerOptions": {"target": "ES2022", "module": "ESNext", "moduleResolution": '
        '"Bundler", "strict": true, "noEmit": true, "skipLibCheck": true}, "include": ["src"]}\n'
    )
    (root / "eslint.config.mjs").write_text(
        'import tseslint from "typescript-eslint";\n'
        "export default tseslint.config({ ignores: ['node_modules'] }, "
        "...tseslint.configs.strict);\n"
    )
    (root / "src" / "cart.ts").write_text(CART)
    (root / "src" / "cart.test.ts").write_text(TEST)
    assert TOOLS is not None
    (root / "node_modules").symlink_to(TOOLS, target_is_directory=True)
    return root


async def validate(root: Path):
    specs = resolve_checks(config_from_mapping(root, "test", {}), root)
    events: list[Event] = []
    return await run_validation(specs, root, events.append, run_id="r", task_id=None)


async def test_typescript_project_through_all_three_outcomes(tmp_path: Path):
    root = make_project(tmp_path / "web")
    (root / "src" / "extra.ts").write_text(
        "export const n: number = 'one';\nexport function f(x: any) {\n  return x;\n}\n"
    )
    result = await validate(root)
    assert result.outcome == "fail-syntax"
    by = {c.name: c for c in result.checks}
    assert [(f.file, f.line, f.col, f.code) for f in by["typescript_compile"].findings] == [
        ("src/extra.ts", 1, 14, "TS2322")
    ]
    assert ("src/extra.ts", 2, 22, "@typescript-eslint/no-explicit-any") in [
        (f.file, f.line, f.col, f.code) for f in by["eslint_strict"].findings
    ]

    (root / "src" / "extra.ts").unlink()
    result = await validate(root)
    assert result.outcome == "fail-logic"
    (f,) = result.findings
    assert (f.check, f.file, f.line) == ("vitest_run", "src/cart.test.ts", 6)
    assert f.code == "src/cart.test.ts > total > multiplies by quantity"
    assert f.message.startswith("AssertionError: expected 4 to be 10")

    (root / "src" / "cart.ts").write_text(CART.replace("sum + i.price", "sum + i.price * i.qty"))
    result = await validate(root)
    assert result.outcome == "pass", result.findings
    assert sorted(p.name for p in root.iterdir()) == [
        "eslint.config.mjs",
        "node_modules",
        "package.json",
        "src",
        "tsconfig.json",
    ]
