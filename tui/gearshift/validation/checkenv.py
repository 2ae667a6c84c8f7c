"""The environment a check runs with: an allow-list, not the user's whole environment.

Why: a check runs code nobody has reviewed (a model-written conftest.py, a vitest setup file, a
project's custom command). Whatever it can read it can print, and what it prints goes to the
ledger, the `--json` stream and the model. So a check gets what toolchains need to work (PATH,
locale, terminal, time zone, the interpreter's and node's own variables) and nothing else; the
user adds more by name with `validation.env_passthrough`. What changes only the shape of a
check's output (CI, COLUMNS, FORCE_COLOR) is left out, so a check prints the same at a desk as
on a CI runner. A name that looks like a credential
(KEY, TOKEN, SECRET, PASSWORD) is dropped even when it matches an allowed prefix, unless it is
passed through by name; `ANTHROPIC_*` never passes (the config refuses it in the passthrough).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

ALLOWED_NAMES = frozenset(
    {
        "PATH",
        "LANG",
        "LANGUAGE",
        "TERM",
        "TZ",
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "VIRTUAL_ENV",
        "CONDA_PREFIX",
        "CONDA_DEFAULT_ENV",
        "NVM_DIR",
        "NVM_BIN",
    }
)
# Not passed, though harmless to leak: CI and COLUMNS change what pytest and vitest print (CI=true
# turns off pytest's truncation of diffs and summary lines; COLUMNS sets the width), so the same
# check would show the model other words on a CI runner than at a desk — and a recorded session
# would no longer replay there. Pass them by name (`validation.env_passthrough`) when wanted.
# Interpreter and package-manager settings (PYTHONPATH, NODE_OPTIONS, npm_config_registry, …).
ALLOWED_PREFIXES = ("LC_", "PYTHON", "NODE_", "npm_config_", "NPM_CONFIG_", "PIP_", "UV_", "VITEST_")
CREDENTIAL_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH")


def looks_secret(name: str) -> bool:
    upper = name.upper()
    return upper.startswith("ANTHROPIC_") or any(word in upper for word in CREDENTIAL_WORDS)


def scrubbed_env(source: Mapping[str, str], passthrough: Iterable[str] = ()) -> dict[str, str]:
    """The variables of `source` a check may see: the allow-list minus credential-like names,
    plus the names in `passthrough` (never ANTHROPIC_*)."""
    named = {n for n in passthrough if not n.upper().startswith("ANTHROPIC_")}
    return {name: value for name, value in source.items() if name in named or _allowed(name)}


def _allowed(name: str) -> bool:
    return (name in ALLOWED_NAMES or name.startswith(ALLOWED_PREFIXES)) and not looks_secret(name)
