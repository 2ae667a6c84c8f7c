"""Redaction, the second wall: gearshift's own credentials never leave in what it writes or sends.

The checks do not get the API key (their environment is scrubbed), but a check can still find
it (a file, a command line, a process listing) and print it, and a model can echo what it saw.
So the few places where text leaves gearshift — emitted events (the `--json` stream and the
UI), the ledger's rows, saved patches, recordings, and every request sent to the model — pass
it through `redact`, which replaces each secret with `[redacted]`.

The secrets are read from the environment at each call (the compiled pattern is cached per set
of values); the per-event paths — a sink, a streamed answer — read them once when made: `ANTHROPIC_API_KEY`, `ANTHROPIC_AUTH_TOKEN`, and the
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
    return _sub(text, pattern, table)


def _sub(text: str, pattern: re.Pattern[str], table: dict[str, str]) -> str:
    if pattern.search(text) is None:  # the common case: one scan, no new string
        return text
    return pattern.sub(lambda m: table[m.group(0)], text)


def redact_bytes(data: bytes) -> bytes:
    """`redact` for bytes: the secrets are ASCII in practice, UTF-8 in any case."""
    pattern, _ = _replacements(_environment_values())
    if pattern is None:
        return data
    text = data.decode("utf-8", "surrogateescape")
    return redact(text).encode("utf-8", "surrogateescape")


def redact_value(value: T) -> T:
    """Strings in `value` redacted, through lists, tuples, dicts (keys too) and dataclasses;
    `value` itself (not a copy) when nothing in it changed."""
    pattern, table = _replacements(_environment_values())
    if pattern is None:
        return value
    return _walk(value, pattern, table)


def _walk(value: Any, pattern: re.Pattern[str], table: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _sub(value, pattern, table)
    if isinstance(value, list | tuple):
        items = [_walk(v, pattern, table) for v in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        pairs = [(_walk(k, pattern, table), _walk(v, pattern, table)) for k, v in value.items()]
        if all(k is k0 and v is v0 for (k, v), (k0, v0) in zip(pairs, value.items(), strict=True)):
            return value
        return dict(pairs)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for name in _init_fields(type(value)):
            old = getattr(value, name)
            new = _walk(old, pattern, table)
            if new is not old:
                changes[name] = new
        return dataclasses.replace(value, **changes) if changes else value
    return value


@functools.cache
def _init_fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.init)


class TextStream:
    """Redacts a text that arrives in pieces (a model's streamed answer), where a secret can be
    split across two deltas: the tail that could be the start of a secret is held back until
    the next piece shows whether it is one, and `flush` lets it go at the end."""

    def __init__(self) -> None:
        self._held = ""
        # read once: a stream lasts one call, and reading os.environ costs more than a delta
        self._pattern, self._table = _replacements(_environment_values())

    def feed(self, text: str) -> str:
        """What of everything fed so far can be shown now, redacted."""
        pattern, table = self._pattern, self._table
        buf = self._held + text
        if pattern is None:
            self._held = ""
            return buf
        last_end = 0
        for match in pattern.finditer(buf):
            last_end = match.end()
        # the earliest place in the tail (after the last whole secret) where a secret may begin
        cut = len(buf)
        window = max(last_end, len(buf) - max(map(len, table)) + 1)
        for secret in table:
            i = buf.find(secret[0], window)
            while i != -1 and i < cut:
                if secret.startswith(buf[i:]):
                    cut = i
                    break
                i = buf.find(secret[0], i + 1)
        self._held = buf[cut:]
        return _sub(buf[:cut], pattern, table)

    def flush(self) -> str:
        held, self._held = self._held, ""
        return held if self._pattern is None else _sub(held, self._pattern, self._table)


def sink(emit: Any) -> Any:
    """An event sink that redacts each event before passing it on (idempotent: wrapping a
    sink twice does not redact twice). The secrets are read when the sink is made — a
    session's environment does not change under it — so each event costs only the scan."""
    if getattr(emit, "_redacting", False):
        return emit

    pattern, table = _replacements(_environment_values())  # the secrets of this session
    if pattern is None:
        return emit

    def redacting(event: Any) -> None:
        emit(_walk(event, pattern, table))

    redacting._redacting = True  # type: ignore[attr-defined]
    return redacting
