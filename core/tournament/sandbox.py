"""Run untrusted Python (a bot's answer) against unit tests in a contained child process.

``run_python_tests(code, tests)`` executes ``code`` and then the assert-style ``tests``
in a fresh interpreter and reports whether every test passed. It is used by the defender
utility sets (core.scoring.utility), where the code comes from a bot's reply.

Containment, in layers (each one works on its own; all of them are on by default):

1. **Process**: ``sys.executable -I -S -B sandbox_child.py`` (the trusted bootstrap,
   `core.tournament.sandbox_child`, run by path; isolated: no environment variables,
   user site, site-packages or script directory; stdlib only), a scrubbed environment, stdin
   replaced by the job description, a fresh temporary directory as cwd/HOME/TMPDIR, a new
   session whose whole process group is SIGKILLed on the wall-clock timeout.
2. **rlimits** set by the trusted bootstrap before any untrusted line runs: address space
   (``memory_mb``), CPU seconds, file size (caps output and files), open files, no core
   dumps, and RLIMIT_NPROC whenever it is enforced (not for root).
3. **Namespaces** when ``unshare`` is available and permitted (probed once): a new
   network namespace (no interface but a down loopback, so nothing can leave the
   machine or reach a local service) and a new PID namespace (every process the child
   might start dies with it).
4. **Privilege drop**: when the arena runs as root and the interpreter is readable by
   ``nobody`` (probed once), the child switches to ``nobody`` before running the code,
   so the kernel enforces file permissions and RLIMIT_NPROC.
5. **Audit hook** (PEP 578), installed by the bootstrap before the untrusted code runs;
   hooks cannot be removed from Python. It refuses: creating processes (fork, exec,
   spawn, system, posix_spawn, subprocess; ``_posixsubprocess`` is replaced by a stub),
   any non-Unix socket and every connect/bind/sendto/DNS lookup, opening files for
   writing outside the temp directory, reading outside the temp directory and the
   Python installation, device files, directory handles outside the temp directory,
   changing files outside it (remove, rename, link, chmod, ...), signalling other
   processes, raising rlimits, tracing/profiling hooks, gc object walking, swapping
   function code, building code objects, loading ctypes/cffi/test C modules or
   sub-interpreters. A refused operation ends the run at once as a failure (the code
   gets no chance to catch it and carry on).

Verdict integrity: the child reports a pass only through a secret nonce that lives in
the audit hook's closure and is written when the bootstrap reaches its last line from
its own call stack, so exiting early (``sys.exit(0)``, ``os._exit(0)``) or printing a
fake marker is a failure. Tests run with a pristine copy of the builtins (module-level
shadowing of ``len`` etc. by the solution does not reach them), and ``assert a == b`` /
``assert a != b`` compare with a strict equality that refuses look-alike objects (an
``__eq__`` that always returns True).

Limits of this design: audit hooks are not a security boundary against a determined
attacker with interpreter-level tricks (PEP 578 says so). The code run here comes from
bots answering benign programming tasks; tampering would be visible in the stored
transcript. For hostile code, run the arena itself as an unprivileged user or in a
container, where layers 2-4 become kernel-enforced.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "SandboxResult",
    "sandbox_capabilities",
    "run_python_tests",
]

# Bytes of combined stdout/stderr kept in the result (the end, where errors are).
STDOUT_TAIL_CHARS = 2000
# Largest file the child may write, output included (RLIMIT_FSIZE).
MAX_FILE_BYTES = 16 * 1024 * 1024
# Open file descriptors the child may hold (RLIMIT_NOFILE); imports need a few dozen.
MAX_OPEN_FILES = 256
# Extra tasks (threads) the child's user may start when RLIMIT_NPROC is enforced.
EXTRA_TASKS = 32
# Largest code or tests accepted (characters); real answers are a few KB.
MAX_SOURCE_CHARS = 1_000_000
# Time allowed to the probes that decide which optional layers work here.
PROBE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class SandboxResult:
    """Outcome of one sandboxed test run.

    ``status`` is one of "passed", "failed" (a test assertion failed), "error" (the
    code or a test raised something else, or the code does not compile), "blocked" (a
    refused operation was attempted), "timeout", "crashed" (killed by a signal or a
    resource limit) or "no-verdict" (the process ended without reaching the end).
    ``reason`` is one human-readable line; ``stdout_tail`` the end of the combined
    output; ``duration`` wall-clock seconds.
    """

    passed: bool
    reason: str
    stdout_tail: str
    duration: float
    status: str = ""


# The trusted bootstrap (a real module, run by path; see its docstring).
_CHILD = str(Path(__file__).resolve().with_name("sandbox_child.py"))


def _probe_ok(prefix: list[str], drop_to: tuple[int, int] | None) -> bool:
    # Imports from the stdlib and lib-dynload that the bootstrap has not loaded: after a
    # privilege drop they fail if the interpreter's files are not readable by the user.
    result = _run(
        "import decimal, socket, textwrap, email.message\n\ndef f():\n    return 1\n",
        "assert f() == 1\n", timeout_s=PROBE_TIMEOUT_S, memory_mb=512, prefix=prefix,
        drop_to=drop_to,
    )
    return result.passed


def _unshare_prefix() -> list[str]:
    unshare = shutil.which("unshare")
    if unshare is None:
        return []
    base = [unshare, "--net", "--pid", "--fork", "--kill-child"]
    if os.geteuid() != 0:
        base[1:1] = ["--user", "--map-root-user"]
    return base + ["--"]


def _nobody() -> tuple[int, int] | None:
    try:
        import pwd

        entry = pwd.getpwnam("nobody")
        return entry.pw_uid, entry.pw_gid
    except (ImportError, KeyError):
        return None


_capabilities_lock = threading.Lock()


def sandbox_capabilities() -> dict[str, object]:
    """Which optional layers work on this machine (probed once per process).

    Returns ``{"namespaces": bool, "drop_privileges": bool, "prefix": [...],
    "drop_to": (uid, gid) | None}``. Set ``ARENA_SANDBOX_NO_PROBE=1`` to skip the
    probes and use only the always-on layers. Thread-safe: sandbox threads that ask at
    the same time wait for one probe instead of each starting its own interpreters.
    """
    with _capabilities_lock:
        return _probe_capabilities()


@functools.lru_cache(maxsize=1)
def _probe_capabilities() -> dict[str, object]:
    prefix: list[str] = []
    drop_to = None
    if os.environ.get("ARENA_SANDBOX_NO_PROBE") != "1":
        candidate = _unshare_prefix()
        if candidate and _probe_ok(candidate, None):
            prefix = candidate
        nobody = _nobody()
        if os.geteuid() == 0 and nobody is not None and _probe_ok(prefix, nobody):
            drop_to = nobody
    return {"namespaces": bool(prefix), "drop_privileges": drop_to is not None,
            "prefix": prefix, "drop_to": drop_to}


def run_python_tests(code: str, tests: str, timeout_s: float = 5,
                     memory_mb: int = 512) -> SandboxResult:
    """Run ``code`` and then the assert-style ``tests`` in the sandbox.

    ``tests`` is Python run after the code, with the code's top-level names in scope;
    top-level asserts run in order, then every callable whose name starts with "test"
    that the tests define is called. Passing means no exception and no refused
    operation. ``timeout_s`` bounds the wall-clock time of the whole run (interpreter
    start included); ``memory_mb`` the address space. Never raises for anything the
    code does.
    """
    if not isinstance(code, str) or not isinstance(tests, str):
        raise TypeError("code and tests must be strings")
    if len(code) > MAX_SOURCE_CHARS or len(tests) > MAX_SOURCE_CHARS:
        return SandboxResult(False, f"source larger than {MAX_SOURCE_CHARS} characters",
                             "", 0.0, "error")
    capabilities = sandbox_capabilities()
    return _run(code, tests, timeout_s=timeout_s, memory_mb=memory_mb,
                prefix=list(capabilities["prefix"]), drop_to=capabilities["drop_to"])


def _scrubbed_env(root: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": root, "TMPDIR": root, "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8"}


def _read_tail(path: str) -> str:
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - STDOUT_TAIL_CHARS * 4))
        data = handle.read()
    return data.decode("utf-8", "replace")[-STDOUT_TAIL_CHARS:]


def _read_available(fd: int) -> str:
    os.set_blocking(fd, False)
    chunks = []
    with contextlib.suppress(BlockingIOError, OSError):
        while len(chunks) < 64:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()


def _run(code: str, tests: str, *, timeout_s: float, memory_mb: int, prefix: list[str],
         drop_to: tuple[int, int] | None) -> SandboxResult:
    start = time.monotonic()
    nonce = secrets.token_hex(16)
    work = tempfile.mkdtemp(prefix="arena-sandbox-")
    read_fd, write_fd = os.pipe()
    try:
        root = os.path.join(work, "root")
        os.mkdir(root, 0o700)
        if drop_to is not None:
            os.chmod(work, 0o711)
            os.chown(root, *drop_to)
        output_path = os.path.join(work, "output")
        job = {
            "nonce": nonce, "result_fd": write_fd, "root": root, "code": code,
            "tests": tests, "drop_to": drop_to,
            "limits": {"memory_bytes": int(memory_mb) * 1024 * 1024,
                       "cpu_s": max(1, math.ceil(timeout_s)) + 1,
                       "file_bytes": MAX_FILE_BYTES, "files": MAX_OPEN_FILES,
                       "extra_tasks": EXTRA_TASKS},
        }
        command = [*prefix, sys.executable, "-I", "-S", "-B", _CHILD]
        timed_out = False
        with open(output_path, "wb") as output:
            proc = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=output, stderr=subprocess.STDOUT,
                cwd=root, env=_scrubbed_env(root), pass_fds=(write_fd,),
                start_new_session=True, close_fds=True,
            )
            os.close(write_fd)
            write_fd = -1
            try:
                proc.communicate(json.dumps(job).encode("utf-8"), timeout=timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
                _kill_group(proc)
                proc.wait()
            except BaseException:
                _kill_group(proc)
                proc.wait()
                raise
        duration = time.monotonic() - start
        report = _read_available(read_fd)
        tail = _read_tail(output_path)
        return _verdict(report, nonce, proc.returncode, timed_out, timeout_s, tail, duration)
    finally:
        os.close(read_fd)
        if write_fd >= 0:
            os.close(write_fd)
        shutil.rmtree(work, ignore_errors=True)


def _verdict(report: str, nonce: str, returncode: int | None, timed_out: bool,
             timeout_s: float, tail: str, duration: float) -> SandboxResult:
    passed_line = f"PASS {nonce}"
    passed = False
    blocked: list[str] = []
    outcomes: list[tuple[str, str]] = []
    for line in report.splitlines():
        if line == passed_line:
            passed = True
            continue
        status, _, detail = line.partition("\t")
        if status == "BLOCKED":
            blocked.append(detail[:500])
        elif status in ("FAILED", "ERROR"):
            outcomes.append((status.lower(), detail[:500]))

    def result(ok: bool, reason: str, status: str) -> SandboxResult:
        return SandboxResult(ok, reason, tail, duration, status)

    if blocked:
        return result(False, f"blocked: {blocked[0]}", "blocked")
    if timed_out:
        return result(False, f"timeout after {timeout_s:g} s", "timeout")
    if passed and returncode == 0:
        return result(True, "all tests passed", "passed")
    if outcomes:
        status, detail = outcomes[0]
        return result(False, detail, status)
    if returncode is not None and returncode < 0:
        name = _signal_name(-returncode)
        cause = {"SIGXCPU": "CPU time limit exceeded", "SIGKILL": "killed (memory or limit)",
                 "SIGSEGV": "crashed (segmentation fault)"}.get(name, f"killed by {name}")
        return result(False, cause, "crashed")
    return result(False, f"ended without a verdict (exit code {returncode})", "no-verdict")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
