"""Keeper of one bot process: nothing a bot starts outlives it.

``python -I -S botkeeper.py ARENA_PID OPTIONS COMMAND...``: the arena (core.tournament.bots)
starts every process bot through a keeper of its own. OPTIONS is JSON: the limits
``memory_mb``, ``cpu_seconds``, ``file_mb``, ``processes``, ``open_files`` (0 for none)
and ``relays``, a list of ``[unix socket path, host, port]``. COMMAND is the bot's command
line, or the sandbox (bubblewrap, core.tournament.isolation) around it. The keeper

- makes itself a child subreaper (Linux ``PR_SET_CHILD_SUBREAPER``), so every process the
  bot starts stays the keeper's descendant, even after ``setsid()`` or a double fork;
- asks the kernel for SIGTERM when the arena dies (``PR_SET_PDEATHSIG``), ``kill -9``
  included;
- serves the bot's allow-listed network relays (core.tournament.netrelay), if any;
- starts the bot in a process group of its own, under the resource limits, with the
  parent-death signal SIGKILL (if the keeper is killed, the bot dies with it); the bot
  inherits stdin, stdout and stderr, and the keeper keeps neither stdin nor stdout open,
  so the arena sees the bot's stdout close when the bot and its children are gone;
- when the bot exits, or on SIGTERM, SIGINT or SIGHUP, kills the bot's process group and
  every living descendant found in /proc until none is left, reaps them, and exits with
  the bot's own status (a bot killed by a signal makes the keeper die of that signal).

Stdlib only, and no import of ``core``: it runs isolated (``-I -S``).
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import sys
import time

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
# Rounds of "kill every living descendant, reap, look again", 10 ms apart.
KILL_ROUNDS = 500


def _prctl(option: int, value: int) -> None:
    """prctl(2) where it exists (Linux); elsewhere nothing."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _apply_limits(memory_mb: int = 0, cpu_seconds: int = 0, file_mb: int = 0, processes: int = 0,
                  open_files: int = 0) -> None:
    """Resource limits of the bot (0 disables one); never above a hard limit already set.

    RLIMIT_NPROC counts the processes of the bot's user, so the arena asks for it only
    when the bot runs as a user of its own (the sandbox, run as root)."""

    def cap(which: int, value: int) -> None:
        try:
            _, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(which, (value, value if which != resource.RLIMIT_CPU else value + 5))
        except (ValueError, OSError):
            pass

    if memory_mb:
        cap(resource.RLIMIT_AS, memory_mb << 20)
    if cpu_seconds:
        cap(resource.RLIMIT_CPU, cpu_seconds)
    if file_mb:
        cap(resource.RLIMIT_FSIZE, file_mb << 20)
    if processes:
        cap(resource.RLIMIT_NPROC, processes)
    if open_files:
        cap(resource.RLIMIT_NOFILE, open_files)
    cap(resource.RLIMIT_CORE, 0)


def _start(command: list[str], limits: dict[str, int], mask: set[signal.Signals]) -> int:
    """Fork and exec the bot; returns its pid. A bot that cannot start exits with 127."""
    keeper = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    try:
        os.setpgid(0, 0)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != keeper:  # the keeper died before the bot could ask to be told
            os._exit(1)
        for sig in (signal.SIGPIPE, signal.SIGXFSZ):  # ignored by Python, default for the bot
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        _apply_limits(**limits)
        os.execvp(command[0], command)
    except BaseException as exc:  # noqa: BLE001 - whatever it is, the bot did not start
        os.write(2, f"arena: cannot start {command[0]}: {exc}\n".encode(errors="replace"))
    os._exit(127)


def _reap() -> dict[int, int]:
    """Collect every child that has ended: {pid: wait status}."""
    ended = {}
    with contextlib.suppress(ChildProcessError):
        while True:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if not pid:
                break
            ended[pid] = status
    return ended


def living_descendants(root: int) -> list[int]:
    """Pids of every process below `root` that has not ended (from /proc; [] without it)."""
    children: dict[int, list[int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        state, ppid = stat[stat.rindex(b")") + 2 :].split()[:2]
        if state not in (b"Z", b"X"):
            children.setdefault(int(ppid), []).append(int(name))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            found.append(child)
            stack.append(child)
    return found


def kill_all(bot: int) -> None:
    """SIGKILL the bot's process group and every living descendant of the keeper, until
    none is left (the killed ones' children come to the keeper, the subreaper)."""
    with contextlib.suppress(OSError):
        os.killpg(bot, signal.SIGKILL)
    for _ in range(KILL_ROUNDS):
        _reap()
        living = living_descendants(os.getpid())
        if not living:
            return
        for pid in living:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)


def _exit_like(status: int) -> None:
    """Exit with the bot's wait status: its exit code, or death by its signal."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        with contextlib.suppress(OSError, ValueError):
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            signal.signal(sig, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {sig})
            os.kill(os.getpid(), sig)
        os._exit(128 + sig)
    os._exit(os.waitstatus_to_exitcode(status))


LIMIT_NAMES = ("memory_mb", "cpu_seconds", "file_mb", "processes", "open_files")


def _serve_relays(relays: list[list]) -> None:
    """Start the outside ends of the bot's network relays (threads of the keeper)."""
    if not relays:
        return
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import netrelay  # noqa: PLC0415 - only bots with an allow-list need it

    for path, host, port in relays:
        netrelay.serve_outside(path, host, int(port))


def main(argv: list[str]) -> None:
    arena, options, command = int(argv[1]), json.loads(argv[2]), argv[3:]
    limits = {name: int(options.get(name, 0)) for name in LIMIT_NAMES}
    # Signals are taken synchronously (sigwait), so none can interrupt the clean-up.
    waited = {signal.SIGCHLD, *STOP_SIGNALS}
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, waited)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != arena:  # the arena died before the keeper could ask to be told
        os._exit(1)
    try:
        _serve_relays(options.get("relays", []))
    except OSError as exc:
        os.write(2, f"arena: cannot start the network relay: {exc}\n".encode(errors="replace"))
        os._exit(1)
    bot = _start(command, limits, mask)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    status = None
    while status is None and signal.sigwait(waited) == signal.SIGCHLD:
        status = _reap().get(bot)
    kill_all(bot)
    if status is None:  # stopped by the arena, or the arena died
        os._exit(1)
    _exit_like(status)


if __name__ == "__main__":
    main(sys.argv)
