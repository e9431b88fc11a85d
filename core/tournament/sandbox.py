"""Run untrusted Python (a bot's answer) against unit tests in a contained child process.

``run_python_tests(code, tests)`` executes ``code`` and then the assert-style ``tests``
in a fresh interpreter and reports whether every test passed. It is used by the defender
utility sets (core.scoring.utility), where the code comes from a bot's reply.

Containment, in layers (each one works on its own; all of them are on by default):

1. **Process**: ``sys.executable -I -S -B`` (isolated: no environment variables, user
   site, site-packages or script directory; stdlib only), a scrubbed environment, stdin
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


# The trusted bootstrap, run as ``python -I -S -B -c <this>``. It reads the job from
# stdin, applies the limits, installs the audit hook, runs the code and the tests, and
# reports on the result fd. Kept stdlib-only and self-contained.
_BOOTSTRAP = r'''
import ast, builtins, os, resource, stat, sys, _thread


def _arena_make_hook(nonce, result_fd, root, read_roots, main_code, module_globals, main_id,
                     _type=type, _str=str, _bytes=bytes, _int=int, _len=len, _tuple=tuple,
                     _frozenset=frozenset, _OSError=OSError, _PermissionError=PermissionError,
                     _BaseException=BaseException, _ValueError=ValueError):
    # Everything the hook uses is bound here, before untrusted code runs: it never looks
    # up a module attribute or builtin at call time, and never calls code that the
    # sandboxed program could have replaced (no __fspath__, no __eq__ of subclasses).
    _write, _lstat, _stat_fn, _readlink = os.write, os.lstat, os.stat, os.readlink
    _getcwd, _getpid, _getframe, _get_ident = os.getcwd, os.getpid, sys._getframe, _thread.get_ident
    _is_link, _is_dir = stat.S_ISLNK, stat.S_ISDIR
    _is_blk, _is_chr = stat.S_ISBLK, stat.S_ISCHR
    _exit = os._exit
    flushes = (sys.stdout.flush, sys.stderr.flush)
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    devices_ok = _frozenset(("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"))
    state = [None]  # first violation
    denied_modules = _frozenset((
        "ctypes", "_ctypes", "cffi", "_cffi_backend", "_posixsubprocess",
        "_xxsubinterpreters", "_xxinterpchannels", "_testcapi", "_testinternalcapi",
        "_testbuffer", "_testmultiphase", "_testimportmultiple", "_testsinglephase",
        "_ctypes_test", "_xxtestfuzz", "_tkinter", "readline",
    ))
    denied_events = _frozenset((
        "os.fork", "os.forkpty", "os.exec", "os.spawn", "os.posix_spawn", "os.system",
        "os.startfile", "os.killpg", "subprocess.Popen", "pty.spawn",
        "socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg",
        "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
        "socket.getnameinfo", "socket.sethostname",
        "resource.setrlimit", "resource.prlimit", "sys.settrace", "sys.setprofile",
        "sys._current_frames", "gc.get_objects", "gc.get_referrers", "gc.get_referents",
        "ctypes.dlopen", "ctypes.dlsym", "ctypes.cdata",
        "ctypes.call_function", "ctypes.addressof", "ctypes.string_at",
        "ctypes.wstring_at", "ctypes.PyObj_FromPtr",
    ))
    # Events whose listed arguments are paths that must stay inside the temp directory,
    # each paired with the index of its dir_fd argument (or None).
    path_events = {
        "os.remove": ((0, 1),), "os.rmdir": ((0, 1),), "os.mkdir": ((0, 2),),
        "os.rename": ((0, 2), (1, 3)), "os.link": ((0, 2), (1, 3)),
        "os.symlink": ((1, 2),), "os.chmod": ((0, 2),), "os.chown": ((0, 3),),
        "os.utime": ((0, 3),), "os.truncate": ((0, None),), "os.setxattr": ((0, None),),
        "os.removexattr": ((0, None),), "shutil.rmtree": ((0, 1),),
    }
    root_prefix = root.rstrip("/") + "/"
    stdlib_prefix = os.path.dirname(os.__file__).rstrip("/") + "/"
    read_prefixes = _tuple(r.rstrip("/") + "/" for r in read_roots)

    def emit(line):
        try:
            _write(result_fd, (line.replace("\n", " ") + "\n").encode("utf-8", "backslashreplace"))
        except _OSError:
            pass

    def deny(what):
        # A refused operation ends the run at once: it fails anyway, and the program
        # gets no chance to catch the error and keep probing.
        if state[0] is None:
            state[0] = what
            emit("BLOCKED\t" + what)
        for flush in flushes:
            try:
                flush()
            except _BaseException:
                pass
        _exit(3)
        raise _PermissionError("sandbox: " + what + " is not allowed")

    def real(path):
        # posixpath.realpath(strict=False) built from C functions only.
        result = ""
        pending = path.split("/")
        pending.reverse()
        links = 0
        while pending:
            name = pending.pop()
            if name == "" or name == ".":
                continue
            if name == "..":
                result = result[:result.rfind("/")]
                continue
            candidate = result + "/" + name
            try:
                info = _lstat(candidate)
            except (_OSError, _ValueError):
                result = candidate
                continue
            if not _is_link(info.st_mode):
                result = candidate
                continue
            links += 1
            if links > 40:
                deny("resolving a symlink loop")
            target = _readlink(candidate)
            if target.startswith("/"):
                result = ""
            parts = target.split("/")
            parts.reverse()
            pending.extend(parts)
        return result or "/"

    def resolve(path, dir_fd=None):
        kind = _type(path)
        if kind is _bytes:
            path = path.decode("utf-8", "surrogateescape")
        elif kind is not _str:
            deny("a path given as %s (use str paths)" % kind.__name__)
        if not path.startswith("/"):
            if dir_fd is None or (_type(dir_fd) is _int and dir_fd < 0):
                base = _getcwd()  # -1 is how os.* events say "no dir_fd"
            elif _type(dir_fd) is _int:
                base = _readlink("/proc/self/fd/%d" % dir_fd)
            else:
                deny("a dir_fd of type %s" % _type(dir_fd).__name__)
            path = base + "/" + path
        return real(path)

    def inside_root(path):
        return path == root or path.startswith(root_prefix)

    def readable(path):
        for prefix in read_prefixes:
            if path.startswith(prefix) or path + "/" == prefix:
                return True
        return False

    def check_open(args):
        path = args[0] if _len(args) > 0 else None
        mode = args[1] if _len(args) > 1 else None
        flags = args[2] if _len(args) > 2 else 0
        if _type(path) is _int:
            return  # an already-open file descriptor
        target = resolve(path)
        if _type(mode) is _str:
            writing = "w" in mode or "a" in mode or "x" in mode or "+" in mode
        else:
            writing = _type(flags) is _int and (flags & write_flags) != 0
        try:
            info = _stat_fn(target)
        except (_OSError, _ValueError):
            info = None
        if info is not None and (_is_blk(info.st_mode) or _is_chr(info.st_mode)):
            if target not in devices_ok:
                deny("opening device " + target)
            return
        if inside_root(target):
            if not writing and (target.endswith(".pyc") or target.endswith(".pyo")):
                deny("loading bytecode " + target)
            return
        if writing:
            deny("writing " + target)
        if mode is None and info is not None and _is_dir(info.st_mode):
            deny("opening directory " + target)
        if not readable(target):
            deny("reading " + target)

    def from_stdlib():
        # The Python frame that triggered the event: check -> hook -> caller.
        caller = _getframe(3)
        name = caller.f_code.co_filename if caller is not None else ""
        return name.startswith(stdlib_prefix) or name.startswith("<frozen ")

    def check(event, args):
        if event == "sys._getframe":
            return
        if event == "arena.pass":
            frame = _getframe(2)
            if (state[0] is None and _get_ident() == main_id and frame.f_code is main_code
                    and frame.f_back is not None and frame.f_back.f_globals is module_globals
                    and frame.f_back.f_back is None):
                emit("PASS " + nonce)
            return
        if event in denied_events:
            deny(event)
        if event == "open":
            check_open(args)
        elif event == "import":
            name = args[0] if _len(args) > 0 else None
            if _type(name) is not _str:
                deny("import of a non-str module name")
            if name.split(".")[0] in denied_modules:
                deny("import " + name)
        elif event == "socket.__new__":
            if _len(args) > 1 and args[1] != 1:  # AF_UNIX only (asyncio's socketpair)
                deny("network socket")
        elif event in path_events:
            for index, fd_index in path_events[event]:
                if index < _len(args) and args[index] is not None:
                    dir_fd = args[fd_index] if fd_index is not None and fd_index < _len(args) else None
                    if _type(args[index]) is _int:
                        continue  # a file descriptor
                    target = resolve(args[index], dir_fd)
                    if not inside_root(target):
                        deny(event + " " + target)
        elif event == "os.kill":
            if _type(args[0]) is not _int or args[0] != _getpid():
                deny("signalling another process")
        elif event == "object.__setattr__":
            if _len(args) > 1 and _type(args[1]) is _str and args[1] == "__code__":
                if not from_stdlib():  # types.coroutine sets a flag this way
                    deny("replacing function code")
        elif event == "code.__new__":
            if not from_stdlib():
                deny("building code objects")
        elif event == "marshal.loads" or event == "marshal.load":
            caller = _getframe(2)
            if caller is None or not caller.f_code.co_filename.startswith("<frozen importlib"):
                deny(event)

    def hook(event, args):
        if _type(event) is _str and _type(args) is _tuple:
            check(event, args)

    return hook


def _arena_strict_eq(actual, expected, _type=type, _len=len, _zip=zip, _all=all):
    # Equality for test asserts that a look-alike object cannot fake: both sides must be
    # of exactly the same builtin type (numbers mix freely), compared element-wise.
    numbers = (bool, int, float, complex)
    scalars = (type(None), bool, int, float, complex, str, bytes)
    kind, expected_kind = _type(actual), _type(expected)
    if kind in numbers and expected_kind in numbers:
        return actual == expected
    if kind is not expected_kind:
        return False
    if kind in scalars or kind is range:
        return actual == expected
    if kind is list or kind is tuple:
        return _len(actual) == _len(expected) and _all(
            _arena_strict_eq(a, e) for a, e in _zip(actual, expected))
    if kind is set or kind is frozenset:
        return _len(actual) == _len(expected) and _all(
            _type(a) in scalars or _type(a) is tuple for a in actual) and actual == expected
    if kind is dict:
        if _len(actual) != _len(expected) or not _all(
                _type(k) in scalars or _type(k) is tuple for k in actual):
            return False
        return _all(k in actual and _arena_strict_eq(actual[k], v) for k, v in expected.items())
    return actual == expected  # same non-builtin type: its own equality is the contract


class _ArenaStrictAsserts(ast.NodeTransformer):
    # assert a == b -> assert __arena_eq__(a, b); assert a != b -> assert not __arena_eq__(a, b)

    def visit_Assert(self, node):
        test = node.test
        if (isinstance(test, ast.Compare) and len(test.ops) == 1
                and isinstance(test.ops[0], (ast.Eq, ast.NotEq))):
            call = ast.Call(func=ast.Name(id="__arena_eq__", ctx=ast.Load()),
                            args=[test.left, test.comparators[0]], keywords=[])
            node.test = call if isinstance(test.ops[0], ast.Eq) else ast.UnaryOp(
                op=ast.Not(), operand=call)
            ast.copy_location(node.test, test)
            ast.fix_missing_locations(node)
        return node


def _arena_count_tasks(uid):
    total = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/status" % name) as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
        except OSError:
            continue
        if int(fields.get("Uid", "-1").split()[0]) == uid:
            total += int(fields.get("Threads", "1").strip() or 1)
    return total


def _arena_main():
    import json
    raw = b""
    while True:
        chunk = os.read(0, 1 << 20)
        if not chunk:
            break
        raw += chunk
    os.close(0)
    job = json.loads(raw.decode("utf-8"))
    del raw
    result_fd = job["result_fd"]
    write = os.write

    def say(status, detail):
        line = status + "\t" + detail.replace("\n", " ") + "\n"
        write(result_fd, line.encode("utf-8", "backslashreplace"))

    root = os.path.realpath(job["root"])
    limits = job["limits"]
    for name, value in (("RLIMIT_AS", limits["memory_bytes"]), ("RLIMIT_CPU", limits["cpu_s"]),
                        ("RLIMIT_FSIZE", limits["file_bytes"]), ("RLIMIT_NOFILE", limits["files"]),
                        ("RLIMIT_CORE", 0)):
        resource.setrlimit(getattr(resource, name), (value, value))
    if job["drop_to"] is not None:
        uid, gid = job["drop_to"]
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    if os.geteuid() != 0 and hasattr(resource, "RLIMIT_NPROC"):
        tasks = _arena_count_tasks(os.getuid()) + limits["extra_tasks"]
        resource.setrlimit(resource.RLIMIT_NPROC, (tasks, tasks))
    os.chdir(root)
    sys.dont_write_bytecode = True

    try:
        code_obj = compile(job["code"], "<solution>", "exec")
    except (SyntaxError, ValueError) as error:
        say("ERROR", "the code does not compile: %s: %s" % (type(error).__name__, error))
        os._exit(2)
    tests_src = job["tests"]
    tests_tree = ast.parse(tests_src, "<tests>")
    test_functions = [node.name for node in tests_tree.body
                      if isinstance(node, ast.FunctionDef) and node.name.startswith("test")]
    tests_obj = compile(_ArenaStrictAsserts().visit(tests_tree), "<tests>", "exec")
    tests_lines = tests_src.splitlines()

    # The real _posixsubprocess can fork and exec without an audit event; untrusted code
    # gets a stub instead (subprocess still imports, which asyncio needs).
    stub = type(sys)("_posixsubprocess")

    def fork_exec(*args, **kwargs):
        raise PermissionError("sandbox: starting processes is not allowed")

    stub.fork_exec = fork_exec
    sys.modules["_posixsubprocess"] = stub
    if "subprocess" in sys.modules:
        sys.modules["subprocess"]._posixsubprocess = stub

    read_roots = [root] + sorted({os.path.realpath(p) for p in (
        sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *sys.path)
        if p and os.path.isabs(p)})
    read_roots += ["/etc/localtime", "/usr/share/zoneinfo"]
    pristine = dict(builtins.__dict__)
    # Bound now: the sandboxed code may replace builtins and module attributes.
    audit, exit_now, run, strict_eq = sys.audit, os._exit, exec, _arena_strict_eq
    is_callable, type_of, to_str = callable, type, str
    main_globals = globals()
    hook = _arena_make_hook(job.pop("nonce"), result_fd, root, tuple(read_roots),
                            _arena_main.__code__, main_globals, _thread.get_ident())
    sys.addaudithook(hook)
    del hook, job

    def describe(error, where):
        line = ""
        tb = error.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == "<tests>" and 0 < tb.tb_lineno <= len(tests_lines):
                line = " at tests line %d: %s" % (tb.tb_lineno, tests_lines[tb.tb_lineno - 1].strip())
            tb = tb.tb_next
        try:
            text = to_str(error)[:300]
        except BaseException:
            text = ""
        kind = type_of(error).__name__
        if kind == "MemoryError":
            return "memory limit exceeded (MemoryError) " + where + line
        return ("%s%s %s%s" % (kind, ": " + text if text else "", where, line)).strip()

    solution = {"__name__": "solution", "__builtins__": builtins}
    try:
        run(code_obj, solution)
    except BaseException as error:
        say("ERROR", describe(error, "while running the code"))
        exit_now(1)
    namespace = {k: v for k, v in solution.items()
                 if not k.startswith("__") and k not in pristine}
    namespace.update({"__name__": "__arena_tests__", "__builtins__": pristine,
                      "__arena_eq__": strict_eq})
    try:
        run(tests_obj, namespace)
        for name in test_functions:
            function = namespace.get(name)
            if not is_callable(function):
                raise AssertionError("test function %s disappeared" % name)
            function()
    except AssertionError as error:
        say("FAILED", describe(error, "in the tests"))
        exit_now(1)
    except BaseException as error:
        say("ERROR", describe(error, "in the tests"))
        exit_now(1)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    audit("arena.pass")
    exit_now(0)


_arena_main()
'''


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
        command = [*prefix, sys.executable, "-I", "-S", "-B", "-c", _BOOTSTRAP]
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
