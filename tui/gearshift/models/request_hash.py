"""What decides a model's answer, as one short hash: recordings are served only to the request
they were made for.

A recording is found by task id, attempt and turn; this hash then says whether the request is
the one that was recorded. It covers the model id (a threshold change routes to another model),
the context files and every message of the conversation so far (the task's prompt, the tool
results, the corrections). It leaves out the instructions block (the first system block), so
rewording gearshift's own instructions does not orphan a demo, and the cache breakpoints, which
move between turns without changing what the model is asked. What differs from run to run
without changing the question — object addresses (`<Cart object at 0x7efc…>`) and durations
(`1 failed in 0.42s`) in tool output quoted back to the model — is blanked before hashing, so a
replay on another machine, at another pace or on another day matches.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

HASH_KEY = "request_hash"
_RUN_TO_RUN = re.compile(r"\b0x[0-9a-fA-F]{6,}\b|\b\d+(?:\.\d+)? ?(?:s|ms)\b")


def without_cache_control(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_cache_control(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [without_cache_control(v) for v in value]
    return value


def request_hash(body: dict[str, Any]) -> str:
    """The hash of a Messages API request body (the JSON the SDK sends), as 16 hex digits."""
    system = body.get("system") or []
    if isinstance(system, str):  # a plain string system prompt is all instructions
        system = []
    decisive = {
        "model": body.get("model"),
        "context": without_cache_control(system[1:]),
        "messages": without_cache_control(body.get("messages") or []),
        "tools": [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)],
    }
    data = _RUN_TO_RUN.sub(
        "~", json.dumps(decisive, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    )
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def body_hash(content: bytes) -> str | None:
    """`request_hash` of a raw request body, or None when it is not a JSON object."""
    try:
        body = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None
    return request_hash(body) if isinstance(body, dict) else None
