"""The floors of docs/architecture.md hold: the import contracts in pyproject.toml are kept.

`lint-imports` checks the same contracts from the command line; this runs them through
import-linter's own entry point so a broken floor or a circle fails the suite, and the report
it prints (captured by pytest) names the offending import.
"""

from __future__ import annotations

from pathlib import Path

from importlinter import configuration
from importlinter.application import use_cases

ROOT = Path(__file__).resolve().parents[2]
configuration.configure()  # import-linter's adapters (file system, graph builder, printer)


def _lint(config: Path) -> bool:
    return use_cases.lint_imports(config_filename=str(config), cache_dir=None, no_logo=True)


def test_every_import_contract_is_kept(capsys):
    kept = _lint(ROOT / "pyproject.toml")
    out = capsys.readouterr().out
    assert "Contracts: 2 kept, 0 broken." in out, out
    assert kept


def test_the_contracts_see_real_imports(tmp_path, capsys):
    """A floor turned upside down is reported broken: the graph holds the package's real imports."""
    config = tmp_path / "upside-down.toml"
    config.write_text(
        '[tool.importlinter]\nroot_packages = ["gearshift"]\n\n'
        '[[tool.importlinter.contracts]]\nname = "events above pipeline"\ntype = "layers"\n'
        'containers = ["gearshift"]\nlayers = ["events", "pipeline"]\n'
    )
    assert not _lint(config)
    assert "gearshift.pipeline" in capsys.readouterr().out
