"""Starts two long-lived grandchildren at the handshake, then answers normally.

Usage: spawner_bot.py MARKER. Both grandchildren run `sleep 1000` with MARKER-group or
MARKER-session as their argv[0], so a test can find them (and the bot) with `pgrep -f`: one plain child (same process group, inherits stdin/stdout, as
`subprocess.Popen` does by default), one daemon (double fork + setsid: a new session,
reparented away from the bot). With SPAWN_CRASH=1 the bot exits with code 1 on its
first turn request.
"""

import os
import shutil
import subprocess
import sys

from _proto import answer, send, serve

MARKER = sys.argv[1]
SLEEP = shutil.which("sleep")


def spawn() -> None:
    subprocess.Popen([f"{MARKER}-group", "1000"], executable=SLEEP)
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(SLEEP, [f"{MARKER}-session", "1000"])
        os._exit(0)
    os.waitpid(pid, 0)


def on_turn(message: dict, n: int) -> None:
    if os.environ.get("SPAWN_CRASH") == "1":
        os._exit(1)
    send({"type": "reply", "id": message["id"], "content": answer(message)})


spawn()
serve(on_turn)
