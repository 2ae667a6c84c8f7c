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
import time

MARKER_VAR = "GEARSHIFT_CHECK_RUN"
_PROC = "/proc"
_SETTLE_S = 2.0  # how long to wait for killed processes to be gone


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


def kill_marked(marker: str, settle_s: float = _SETTLE_S) -> int:
    """SIGKILL every marked process, and again until none is left: one may fork while we look,
    and a killed one is still listed until it has exited (a sandbox's processes take a moment to
    tear their mounts down). Gives up after `settle_s`; how many signals were sent."""
    killed = 0
    deadline = time.monotonic() + settle_s
    while pids := marked_pids(marker):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
        if time.monotonic() > deadline:
            break
        time.sleep(0.01)
    return killed
