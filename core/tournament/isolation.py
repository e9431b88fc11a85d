"""Team bots run isolated: each `command` or `python` bot process in a bubblewrap sandbox.

Team bots are untrusted code running on the organizer's machine, next to the store that
holds every team's transcripts and labels. Each process bot (per instance) runs in a
sandbox made with bubblewrap (``bwrap``, Debian package ``bubblewrap``), an existing,
widely used sandbox tool, under the keeper that already limits and cleans up after it
(core.tournament.botkeeper). What the bot sees (docs/config.md#isolation):

- **files**: the system read-only (``/usr``, the library folders, a few files of
  ``/etc``), this Python installation read-only, the bot's own folder read-only (its
  script, class file or package; or ``folder`` from the config), the arena's bot host
  (``core``) read-only for python bots, the team SDK (``arena_sdk``) where installed,
  and a private writable ``/tmp`` (a tmpfs of ``tmp_mb``, also its ``HOME``) and
  ``/dev/shm`` (another, for shared memory and semaphores). Nothing else: not the store or its logs (masked even
  when they lie inside a visible folder), not the organizer's home, not other teams'
  folders;
- **processes**: a PID namespace of its own with a fresh ``/proc``: the arena and other
  bots are invisible (no ``/proc/<pid>/environ`` or command line to read), and a new
  session (no terminal to push keystrokes into);
- **network**: a network namespace of its own with only a loopback interface; a model
  server on the bot's allow-list is reached at ``127.0.0.1:PORT`` through two relays
  (core.tournament.netrelay), the outside one connecting only to that server;
- **identity and limits**: the configured environment only; when the arena runs as
  root, a user id of its own per instance (no capabilities), so ``processes``
  (RLIMIT_NPROC) counts only that instance's processes; as another user, a user
  namespace, with RLIMIT_NPROC set inside it (``prlimit``) where the kernel counts per
  namespace (Linux 5.14 and later).

Where bubblewrap cannot run (not installed, no user namespaces, another OS), `status`
says so and which protections are missing; the arena then runs bots as before, unless
the config says ``isolation = "required"``, where nothing starts.
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from core.tournament.config import BotSpec, _module_source

# System folders bound read-only (those that exist; a symlink stays a symlink).
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt")
# Files of /etc a program may need to start and look things up (read-only, if present).
# Kept short: each is a mount, about 1 ms of every bot start (benchmarks/bench_sandbox.py).
ETC_ENTRIES = ("ld.so.cache", "alternatives", "ssl", "localtime", "passwd", "group", "nsswitch.conf", "hosts")
# Where the relays' Unix sockets and the inside relay appear in the sandbox.
NET_DIR = "/run/arena-net"
RELAY_SCRIPT = "/run/arena/netrelay.py"
# User ids given to sandboxed instances when the arena runs as root: one per instance,
# far above the ids of real users (65536 * 2**14 ids from here).
UID_BASE = 1 << 30
_uids = itertools.count()
CORE_DIR = Path(__file__).resolve().parent.parent
# Packages of this project that any team bot may import (the team SDK), bound read-only
# where installed; located without importing them.
SHARED_PACKAGES = ("arena_sdk",)
NETRELAY = Path(__file__).resolve().with_name("netrelay.py")
PROBE_TIMEOUT_S = 10.0


class IsolationError(Exception):
    """``isolation = "required"`` but the sandbox cannot run here."""


@dataclass(frozen=True)
class Status:
    """Whether the sandbox works here, and the programs it uses."""

    available: bool
    why: str = ""  # when not available
    bwrap: str = ""
    inner: str = ""  # setpriv (root) or prlimit (another user)
    root: bool = False


def missing_protections(why: str) -> str:
    """The one message that says the sandbox is off and what a bot can then do."""
    return (f"bot isolation unavailable ({why}): command and python bots run without the sandbox, "
            "so they can read the store, other bots' logs and the organizer's files, write anywhere "
            "the organizer can, see other processes (/proc) and open any network connection; "
            "the memory, CPU-time, file-size and open-file limits and the scrubbed environment still apply, "
            "the process limit does not. Install bubblewrap (apt-get install bubblewrap) "
            "or set isolation = \"required\" to refuse to run like this.")


def _namespaces(root: bool) -> list[str]:
    flags = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    if not root:
        flags.append("--unshare-user")
    return flags


def _inner(status: Status, processes: int, own_user: bool = True) -> list[str]:
    """The program between bubblewrap and the bot: drops to the instance's own user
    (root) or sets the process limit inside the user namespace (another user)."""
    if status.root and not own_user:
        return []  # root without capabilities (bubblewrap drops them)
    if status.root:
        uid = UID_BASE + ((os.getpid() & 0xFFFF) << 14 | next(_uids) & 0x3FFF)
        return [status.inner, f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    if processes:
        return [status.inner, f"--nproc={processes}:{processes}", "--"]
    return []


@functools.lru_cache(maxsize=1)
def status() -> Status:
    """Probe once per process whether bubblewrap runs here with every namespace used."""
    if not sys.platform.startswith("linux"):
        return Status(False, f"bubblewrap needs Linux, not {sys.platform}")
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return Status(False, "bubblewrap (bwrap) is not installed")
    root = os.geteuid() == 0
    inner = shutil.which("setpriv" if root else "prlimit")
    if inner is None:
        return Status(False, f"{'setpriv' if root else 'prlimit'} (util-linux) is not installed")
    probe = Status(True, bwrap=bwrap, inner=inner, root=root)
    command = [bwrap, *_namespaces(root), "--die-with-parent", "--new-session", *_system_binds(),
               "--proc", "/proc", "--dev", "/dev", *(_caps() if root else []), *_inner(probe, 0), "true"]
    try:
        result = subprocess.run(command, capture_output=True, timeout=PROBE_TIMEOUT_S, env={"PATH": "/usr/bin:/bin"})
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Status(False, f"bubblewrap cannot run: {exc}")
    if result.returncode != 0:
        last = result.stderr.decode("utf-8", "replace").strip().splitlines()
        return Status(False, f"bubblewrap cannot run here: {last[-1] if last else f'exit code {result.returncode}'}")
    return probe


def check(mode: str) -> str | None:
    """For a run whose bots use `mode` ("auto", "required" or "off"): None when the
    sandbox runs (or is off on purpose), the missing-protections message when it cannot
    run; raises `IsolationError` when it cannot and the mode is "required"."""
    if mode == "off":
        return None
    found = status()
    if found.available:
        return None
    if mode == "required":
        raise IsolationError(f"isolation is \"required\" but the sandbox cannot run here: {found.why}")
    return missing_protections(found.why)


def _caps() -> list[str]:
    return ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]


def _system_binds() -> list[str]:
    args: list[str] = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for name in ETC_ENTRIES:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args


def _python_dirs() -> set[Path]:
    """This Python installation (a virtual environment and its base)."""
    found = {Path(p).resolve() for p in {sys.prefix, sys.base_prefix, sys.exec_prefix}}
    found.add(Path(sys.executable).resolve().parent)
    return found


def _existing(path: str, base: Path) -> Path | None:
    candidate = Path(path) if Path(path).is_absolute() else base / path
    try:
        return candidate.resolve() if candidate.exists() else None
    except OSError:
        return None


@functools.lru_cache(maxsize=1)
def _shared_packages() -> frozenset[Path]:
    found = set()
    for name in SHARED_PACKAGES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is not None:
            found.update(Path(p).resolve() for p in spec.submodule_search_locations or ())
    return frozenset(found)


def bot_folders(spec: BotSpec) -> set[Path]:
    """The bot's own folders, bound read-only: `folder` from the config, else the folder
    of its script (or program), its class file or its package, and its PYTHONPATH."""
    if spec.folder is not None:
        return {spec.folder}
    found: set[Path] = set()

    def add(path: Path | None) -> None:
        if path is not None:
            found.add(path if path.is_dir() else path.parent)

    if spec.kind == "command":
        program = spec.command[0]
        if "/" in program:
            add(_existing(program, spec.workdir))
        for arg in spec.command[1:]:
            if not arg.startswith("-") and ("/" in arg or "." in arg):
                # A script, or a `file.py:Class` spec (``python -m arena_sdk my_bot.py:MyBot``).
                path = _existing(arg, spec.workdir)
                if path is None and ":" in arg:
                    path = _existing(arg.rpartition(":")[0], spec.workdir)
                add(path)
    elif spec.kind == "python":
        target = spec.python.rpartition(":")[0]
        if target.endswith(".py"):
            add(_existing(target, spec.workdir))
        else:
            pythonpath = [str(spec.workdir / p) for p in spec.env.get("PYTHONPATH", "").split(os.pathsep) if p]
            _, source = _module_source(target, [str(spec.workdir), *pythonpath, *(p for p in sys.path if p)])
            if source is not None:
                top = source.parent
                for _ in target.split(".")[1:]:
                    top = top.parent
                add(top / target.split(".")[0] if (top / target.split(".")[0]).is_dir() else source)
        for entry in spec.env.get("PYTHONPATH", "").split(os.pathsep):
            if entry:
                add(_existing(entry, spec.workdir))
    return found


def hidden_for_store(store_path: Path) -> tuple[Path, ...]:
    """What of a store a bot must never see: the file, its WAL, shared memory and
    journal, and its log folder (every bot's stderr)."""
    path = Path(store_path).resolve()
    return (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal", ".logs")))


def _under(path: Path, roots: set[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _open_to_others(path: Path) -> bool:
    """Whether a user of its own can read `path` (a folder: list and enter it)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return mode & 0o005 == 0o005 if path.is_dir() else mode & 0o004 == 0o004


@dataclass(frozen=True)
class Plan:
    """How one instance runs: the sandbox's command line, and whether it runs as a user
    of its own (root only; then the keeper sets the process limit)."""

    argv: list[str]
    own_user: bool
    note: str = ""  # a protection this bot lacks, and why


def sandbox_argv(spec: BotSpec, command: list[str], *, hidden: tuple[Path, ...] = (),
                 net_dir: str | None = None, status_: Status | None = None) -> Plan:
    """How to run `command` (the bot) in its sandbox; `net_dir` holds the relays'
    sockets (``<port>.sock`` per allowed server).

    As root, each instance runs as a user of its own, which can read only what other
    users may: a folder of the bot that is closed to them (mode 0700) makes the bot run
    as root without capabilities instead, every protection kept but the process limit
    (`Plan.note` says so)."""
    found = status_ or status()
    limits = spec.limits
    # The engine's code is visible to every bot, read-only, as it is in a wheel install
    # (site-packages): python bots are hosted by it and the SDK's OutputCheck runs its
    # static stage inside command bots too.
    visible = _python_dirs() | bot_folders(spec) | _shared_packages() | {CORE_DIR}
    args = [found.bwrap, *_namespaces(found.root), "--die-with-parent", "--new-session", *_system_binds(),
            "--proc", "/proc", "--dev", "/dev"]
    # The private /tmp first: the bot's folders may lie below /tmp and are bound over it.
    size = ["--size", str(limits.tmp_mb << 20)] if limits.tmp_mb else []
    args += ["--perms", "1777", *size, "--tmpfs", "/tmp"]
    args += ["--perms", "1777", *size, "--tmpfs", "/dev/shm"]  # POSIX shared memory, semaphores (multiprocessing)
    workdir = spec.workdir.resolve()
    # One mount per folder: none below /usr or below another visible folder.
    binds = sorted((p for p in visible if not _under(p, {Path("/usr")}) and not _under(p, visible - {p})),
                   key=lambda p: len(p.parts))
    # The folders above them, made in the sandbox and open to the bot's user (left to
    # bubblewrap they copy the original's mode: /root would be 0700).
    above = {parent for path in (*binds, workdir) for parent in path.parents
             if parent != Path("/") and not _under(parent, visible) and str(parent) not in SYSTEM_DIRS}
    for path in sorted(above, key=lambda p: len(p.parts)):
        args += ["--perms", "0755", "--dir", str(path)]
    for path in binds:
        args += ["--ro-bind", str(path), str(path)]
    for path in hidden:
        if path.exists() and _under(path, visible):
            args += ["--tmpfs", str(path)] if path.is_dir() else ["--ro-bind", "/dev/null", str(path)]
    if not _under(workdir, visible):
        args += ["--perms", "0755", "--dir", str(workdir)]
    args += ["--chdir", str(workdir), "--setenv", "HOME", "/tmp", "--setenv", "TMPDIR", "/tmp"]
    relay: list[str] = []
    if spec.network and net_dir is not None:
        args += ["--perms", "0755", "--dir", "/run", "--perms", "0755", "--dir", os.path.dirname(RELAY_SCRIPT),
                 "--ro-bind", net_dir, NET_DIR, "--ro-bind", str(NETRELAY), RELAY_SCRIPT,
                 "--setenv", "ARENA_NETWORK", " ".join(f"127.0.0.1:{port}" for _, port in spec.network)]
        relay = [sys.executable, "-I", "-S", RELAY_SCRIPT,
                 *(f"{port}={NET_DIR}/{port}.sock" for _, port in spec.network), "--"]
    own_user = found.root
    note = ""
    if found.root:
        closed = [p for p in binds if not _open_to_others(p)]
        if closed:
            own_user = False
            note = (f"the process limit is not enforced: {closed[0]} is closed to other users, so the bot "
                    "cannot run as a user of its own (chmod o+rX it)")
        else:
            args += _caps()
    return Plan([*args, "--", *_inner(found, limits.processes, own_user), *relay, *command], own_user, note)


def relays(spec: BotSpec, net_dir: str) -> list[list[object]]:
    """The outside ends of the bot's relays, for its keeper: [socket path, host, port]."""
    return [[os.path.join(net_dir, f"{port}.sock"), host, port] for host, port in spec.network]


def uses_sandbox(spec: BotSpec) -> bool:
    """Whether this bot's processes run in the sandbox (raises `IsolationError` when it
    is required and cannot run)."""
    if spec.kind == "http" or spec.isolation == "off":
        return False
    if spec.isolation == "required":
        check("required")
    return status().available
