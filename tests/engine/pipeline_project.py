"""A tiny real Python project for pipeline tests: one module, one test that checks it."""

from __future__ import annotations

from pathlib import Path

CONFIG = """
[validation]
checks = ["python_compile", "pytest"]
max_correction_attempts = 2
timeout_s = 120
[context]
max_files = 5
"""

CALC = '''def total(prices: list[int]) -> int:
    """Sum of the prices."""
    return sum(prices)
'''

TEST = """from calc import total


def test_total() -> None:
    assert total([1, 2, 3]) == 6


def test_discounted_total() -> None:
    from calc import discounted_total

    assert discounted_total([10, 10], percent=10) == 18
"""


def make_project(root: Path, extra_config: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "gearshift.toml").write_text(CONFIG + extra_config)
    (root / "calc.py").write_text(CALC)
    (root / "tests").mkdir()
    (root / "tests" / "test_calc.py").write_text(TEST)
    (root / "conftest.py").write_text(
        "import sys, pathlib\nsys.path.insert(0, str(pathlib.Path(__file__).parent))\n"
    )
    return root


# The edit that makes test_discounted_total pass ...
GOOD = '''

def discounted_total(prices: list[int], percent: int) -> int:
    """Total after a percentage discount."""
    return total(prices) * (100 - percent) // 100
'''
# ... a logic error (discount applied twice) ...
WRONG = '''

def discounted_total(prices: list[int], percent: int) -> int:
    """Total after a percentage discount."""
    return total(prices) * (100 - 2 * percent) // 100
'''
# ... the fix of that logic error ...
FIX_WRONG = {"command": "str_replace", "path": "calc.py", "old_str": "(100 - 2 * percent)", "new_str": "(100 - percent)"}
# ... and a syntax error.
BROKEN = """

def discounted_total(prices: list[int], percent: int) -> int
    return total(prices) * (100 - percent) // 100
"""


def insert_after_total(text: str) -> dict:
    return {"command": "insert", "path": "calc.py", "insert_line": 3, "insert_text": text}
