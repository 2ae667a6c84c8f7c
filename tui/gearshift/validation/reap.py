"""Finding a check's processes that left its process group, and killing them.

A check runs in its own session so one `killpg` stops it and its children; a child that calls
`setsid` (a daemonising test server, `setsid sleep`) leaves that group and would outlive the
check, even a SIGTERM of gearshift. Every check's environment carries a marker
(`GEARSHIFT_CHECK_RUN=<random>`), inherited by everything it starts whatever group it moves to,
and the runner kills every process of ours whose environment holds it (Linux `/proc`; where
there is no `/proc`, only the group kill applies — the sandboxed path's PID namespace covers
the rest).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal

MARKER_VAR = "GEARSHIFT_CHECK_RUN"
_PROC = "/proc"


def new_marker() -> str:
    return secrets.token_hex(8)


def marked_pids(marker: str) -> list[int]:
    """Processes (readable by us, so ours) whose environment holds the marker."""
    needle = b"\0" + f"{MARKER_VAR}={marker}".encode() + b"\0"
    me = os.getpid()
    found: list[int] = []
    try:
        names = os.listdir(_PROC)
    except OSError:
        return found
    for name in names:
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"{_PROC}/{name}/environ", "rb") as handle:
                data = b"\0" + handle.read() + b"\0"
        except OSError:  # gone meanwhile, or another user's
            continue
        if needle in data:
            found.append(int(name))
    return found


def kill_marked(marker: str) -> int:
    """SIGKILL every marked process (a few rounds: one may fork while we look); how many."""
    killed = 0
    for _ in range(3):
        pids = marked_pids(marker)
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
    return killed
