"""Redaction, the second wall: gearshift's own credentials never leave in what it writes or sends.

The checks do not get the API key (their environment is scrubbed), but a check can still find
it (a file, a command line, a process listing) and print it, and a model can echo what it saw.
So the few places where text leaves gearshift — emitted events (the `--json` stream and the
UI), the ledger's rows, saved patches, recordings, and every request sent to the model — pass
it through `redact`, which replaces each secret with `[redacted]`.

The secrets are read from the environment at each call (cheap: three lookups, and the compiled
pattern is cached per set of values): `ANTHROPIC_API_KEY`, `ANTHROPIC_AUTH_TOKEN`, and the
credentials in `ANTHROPIC_BASE_URL` (`http://user:KEY@host`).

The rule for short values: a key, token or password shorter than `MIN_SECRET` (8) characters
is not replaced on its own — a three-letter "secret" would blank out every word containing
it, and such a value protects nothing anyway. URL credentials are still redacted wherever the
base URL appears, whatever their length, because there they are matched together with the
host (`user:pw@host` → `[redacted]@host`).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from typing import Any, TypeVar
from urllib.parse import urlsplit

REDACTED = "[redacted]"
MIN_SECRET = 8
SECRET_VARIABLES = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")

T = TypeVar("T")


def _environment_values() -> tuple[str, ...]:
    return tuple(os.environ.get(name, "") for name in (*SECRET_VARIABLES, "ANTHROPIC_BASE_URL"))


@functools.lru_cache(maxsize=8)
def _replacements(values: tuple[str, ...]) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """(one pattern matching every secret, longest first; what each match becomes)."""
    *plain, base_url = values
    table: dict[str, str] = {}
    for value in plain:
        if len(value) >= MIN_SECRET:
            table[value] = REDACTED
    if base_url:
        try:
            parts = urlsplit(base_url)
            userinfo, _, host = parts.netloc.rpartition("@")
        except ValueError:
            userinfo, host = "", ""
        if userinfo:
            table[f"{userinfo}@{host}"] = f"{REDACTED}@{host}"  # wherever the URL is named
            user, _, password = userinfo.partition(":")
            for value in (userinfo, password, user):
                if len(value) >= MIN_SECRET:
                    table.setdefault(value, REDACTED)
    if not table:
        return None, {}
    ordered = sorted(table, key=len, reverse=True)  # "user:pw@host" before "pw"
    return re.compile("|".join(map(re.escape, ordered))), table


def active() -> bool:
    """Whether there is anything to redact in this environment."""
    return _replacements(_environment_values())[0] is not None


def redact(text: str) -> str:
    """`text` with every secret replaced by `[redacted]`."""
    pattern, table = _replacements(_environment_values())
    if pattern is None or not text:
        return text
    return pattern.sub(lambda m: table[m.group(0)], text)


def redact_bytes(data: bytes) -> bytes:
    """`redact` for bytes (recordings): the secrets are ASCII in practice, UTF-8 in any case."""
    pattern, _ = _replacements(_environment_values())
    if pattern is None:
        return data
    text = data.decode("utf-8", "surrogateescape")
    return redact(text).encode("utf-8", "surrogateescape")


def redact_value(value: T) -> T:
    """Strings in `value` redacted, through lists, tuples, dicts (keys too) and dataclasses."""
    if _replacements(_environment_values())[0] is None:
        return value
    return _walk(value)


def _walk(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_walk(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_walk(v) for v in value)
    if isinstance(value, dict):
        return {_walk(k): _walk(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            if not f.init:
                continue
            old = getattr(value, f.name)
            new = _walk(old)
            if new != old:
                changes[f.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    return value


class TextStream:
    """Redacts a text that arrives in pieces (a model's streamed answer), where a secret can be
    split across two deltas: the tail that could be the start of a secret is held back until
    the next piece shows whether it is one, and `flush` lets it go at the end."""

    def __init__(self) -> None:
        self._held = ""

    def feed(self, text: str) -> str:
        """What of everything fed so far can be shown now, redacted."""
        pattern, table = _replacements(_environment_values())
        buf = self._held + text
        if pattern is None:
            self._held = ""
            return buf
        last_end = 0
        for match in pattern.finditer(buf):
            last_end = match.end()
        cut = len(buf)
        longest = max(map(len, table))
        for k in range(min(longest - 1, len(buf) - last_end), 0, -1):
            tail = buf[-k:]
            if any(secret.startswith(tail) for secret in table):
                cut = len(buf) - k
                break
        self._held = buf[cut:]
        return pattern.sub(lambda m: table[m.group(0)], buf[:cut])

    def flush(self) -> str:
        held, self._held = self._held, ""
        return redact(held)


def sink(emit: Any) -> Any:
    """An event sink that redacts each event before passing it on (idempotent: wrapping a
    sink twice does not redact twice)."""
    if getattr(emit, "_redacting", False):
        return emit

    def redacting(event: Any) -> None:
        emit(redact_value(event))

    redacting._redacting = True  # type: ignore[attr-defined]
    return redacting
