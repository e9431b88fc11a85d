"""The allow-listed way out of a sandboxed bot's network namespace: two relays.

A sandboxed bot (core.tournament.isolation) has a network namespace of its own, with
nothing in it but a loopback interface: it can reach no other machine and no service of
the organizer's. For each model server on its allow-list (``network = ["host:port"]``),
two relays carry the bytes:

- **outside** (`serve_outside`, run by the bot's keeper, core.tournament.botkeeper, in
  the arena's network namespace): listens on a Unix socket in a folder of its own and
  connects every accepted connection to that one allowed ``host:port``; nothing the bot
  sends can choose another destination;
- **inside** (``python -I -S netrelay.py PORT=SOCKET... -- COMMAND...``, the first
  program in the sandbox): listens on ``127.0.0.1:PORT`` in the bot's namespace, carries
  each connection to the Unix socket (the folder is bound into the sandbox, read-only),
  then starts the bot and exits with its status (``128 + signal`` when a signal killed it).

So inside the sandbox a bot reaches its allowed server at ``127.0.0.1:PORT``, the same
port as outside, and nothing else. The inside relay runs as the bot's user: a bot that
stops or replaces it can only lose its own way out, since the destination is decided
outside. Stdlib only, and no import of ``core``: it runs isolated (``-I -S``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading

CHUNK = 65536
# Time allowed to connect to the allowed server.
CONNECT_TIMEOUT_S = 10.0


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy bytes one way until either side closes; then half-close the other."""
    try:
        while True:
            data = source.recv(CHUNK)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def _splice(a: socket.socket, b: socket.socket) -> None:
    """Carry a connection both ways; close both sockets when both directions are done."""

    def run() -> None:
        back = threading.Thread(target=_pump, args=(b, a), daemon=True)
        back.start()
        _pump(a, b)
        back.join()
        a.close()
        b.close()

    threading.Thread(target=run, daemon=True).start()


def _accept_loop(listener: socket.socket, connect) -> None:  # noqa: ANN001 - a callable giving a socket
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        try:
            upstream = connect()
        except OSError as exc:
            os.write(2, f"[arena relay] cannot reach the allowed server: {exc}\n".encode(errors="replace"))
            conn.close()
            continue
        _splice(conn, upstream)


def serve_outside(path: str, host: str, port: int) -> socket.socket:
    """Listen on the Unix socket `path`; relay each connection to ``host:port`` (threads)."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o666)  # the bot runs as a user of its own
    listener.listen(64)
    threading.Thread(
        target=_accept_loop,
        args=(listener, lambda: socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S)),
        daemon=True,
    ).start()
    return listener


def _connect_unix(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        raise
    return sock


def serve_inside(port: int, path: str) -> None:
    """Listen on ``127.0.0.1:port`` (the bot's namespace); relay to the Unix socket."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    threading.Thread(target=_accept_loop, args=(listener, lambda: _connect_unix(path)), daemon=True).start()


def main(argv: list[str]) -> None:
    split = argv.index("--")
    for pair in argv[1:split]:
        port, _, path = pair.partition("=")
        serve_inside(int(port), path)
    command = argv[split + 1 :]
    pid = os.fork()
    if pid == 0:
        for sig in (signal.SIGPIPE, signal.SIGXFSZ):
            signal.signal(sig, signal.SIG_DFL)
        try:
            os.execvp(command[0], command)
        except OSError as exc:
            os.write(2, f"arena: cannot start {command[0]}: {exc}\n".encode(errors="replace"))
        os._exit(127)
    # The bot holds stdin and stdout: the arena must see them close when the bot ends.
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        os._exit(128 + os.WTERMSIG(status))
    os._exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main(sys.argv)
