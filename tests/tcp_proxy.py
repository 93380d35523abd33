"""A TCP (optionally TLS) to Unix-socket relay, run as its own process by the conformance tests
of the tcp and TLS connectors: ``python tcp_proxy.py UNIX_PATH [CERT KEY CA]``.

It prints the port it listens on (127.0.0.1, a free one), then relays each connection to a new
connection on ``UNIX_PATH`` byte for byte. The client's end of stream half-closes the engine
side; the engine's end closes the client side (a half-close over plain TCP; TLS has none, so
the connection is closed once the client has sent its end too, or at once). With
``CERT KEY CA`` it is a TLS server requiring a client certificate signed by ``CA``.
It runs until killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import sys


async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
        else:
            writer.close()
    except (OSError, ssl.SSLError, ConnectionError):
        writer.transport.abort()


async def relay(
    path: str, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
) -> None:
    sock = client_writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        engine_reader, engine_writer = await asyncio.open_unix_connection(path)
    except OSError:
        client_writer.transport.abort()
        return
    await asyncio.gather(
        pump(client_reader, engine_writer),
        pump(engine_reader, client_writer),
        return_exceptions=True,
    )
    for writer in (engine_writer, client_writer):
        writer.close()


async def main() -> None:
    path = sys.argv[1]
    context = None
    if len(sys.argv) == 5:
        cert, key, ca = sys.argv[2:5]
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        context.load_verify_locations(ca)
        context.verify_mode = ssl.CERT_REQUIRED
    server = await asyncio.start_server(lambda r, w: relay(path, r, w), "127.0.0.1", 0, ssl=context)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
