"""The sandbox's child program: the trusted bootstrap `core.tournament.sandbox` runs in
the contained interpreter, as ``python -I -S -B sandbox_child.py`` (by path).

It reads the job from stdin, applies the rlimits, drops privileges, installs the audit
hook, runs the code and the tests, and reports on the result fd (see the containment
layers and the verdict integrity rules in `core.tournament.sandbox`). Run by path, not
with ``-m``: ``-I`` keeps the script's folder off ``sys.path`` and ``-S`` the
site-packages, so this file is stdlib-only and imports nothing of the project; and the
pass report checks that `_arena_main` was called from the module's own top-level frame,
which has no caller only when the interpreter runs the file itself. Importing the module
runs nothing. Everything the hook uses is bound before untrusted code runs.
"""

import _thread
import ast
import builtins
import os
import resource
import stat
import sys


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
            deny(f"a path given as {kind.__name__} (use str paths)")
        if not path.startswith("/"):
            if dir_fd is None or (_type(dir_fd) is _int and dir_fd < 0):
                base = _getcwd()  # -1 is how os.* events say "no dir_fd"
            elif _type(dir_fd) is _int:
                base = _readlink(f"/proc/self/fd/{dir_fd}")
            else:
                deny(f"a dir_fd of type {_type(dir_fd).__name__}")
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
            with open(f"/proc/{name}/status") as handle:
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
        say("ERROR", f"the code does not compile: {type(error).__name__}: {error}")
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
    # This file too: a warning attributed to a frame of it shows the source line.
    read_roots += ["/etc/localtime", "/usr/share/zoneinfo", os.path.realpath(__file__)]
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
                line = f" at tests line {tb.tb_lineno}: {tests_lines[tb.tb_lineno - 1].strip()}"
            tb = tb.tb_next
        try:
            text = to_str(error)[:300]
        except BaseException:
            text = ""
        kind = type_of(error).__name__
        if kind == "MemoryError":
            return "memory limit exceeded (MemoryError) " + where + line
        return f"{kind}{': ' + text if text else ''} {where}{line}".strip()

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
                raise AssertionError(f"test function {name} disappeared")
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


if __name__ == "__main__":
    _arena_main()
