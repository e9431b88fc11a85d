"""A hostile team bot: on its first turn it tries one attack on the organizer's machine.

Usage: hostile_bot.py MODE; SPY_TARGET (its env) names what it goes after. Spies answer
"LEAK: ..." when the attack worked and "blocked: ..." (with what stopped them) when it
did not, so the transcript records the outcome; `forkbomb`, `bigfile` and `manyfiles`
never answer: they fill the machine until a limit stops them.

- environ:   read every /proc/<pid>/environ and cmdline it can see, looking for the
             organizer's OPENAI_API_KEY and the arena's command line (the store's path)
- store:     read the store file at SPY_TARGET and insert a row into it
- logs:      list the log folder at SPY_TARGET and read another bot's log
- home:      write a file into the organizer's home at SPY_TARGET
- connect:   connect to host:port SPY_TARGET, send "ping", answer what came back
- forkbomb:  fork until no more processes can be made, and keep trying
- bigfile:   write 10 GB into one file in its temp folder
- manyfiles: write 10 GB as many 4 MB files in its temp folder
"""

import os
import socket
import sqlite3
import sys
import time

from _proto import send, serve

MODE = sys.argv[1]
TARGET = os.environ.get("SPY_TARGET", "")
GB = 1 << 30


def why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def environ() -> str:
    seen, leaks = [], []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        seen.append(name)
        for part in ("environ", "cmdline"):
            try:
                with open(f"/proc/{name}/{part}", "rb") as handle:
                    data = handle.read()
            except OSError:
                continue
            if b"OPENAI_API_KEY" in data or b"--db" in data or b"arena_tui" in data:
                leaks.append(f"{name}/{part}: {data[:200]!r}")
    if leaks:
        return "LEAK: " + "; ".join(leaks)
    return f"blocked: saw processes {sorted(seen, key=int)}; no organizer environment or arena command line"


def store() -> str:
    try:
        with open(TARGET, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        return f"blocked: cannot read the store: {why(exc)}"
    found = f"read {len(data)} bytes"
    try:
        conn = sqlite3.connect(TARGET)
        conn.execute("INSERT INTO tournaments (name) VALUES ('pwned')")
        conn.commit()
    except sqlite3.Error as exc:
        return f"blocked: {found}, cannot write: {why(exc)}"
    if not data:
        return f"blocked: {found} (an empty file), and a write went nowhere"
    return f"LEAK: {found} and inserted a row"


def logs() -> str:
    try:
        names = sorted(os.listdir(TARGET))
    except OSError as exc:
        return f"blocked: cannot list the logs: {why(exc)}"
    others = [n for n in names if n != os.environ["ARENA_BOT_NAME"] + ".log"]
    if not others:
        return f"blocked: no other bot's log in {names}"
    with open(os.path.join(TARGET, others[0]), "rb") as handle:
        return f"LEAK: {others[0]}: {handle.read(200)!r}"


def home() -> str:
    try:
        with open(os.path.join(TARGET, "planted.txt"), "w") as handle:
            handle.write("a team bot was here\n")
    except OSError as exc:
        return f"blocked: cannot write to the organizer's home: {why(exc)}"
    return "LEAK: wrote planted.txt"


def connect() -> str:
    host, _, port = TARGET.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(b"ping\n")
            data = sock.recv(200)
    except OSError as exc:
        return f"blocked: cannot connect to {TARGET}: {why(exc)}"
    return f"connected: {data.decode(errors='replace').strip()}"


def forkbomb() -> None:
    while True:  # every process, parent and children, forks again: the classic bomb
        try:
            os.fork()
        except OSError:
            time.sleep(0.01)


def bigfile() -> None:
    chunk = b"\0" * (1 << 20)
    with open(os.path.join(os.environ.get("TMPDIR", "/tmp"), "big"), "wb") as handle:
        for _ in range(10 * GB // len(chunk)):
            handle.write(chunk)


def manyfiles() -> None:
    chunk = b"\0" * (4 << 20)
    for i in range(10 * GB // len(chunk)):
        with open(os.path.join(os.environ.get("TMPDIR", "/tmp"), f"part-{i}"), "wb") as handle:
            handle.write(chunk)


ATTACKS = {"environ": environ, "store": store, "logs": logs, "home": home, "connect": connect}
FLOODS = {"forkbomb": forkbomb, "bigfile": bigfile, "manyfiles": manyfiles}


def on_turn(message: dict, n: int) -> None:
    if MODE in FLOODS:
        FLOODS[MODE]()  # raises or never returns
    send({"type": "reply", "id": message["id"], "content": ATTACKS[MODE]()})


serve(on_turn)
