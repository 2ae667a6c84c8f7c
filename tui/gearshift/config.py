"""Typed configuration: `gearshift.toml` (or `[tool.gearshift]` in pyproject.toml) → `Config`.

The file mirrors the routing article's configuration template key for key, plus what a real tool
needs (a model catalogue, budgets, custom validators). Every section is a frozen dataclass; one
generic checker walks them so that every mistake is reported the same way: the file, the dotted
key, what was expected and what was found. Nothing outside this module knows a model id or a
price: the `[models.NAME]` catalogue is the single source, and a newer model is one more table.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import sys
import tomllib
import types
import typing
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from gearshift import vocab

CONFIG_FILE = "gearshift.toml"
SCOPES: tuple[vocab.Scope, ...] = typing.get_args(vocab.Scope)
BUILTIN_CHECKS = (
    "python_compile",
    "ruff",
    "mypy",
    "pytest",
    "typescript_compile",
    "eslint_strict",
    "vitest_run",
)


class ConfigError(Exception):
    """A configuration mistake, reported as one line: file, key, expectation, finding."""

    def __init__(self, file: str | Path, key: str, expected: str, got: Any = None) -> None:
        self.file = str(file)
        self.key = key
        self.expected = expected
        self.got = got
        found = "" if got is None else f", got {got!r}"
        self.detail = f"{key}: expected {expected}{found}"  # the message without the file
        super().__init__(f"{self.file}: {self.detail}")


def _check(expect: str, predicate: Any) -> dict[str, Any]:
    """Field metadata: a predicate over the parsed value and the words to say when it fails."""
    return {"expect": expect, "check": predicate}


def _fraction(v: float) -> bool:
    return 0.0 <= v <= 1.0


def _between(low: float, high: float, *, above: bool = False) -> Any:
    """low ≤ v ≤ high (low < v with `above`): absurd numbers stop here, before any arithmetic."""
    return (lambda v: low < v <= high) if above else (lambda v: low <= v <= high)


def _bounded(expect: str, low: float, high: float, *, above: bool = False) -> dict[str, Any]:
    return _check(f"{expect} (at most {high:,})", _between(low, high, above=above))


# Bounds: generous for any real use, small enough that no figure can overflow Decimal
# arithmetic or a timer (a price of 1e300 or max_tokens of 10**30 is a typo, not a setting).
MAX_PRICE_PER_MTOK = 10_000
MAX_OUTPUT_TOKENS = 128_000  # the largest output of the catalogue's models (Opus 4.7, Sonnet 4.6)
MAX_USD = 1_000_000
MAX_TIMEOUT_S = 86_400
MAX_LATENCY_MS = 3_600_000
MAX_EDIT_BYTES = 64 * 1024 * 1024
_PRICE = _bounded("a price ≥ 0 (dollars per million tokens)", 0, MAX_PRICE_PER_MTOK)
_LATENCY = _bounded("a positive integer (milliseconds)", 0, MAX_LATENCY_MS, above=True)
_TIMEOUT = _bounded("a positive number (seconds)", 0, MAX_TIMEOUT_S, above=True)
_BUDGET = _bounded("a positive number (dollars)", 0, MAX_USD, above=True)
# The Messages API's output_config.effort values (omitting it means "high").
EFFORTS: tuple[vocab.Effort, ...] = typing.get_args(vocab.Effort)


@dataclass(frozen=True)
class ModelSpec:
    """One catalogue entry: the API id, prices per million tokens, and what routing needs to know."""

    name: str
    id: str
    input_per_mtok: Decimal = field(metadata=_PRICE)
    output_per_mtok: Decimal = field(metadata=_PRICE)
    cache_write_5m_per_mtok: Decimal = field(metadata=_PRICE)
    cache_write_1h_per_mtok: Decimal = field(metadata=_PRICE)
    cache_read_per_mtok: Decimal = field(metadata=_PRICE)
    # Typical latency of a short interactive answer; the latency rule compares it with
    # routing.max_latency_ms until the ledger has measured this model on this machine.
    typical_latency_ms: int = field(default=2500, metadata=_LATENCY)
    label: str = ""  # how the UI and reports name it; the id when left out
    effort: vocab.Effort | None = None
    # Drawn from the catalogue by the UI so each tier keeps its colour in every theme.
    tier: vocab.ModelTier = "default"
    # Anthropic's prompt-caching docs: a prefix shorter than this is never cached, so a
    # breakpoint that ends earlier cannot pay and is left out.
    min_cache_tokens: int = field(default=1024, metadata=_bounded("a positive integer", 0, 1_000_000, above=True))


DEFAULT_MODELS: dict[str, dict[str, Any]] = {
    "sonnet-4-6": {
        "id": "claude-sonnet-4-6",
        "label": "Sonnet 4.6",
        "input_per_mtok": 3.0,
        "output_per_mtok": 15.0,
        "cache_write_5m_per_mtok": 3.75,
        "cache_write_1h_per_mtok": 6.0,
        "cache_read_per_mtok": 0.30,
        "typical_latency_ms": 2200,
        "tier": "default",
        "min_cache_tokens": 1024,
    },
    "opus-4-7": {
        "id": "claude-opus-4-7",
        "label": "Opus 4.7",
        "input_per_mtok": 5.0,
        "output_per_mtok": 25.0,
        "cache_write_5m_per_mtok": 6.25,
        "cache_write_1h_per_mtok": 10.0,
        "cache_read_per_mtok": 0.50,
        "typical_latency_ms": 7500,
        "tier": "escalation",
        "min_cache_tokens": 4096,
    },
    "haiku-4-5": {
        "id": "claude-haiku-4-5",
        "label": "Haiku 4.5",
        "input_per_mtok": 1.0,
        "output_per_mtok": 5.0,
        "cache_write_5m_per_mtok": 1.25,
        "cache_write_1h_per_mtok": 2.0,
        "cache_read_per_mtok": 0.10,
        "typical_latency_ms": 1200,
        "tier": "fast",
        "min_cache_tokens": 4096,
    },
}


@dataclass(frozen=True)
class ExperimentConfig:
    """`[routing.experiment]`: an A/B test of the complexity threshold. Each task is assigned by
    a hash of its id to arm "b" (this threshold) with probability `share`, else to arm "a"
    (routing.complexity_threshold); `gearshift report --by arm` compares the arms."""

    threshold: float = field(metadata=_check("a number between 0 and 1", _fraction))
    share: float = field(default=0.5, metadata=_check("a number between 0 and 1", _fraction))


@dataclass(frozen=True)
class RoutingConfig:
    default_model: str = "claude-sonnet-4-6"
    escalation_model: str = "claude-opus-4-7"
    complexity_threshold: float = field(default=0.75, metadata=_check("a number between 0 and 1", _fraction))
    max_latency_ms: int = field(default=3000, metadata=_LATENCY)
    interactive_fallback: bool = True
    always_escalate_scopes: tuple[str, ...] = ("security", "architecture")
    signoff_scopes: tuple[str, ...] = ()
    experiment: ExperimentConfig | None = None
    # Review tasks in a batch run (`gearshift run --headless`): latency is irrelevant there and
    # accuracy is what counts. Empty means the escalation model.
    batch_review_model: str = ""


@dataclass(frozen=True)
class CommandSpec:
    """A custom validator: a shell command run in the staged copy."""

    run: str
    kind: vocab.CheckKind = "logic"
    # Which built-in parser reads its output; "lines" keeps every non-empty line as a finding
    # when the command fails.
    parser: str = "lines"
    timeout_s: float | None = field(default=None, metadata=_TIMEOUT)
    # Whether this command's sandbox keeps the network; None means validation.network.
    network: bool | None = None


SANDBOX_MODES: tuple[vocab.SandboxMode, ...] = typing.get_args(vocab.SandboxMode)


def _env_names(names: tuple[str, ...]) -> bool:
    """Plain variable names, and never ANTHROPIC_*: the API key must not reach a check."""
    return all(
        n
        and (n[0].isalpha() or n[0] == "_")
        and all(c.isalnum() or c == "_" for c in n)
        and not n.upper().startswith("ANTHROPIC_")
        for n in names
    )


@dataclass(frozen=True)
class ValidationConfig:
    enabled: bool = True
    # The article's template lists these three; `gearshift init` detects the right ones.
    checks: tuple[str, ...] = ("typescript_compile", "eslint_strict", "vitest_run")
    escalation_on: vocab.EscalationOn = "fail-logic"
    max_correction_attempts: int = field(default=2, metadata=_bounded("an integer ≥ 0", 0, 100))
    # A logic failure on the escalation model has no stronger model to go to: it corrects its own
    # change from the findings this many times before the task fails (a plain agent loop's retry).
    escalation_model_corrections: int = field(default=1, metadata=_bounded("an integer ≥ 0", 0, 100))
    timeout_s: float = field(default=300.0, metadata=_TIMEOUT)
    # The interpreter that runs python checks; empty means the project's .venv if it has one,
    # else the interpreter running gearshift.
    python: str = ""
    commands: dict[str, CommandSpec] = field(default_factory=dict)
    # Checks run in a bubblewrap sandbox: "auto" falls back (and says so) where none can start,
    # "required" refuses to run without one, "off" runs them unsandboxed on a hard-linked stage.
    sandbox: vocab.SandboxMode = "auto"
    network: bool = False  # whether sandboxed checks keep the network (per command: .network)
    # Environment variables passed to checks beyond the allow-list (never ANTHROPIC_*).
    env_passthrough: tuple[str, ...] = field(
        default=(), metadata=_check("variable names, none starting with ANTHROPIC_", _env_names)
    )


@dataclass(frozen=True)
class ContextConfig:
    max_files: int = field(default=15, metadata=_bounded("a positive integer", 0, 100_000, above=True))
    pruning_strategy: vocab.PruningStrategy = "dependency_graph"
    include_types: bool = True
    strip_documentation: bool = True
    # Estimated tokens of context files sent in the stable prefix.
    token_budget: int = field(
        default=24000, metadata=_bounded("a positive integer", 0, 2_000_000, above=True)
    )


@dataclass(frozen=True)
class CostTrackingConfig:
    enabled: bool = True
    tags: tuple[str, ...] = ("task_type", "team", "feature_branch")
    alert_threshold_per_task: float = field(default=0.50, metadata=_bounded("a number ≥ 0", 0, MAX_USD))
    session_budget_usd: float | None = field(default=None, metadata=_BUDGET)
    # Holds across processes: every call booked in the ledger since local midnight counts.
    daily_budget_usd: float | None = field(default=None, metadata=_BUDGET)


@dataclass(frozen=True)
class SessionConfig:
    """Limits of one model conversation."""

    max_tokens: int = field(
        default=8192, metadata=_bounded("a positive integer", 0, MAX_OUTPUT_TOKENS, above=True)
    )
    max_turns_per_attempt: int = field(
        default=12, metadata=_bounded("a positive integer", 0, 1000, above=True)
    )
    # The largest file_text / new_str / insert_text the editor tool accepts from the model.
    max_edit_bytes: int = field(
        default=1_000_000, metadata=_bounded("a positive integer (bytes)", 0, MAX_EDIT_BYTES, above=True)
    )
    cache_ttl: vocab.CacheTtl = "5m"


@dataclass(frozen=True)
class Config:
    root: Path
    source: str
    routing: RoutingConfig
    validation: ValidationConfig
    context: ContextConfig
    cost_tracking: CostTrackingConfig
    session: SessionConfig
    models: dict[str, ModelSpec]
    # A hash of the raw gearshift table this was built from: project trust is keyed to it
    # (see trust.py), so a trusted config is exactly the one that runs.
    digest: str = ""
    # Whether what the project's config can make gearshift execute beyond the built-in checks
    # (its [validation.commands], an interpreter inside the project) may run. The command line
    # and the app set it from the user's trust records (`trust.checked`); untrusted, those
    # checks are reported as not run and built-in checks use gearshift's own Python.
    trusted: bool = True

    def model(self, ref: str) -> ModelSpec:
        """The catalogue entry for a table name or an API id."""
        found = _find_model(self.models, ref)
        if found is None:
            raise KeyError(ref)
        return found

    @property
    def default_model(self) -> ModelSpec:
        return self.model(self.routing.default_model)

    @property
    def escalation_model(self) -> ModelSpec:
        return self.model(self.routing.escalation_model)

    @property
    def batch_review_model(self) -> ModelSpec:
        return self.model(self.routing.batch_review_model or self.routing.escalation_model)

    def model_by_id(self, model_id: str) -> ModelSpec | None:
        return _find_model(self.models, model_id)


def _find_model(models: dict[str, ModelSpec], ref: str) -> ModelSpec | None:
    if ref in models:
        return models[ref]
    for spec in models.values():
        if spec.id == ref:
            return spec
    return None


# ---------------------------------------------------------------------------------------------
# The generic checker


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if tp is bool:
        return "true or false"
    if tp is int:
        return "an integer"
    if tp is float or tp is Decimal:
        return "a number"
    if tp is str:
        return "a string"
    if origin is typing.Literal:  # a closed set of vocab.py: '"a", "b" or "c"'
        *rest, last = (f'"{a}"' for a in typing.get_args(tp))
        return f"{', '.join(rest)} or {last}" if rest else last
    if origin is tuple:
        return f"a list of {_type_name(typing.get_args(tp)[0]).removeprefix('a ').removeprefix('an ')}s"
    if origin is dict:
        return "a table"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp) if a is not type(None))
    if dataclasses.is_dataclass(tp):
        return "a table"
    return str(tp)


def _coerce(value: Any, tp: Any, file: str, key: str) -> Any:
    """Check `value` against the annotation `tp`, converting lists to tuples and numbers to floats."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        tables = [a for a in args if dataclasses.is_dataclass(a)]
        if isinstance(value, dict) and tables:  # a table's own mistake names its own key
            return _coerce(value, tables[0], file, key)
        for arg in args:
            try:
                return _coerce(value, arg, file, key)
            except ConfigError:
                continue
        raise ConfigError(file, key, _type_name(tp), value)
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    elif tp is Decimal:  # TOML allows nan and inf: neither is a price
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return Decimal(str(value))
    elif tp is str:
        if isinstance(value, str):
            return value
    elif origin is typing.Literal:
        if isinstance(value, str) and value in typing.get_args(tp):
            return value
    elif origin is tuple:
        (item_tp, *_) = typing.get_args(tp)
        if isinstance(value, list):
            return tuple(_coerce(v, item_tp, file, f"{key}[{i}]") for i, v in enumerate(value))
    elif origin is dict:
        _, val_tp = typing.get_args(tp)
        if isinstance(value, dict):
            return {k: _coerce(v, val_tp, file, f"{key}.{k}") for k, v in value.items()}
    elif dataclasses.is_dataclass(tp) and isinstance(value, dict):
        return _build(tp, value, file, key)
    raise ConfigError(file, key, _type_name(tp), value)


def _build(cls: Any, table: dict[str, Any], file: str, prefix: str, **fixed: Any) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls) if f.name not in fixed}
    for name in table:
        if name not in known:
            allowed = ", ".join(sorted(known))
            raise ConfigError(file, f"{prefix}.{name}", f"one of the known keys ({allowed})", None)
    values: dict[str, Any] = dict(fixed)
    for name, f in known.items():
        key = f"{prefix}.{name}"
        if name not in table:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(file, key, f"{_type_name(hints[name])} (this key is required)")
            continue
        value = _coerce(table[name], hints[name], file, key)
        check = f.metadata.get("check")
        if check is not None and value is not None and not check(value):
            raise ConfigError(file, key, f.metadata["expect"], table[name])
        values[name] = value
    return cls(**values)


# ---------------------------------------------------------------------------------------------
# Loading


def find_config_source(root: Path) -> tuple[str, dict[str, Any]]:
    """The file that configures `root` and its raw gearshift table (empty when there is none)."""
    path = root / CONFIG_FILE
    if path.is_file():
        return str(path), read_toml(path)
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        data = read_toml(pyproject)
        table = data.get("tool", {}).get("gearshift")
        if table is not None:
            if not isinstance(table, dict):
                raise ConfigError(pyproject, "tool.gearshift", "a table", table)
            return f"{pyproject} [tool.gearshift]", table
    return "(defaults)", {}


def read_toml(path: Path, *, missing: str | None = None) -> dict[str, Any]:
    """A TOML file a person writes (the config, a tasks file, a theme, the app's settings), or
    a ConfigError saying in one line what is wrong with it: not TOML (tomllib's words, with the
    line and column), not UTF-8, not readable — the one reader, so every file says it alike.
    `missing`: what to say was expected when the file does not exist (else "a readable file")."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "(file)", "valid TOML", str(exc)) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(path, "(file)", "UTF-8 text (TOML files are UTF-8)", str(exc)) from None
    except FileNotFoundError as exc:
        raise ConfigError(path, "(file)", missing or "a readable file", "no such file" if missing else exc.strerror) from None
    except OSError as exc:
        raise ConfigError(path, "(file)", "a readable file", exc.strerror) from None


SECTIONS: dict[str, Any] = {
    "routing": RoutingConfig,
    "validation": ValidationConfig,
    "context": ContextConfig,
    "cost_tracking": CostTrackingConfig,
    "session": SessionConfig,
}


def load_config(root: str | Path) -> Config:
    """Read and check the project's configuration; raise `ConfigError` on the first mistake."""
    root = Path(root).resolve()
    if not root.is_dir():
        raise ConfigError(root, "(project)", "an existing project folder", str(root))
    source, raw = find_config_source(root)
    return config_from_mapping(root, source, raw)


def config_from_mapping(root: Path, source: str, raw: dict[str, Any]) -> Config:
    for key in raw:
        if key not in SECTIONS and key != "models":
            allowed = ", ".join([*SECTIONS, "models"])
            raise ConfigError(source, key, f"one of the sections ({allowed})")
    sections = {}
    for name, cls in SECTIONS.items():
        table = raw.get(name, {})
        if not isinstance(table, dict):
            raise ConfigError(source, name, "a table", table)
        sections[name] = _build(cls, table, source, name)

    models_raw = raw.get("models", {})
    if not isinstance(models_raw, dict):
        raise ConfigError(source, "models", "a table of model tables", models_raw)
    merged = {name: dict(spec) for name, spec in DEFAULT_MODELS.items()}
    for name, table in models_raw.items():
        if not isinstance(table, dict):
            raise ConfigError(source, f"models.{name}", "a table", table)
        base = merged.get(name, {})
        merged[name] = {**base, **table}
    models = {
        name: _build(ModelSpec, table, source, f"models.{name}", name=name) for name, table in merged.items()
    }
    models = {name: m if m.label else dataclasses.replace(m, label=m.id) for name, m in models.items()}

    routing: RoutingConfig = sections["routing"]
    for key in ("default_model", "escalation_model", "batch_review_model"):
        ref = getattr(routing, key)
        if key == "batch_review_model" and not ref:
            continue
        if _find_model(models, ref) is None:
            known = ", ".join(sorted({m.id for m in models.values()}))
            raise ConfigError(source, f"routing.{key}", f"a model in the catalogue ({known})", ref)
    for key in ("always_escalate_scopes", "signoff_scopes"):
        for i, scope in enumerate(getattr(routing, key)):
            if scope not in SCOPES:
                raise ConfigError(source, f"routing.{key}[{i}]", f"one of {', '.join(SCOPES)}", scope)

    validation: ValidationConfig = sections["validation"]
    for i, check in enumerate(validation.checks):
        if check not in BUILTIN_CHECKS and check not in validation.commands:
            raise ConfigError(
                source,
                f"validation.checks[{i}]",
                f"a built-in check ({', '.join(BUILTIN_CHECKS)}) or a [validation.commands] name",
                check,
            )
    for name, cmd in validation.commands.items():
        if cmd.parser not in (*BUILTIN_PARSERS, "lines"):
            raise ConfigError(
                source,
                f"validation.commands.{name}.parser",
                f"one of {', '.join((*BUILTIN_PARSERS, 'lines'))}",
                cmd.parser,
            )
    return Config(root=root, source=source, models=models, digest=config_digest(raw), **sections)


# Parsers a custom command may borrow; kept here (not imported from validation) so the
# config stays the lowest floor.
BUILTIN_PARSERS = ("python_compile", "ruff", "mypy", "pytest", "tsc", "eslint", "vitest")


def config_digest(raw: dict[str, Any]) -> str:
    """sha256 of the gearshift table in a canonical form (key order and comments do not count)."""
    text = json.dumps(raw, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def default_python() -> str:
    return sys.executable
