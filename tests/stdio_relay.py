"""What ``docker system dial-stdio`` does, for the conformance tests of the ssh transports
without ssh: ``python stdio_relay.py UNIX_PATH`` relays its stdin to a new connection on
``UNIX_PATH`` and that connection to its stdout. The end of stdin half-closes the engine side;
the engine's end ends the process (as dial-stdio returns without waiting for stdin). A socket
it cannot open is said on stderr, exit status 1.
"""

from __future__ import annotations

import os
import socket
import sys
import threading


def _up(sock: socket.socket) -> None:
    try:
        while data := os.read(0, 65536):
            sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def main(path: str) -> int:
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.connect(path)
    except OSError as exc:
        print(f"cannot connect to {path}: {exc}", file=sys.stderr)
        return 1
    threading.Thread(target=_up, args=(sock,), daemon=True).start()
    out = sys.stdout.buffer
    try:
        while data := sock.recv(65536):
            out.write(data)
            out.flush()
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
