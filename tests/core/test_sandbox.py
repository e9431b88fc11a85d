"""core.tournament.sandbox: harmful or cheating code fails within the limits, and the run survives.

Most cases run twice: with every layer this machine supports (namespaces when
``unshare`` works) and with the always-on layers only (rlimits, process group, audit
hook), so the audit hook is shown to hold on its own.
"""

from __future__ import annotations

import os
import socket
import textwrap
import uuid

import pytest

from core.tournament import sandbox
from core.tournament.sandbox import SandboxResult, run_python_tests, sandbox_capabilities

ADD = "def add(a, b):\n    return a + b\n"
ADD_TESTS = "assert add(2, 3) == 5\nassert add(-1, 1) == 0\n"


@pytest.fixture(params=["full", "hook-only"])
def mode(request, monkeypatch) -> str:
    """Run the test with all available layers, then with rlimits + audit hook only."""
    if request.param == "hook-only":
        monkeypatch.setattr(sandbox, "sandbox_capabilities", lambda: {
            "namespaces": False, "drop_privileges": False, "prefix": [], "drop_to": None})
    return request.param


def run(code: str, tests: str = "pass\n", **kwargs) -> SandboxResult:
    return run_python_tests(textwrap.dedent(code), textwrap.dedent(tests), **kwargs)


def assert_fails(result: SandboxResult, status: str, words: str = "") -> None:
    assert not result.passed, result
    assert result.status == status, result
    assert words in result.reason, result


def test_correct_solution_passes(mode: str) -> None:
    result = run(ADD, ADD_TESTS)
    assert result.passed and result.status == "passed", result
    assert result.duration < 5


def test_wrong_solution_fails_with_the_failing_line(mode: str) -> None:
    result = run("def add(a, b):\n    return a - b\n", ADD_TESTS)
    assert_fails(result, "failed", "assert add(2, 3) == 5")


def test_infinite_loop_times_out(mode: str) -> None:
    """A busy loop is killed at the wall-clock limit, and the next run is fine."""
    result = run("while True:\n    pass\n", timeout_s=1)
    assert_fails(result, "timeout")
    assert result.duration < 3
    assert run(ADD, ADD_TESTS).passed


def test_sleeping_code_times_out(mode: str) -> None:
    result = run("import time\ntime.sleep(30)\n", timeout_s=1)
    assert_fails(result, "timeout")
    assert result.duration < 3


@pytest.mark.parametrize("bomb", [
    "import os\nwhile True:\n    os.fork()\n",
    "import os\nwhile True:\n    try:\n        os.fork()\n    except Exception:\n        pass\n",
    "import subprocess\nsubprocess.Popen(['/bin/sh', '-c', ':(){ :|:& };:'])\n",
    "import multiprocessing\nwhile True:\n    multiprocessing.Process(target=print).start()\n",
    "import os\nos.system(':(){ :|:& };:')\n",
    "import os\nos.posix_spawn('/bin/sh', ['sh'], {})\n",
    "import _posixsubprocess\n_posixsubprocess.fork_exec()\n",
])
def test_fork_bomb_is_stopped(mode: str, bomb: str) -> None:
    """No process can be started; catching the refusal does not help."""
    result = run(bomb, timeout_s=3)
    assert not result.passed, result
    assert result.status in ("blocked", "error"), result
    assert result.duration < 3
    assert run(ADD, ADD_TESTS).passed


def test_one_gigabyte_allocation_fails(mode: str) -> None:
    result = run("data = bytearray(1024 ** 3)\n", memory_mb=256)
    assert_fails(result, "error", "memory limit")


def test_memory_growth_fails(mode: str) -> None:
    result = run("chunks = []\nwhile True:\n    chunks.append(bytearray(10 ** 7))\n",
                 memory_mb=256, timeout_s=5)
    assert not result.passed
    assert result.status in ("error", "crashed"), result


def closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


@pytest.mark.parametrize("host", ["127.0.0.1", "203.0.113.1"])
def test_network_connect_is_blocked_before_it_leaves(mode: str, host: str) -> None:
    """Refused at socket creation: no packet, no connect timeout."""
    port = closed_port() if host == "127.0.0.1" else 80
    result = run(f"""
        import socket
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(3)
        s.connect(({host!r}, {port}))
    """, timeout_s=5)
    assert_fails(result, "blocked", "network socket")
    assert result.duration < 2


def test_no_connection_reaches_a_local_listener(mode: str) -> None:
    """Even a reachable local service sees nothing, however the code tries."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    port = listener.getsockname()[1]
    try:
        for attempt in (
            f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\n",
            f"import urllib.request\nurllib.request.urlopen('http://127.0.0.1:{port}/', timeout=2)\n",
            f"import socket\ns = socket.socket(socket.AF_INET6)\ns.connect(('::1', {port}))\n",
        ):
            result = run(attempt, timeout_s=5)
            assert result.status == "blocked", result
        listener.settimeout(0.3)
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()


def test_dns_lookup_is_blocked(mode: str) -> None:
    result = run("import socket\nsocket.getaddrinfo('example.com', 443)\n")
    assert_fails(result, "blocked", "getaddrinfo")


@pytest.mark.parametrize("template", [
    "open({path!r}, 'w').write('escaped')\n",
    "import os\nfd = os.open({path!r}, os.O_WRONLY | os.O_CREAT)\nos.write(fd, b'x')\n",
    "import pathlib\npathlib.Path({path!r}).write_text('escaped')\n",
    "import os\nos.symlink({folder!r}, 'link')\nopen('link/' + {name!r}, 'w').write('x')\n",
    "import os\nos.chdir('..')\nopen({name!r}, 'w').write('x')\n",
    "import shutil\nopen('inside', 'w').write('x')\nshutil.copy('inside', {path!r})\n",
    "import os\nopen('inside', 'w').write('x')\nos.rename('inside', {path!r})\n",
])
def test_writing_outside_the_temp_dir_is_blocked(mode: str, tmp_path, template: str) -> None:
    name = f"escape-{uuid.uuid4().hex}.txt"
    path = str(tmp_path / name)
    result = run(template.format(path=path, folder=str(tmp_path), name=name))
    assert not result.passed, result
    assert result.status in ("blocked", "error"), result
    assert not os.path.exists(path)
    assert not (tmp_path / "link").exists()


def test_deleting_outside_the_temp_dir_is_blocked(mode: str, tmp_path) -> None:
    victim = tmp_path / "keep.txt"
    victim.write_text("precious")
    for code in (f"import os\nos.remove({str(victim)!r})\n",
                 f"import shutil\nshutil.rmtree({str(tmp_path)!r})\n",
                 f"import os\nos.chmod({str(victim)!r}, 0o777)\n"):
        result = run(code)
        assert result.status == "blocked", result
    assert victim.read_text() == "precious"


def test_reading_private_files_is_blocked(mode: str) -> None:
    result = run("print(open('/etc/passwd').read())\n")
    assert_fails(result, "blocked", "reading /etc/passwd")
    assert "root:" not in result.stdout_tail


def test_files_inside_the_temp_dir_work(mode: str) -> None:
    """Scratch files, temp dirs and pathlib reads/writes in the sandbox dir are fine."""
    result = run("""
        import os, pathlib, shutil, tempfile
        def roundtrip(text):
            folder = tempfile.mkdtemp()
            target = pathlib.Path(folder) / "note.txt"
            target.write_text(text)
            os.rename(str(target), os.path.join(folder, "moved.txt"))
            data = open(os.path.join(folder, "moved.txt")).read()
            shutil.rmtree(folder)
            return data
    """, "assert roundtrip('hello') == 'hello'\n")
    assert result.passed, result


def test_common_stdlib_modules_work(mode: str) -> None:
    result = run("""
        import asyncio, collections, dataclasses, datetime, decimal, enum, hashlib, heapq
        import ipaddress, itertools, json, logging, math, re, statistics, typing
        Point = collections.namedtuple("Point", "x y")
        async def double(x):
            await asyncio.sleep(0)
            return 2 * x
        def run_double(x):
            return asyncio.run(double(x))
    """, "assert run_double(21) == 42\nassert Point(1, 2).x == 1\n")
    assert result.passed, result


def test_threads_work(mode: str) -> None:
    result = run("""
        import threading
        def count(n):
            total = []
            workers = [threading.Thread(target=total.append, args=(i,)) for i in range(n)]
            for w in workers: w.start()
            for w in workers: w.join()
            return len(total)
    """, "assert count(8) == 8\n")
    assert result.passed, result


@pytest.mark.parametrize("code", [
    "import sys\nsys.exit(0)\n",
    "import os\nos._exit(0)\n",
    "import os\nprint('PASS 0123')\nos._exit(0)\n",
    "import builtins\nbuiltins.exec = lambda *a, **k: None\n",
    "import atexit, os\natexit.register(lambda: os._exit(0))\nraise SystemExit(0)\n",
])
def test_ending_early_is_not_a_pass(mode: str, code: str) -> None:
    """Only reaching the end of the tests passes; exit codes and printed markers do not."""
    result = run(code, "assert False, 'tests must run'\n")
    assert not result.passed, result


def test_look_alike_results_do_not_pass(mode: str) -> None:
    """An object whose __eq__ always says yes, or shadowed builtins, fool no test."""
    always_equal = """
        class Anything:
            def __eq__(self, other):
                return True
            def __ne__(self, other):
                return False
        def add(a, b):
            return Anything()
    """
    assert_fails(run(always_equal, ADD_TESTS), "failed")
    subclass = "class Int(int):\n    def __eq__(self, other):\n        return True\n" \
               "def add(a, b):\n    return Int(0)\n"
    assert_fails(run(subclass, ADD_TESTS), "failed")
    shadow = "len = lambda x: 3\nsorted = lambda x: [1, 2, 3]\ndef f():\n    return [9]\n"
    assert_fails(run(shadow, "assert len(f()) == 3\n"), "failed")
    assert_fails(run(shadow, "assert sorted(f()) == [1, 2, 3]\n"), "failed")


def test_strict_equality_keeps_ordinary_semantics(mode: str) -> None:
    result = run("""
        def f():
            return {"a": [1, 2.0, (3, "x")], "b": {1, 2}, "c": None, "d": True}
        class P:
            def __init__(self, x):
                self.x = x
            def __eq__(self, other):
                return isinstance(other, P) and other.x == self.x
    """, """
        assert f() == {"a": [1, 2, (3, "x")], "b": {2, 1}, "c": None, "d": 1}
        assert f() != {"a": []}
        assert P(1) == P(1)
        assert 2 == 2.0
    """)
    assert result.passed, result


def test_test_functions_are_called(mode: str) -> None:
    tests = "def test_one():\n    assert add(1, 1) == 2\n\ndef test_two():\n    assert add(1, 1) == 3\n"
    assert_fails(run(ADD, tests), "failed", "add(1, 1) == 3")


def test_syntax_error_and_exceptions_are_errors(mode: str) -> None:
    assert_fails(run("def broken(:\n"), "error", "does not compile")
    assert_fails(run("raise ValueError('boom')\n"), "error", "ValueError: boom")
    assert_fails(run("def f():\n    return f()\n", "f()\n"), "error", "RecursionError")


def test_output_is_capped(mode: str) -> None:
    result = run("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n", timeout_s=5)
    assert not result.passed
    assert len(result.stdout_tail) <= sandbox.STDOUT_TAIL_CHARS
    assert result.duration < 5


def test_printed_output_is_returned(mode: str) -> None:
    result = run("print('hello from the sandbox')\n")
    assert result.passed and "hello from the sandbox" in result.stdout_tail


def test_environment_is_scrubbed(mode: str, monkeypatch) -> None:
    monkeypatch.setenv("ARENA_SECRET_TOKEN", "do-not-leak")
    result = run("import os\nvalue = os.environ.get('ARENA_SECRET_TOKEN')\n",
                 "assert value is None\n")
    assert result.passed, result


def test_interpreter_internals_are_refused(mode: str) -> None:
    for code in ("import ctypes\n", "import gc\ngc.get_objects()\n",
                 "import sys\nsys.settrace(lambda *a: None)\n",
                 "import resource\nresource.setrlimit(resource.RLIMIT_AS, (-1, -1))\n",
                 "def f():\n    pass\nf.__code__ = (lambda: 1).__code__\n",
                 "import marshal\nmarshal.loads(b'')\n"):
        assert run(code).status == "blocked", code


def test_bad_arguments() -> None:
    with pytest.raises(TypeError):
        run_python_tests(None, "pass")  # type: ignore[arg-type]
    huge = "x = 1\n" * (sandbox.MAX_SOURCE_CHARS // 5)
    assert run_python_tests(huge, "pass").status == "error"


def test_capabilities_report() -> None:
    capabilities = sandbox_capabilities()
    assert set(capabilities) >= {"namespaces", "drop_privileges", "prefix", "drop_to"}
