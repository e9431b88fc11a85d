"""Nothing lost: `arena-tui annotate` killed with SIGKILL right after it acknowledged a
label still has the label in the store (the write commits before the screen says saved)."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.evaluation.pipeline import current_labels
from core.store import Store
from tests.tui.test_annotate_tui import REFUSAL, SAFE, build_store

# Upper bound for the app to start and answer in a pty on a slow CI machine: a give-up
# limit, not a timing threshold the test measures.
GIVE_UP_SECONDS = 60
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][A-Za-z0-9]")


def read_until(fd: int, needle: str, seen: list[str]) -> bool:
    """Read the pty until the screen text (escape sequences dropped) contains `needle`."""
    deadline = time.monotonic() + GIVE_UP_SECONDS
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536).decode("utf-8", "replace")
            except OSError:
                return False
            seen.append(ANSI.sub("", chunk))
            if needle in "".join(seen)[-20000:]:
                return True
    return False


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
def test_label_survives_kill_9(tmp_path: Path) -> None:
    """Start the TUI in a pty, press 1, wait for "saved", SIGKILL it: the label is in the store."""
    path = tmp_path / "arena.db"
    _, ids = build_store(path, [SAFE, REFUSAL])
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    process = subprocess.Popen(
        [sys.executable, "-c", "from arena_tui.cli import main; main()", "annotate", str(path), "--annotator", "alice"],
        stdin=slave, stdout=slave, stderr=slave, env=env, cwd=tmp_path, start_new_session=True,
    )
    os.close(slave)
    seen: list[str] = []
    try:
        assert read_until(master, "defense", seen), "the app did not show its label keys"
        seen.clear()
        os.write(master, b"1")
        assert read_until(master, "saved", seen), "the app did not acknowledge the label"
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    with Store.open(path, create=False) as store:
        labels = current_labels(store.label_events())
    assert labels[ids[0]]["alice"].label == "attack"
