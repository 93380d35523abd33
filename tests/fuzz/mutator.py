"""A small mutation fuzzer: seeds, byte-level mutations, a time budget.

Not coverage-guided (atheris is, see ``__main__``); it makes up for it with seeds that are
valid engine answers and mutations that know the formats' tokens (CRLF, chunk sizes, frame
headers, JSON punctuation), so most inputs get deep into the decoders.
"""

from __future__ import annotations

import random
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["SEEDS", "FuzzFailure", "FuzzRun", "fuzz"]

TOKENS: tuple[bytes, ...] = (
    b"\r\n",
    b"\r\n\r\n",
    b"\n",
    b"0\r\n\r\n",
    b"ffffffff\r\n",
    b"HTTP/1.1 200 OK\r\n",
    b"HTTP/1.0 ",
    b"HTTP/1.1 101 UPGRADED\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"Transfer-Encoding: gzip, chunked\r\n",
    b"Content-Length: 5\r\n",
    b"Content-Length: 99999999999999999999\r\n",
    b"Connection: close\r\n",
    b"; ext=1",
    b":",
    b"\x00\x00\x00",
    b"\x01\x00\x00\x00\x00\x00\x00\x05",
    b"\x02\x00\x00\x00\xff\xff\xff\xff",
    b"\x03\x00\x00\x00\x00\x00\x00\x04boom",
    b"2024-01-02T03:04:05.123456789Z ",
    b"2026-11-30T09:33:32Z ",
    b"{",
    b"}",
    b'"',
    b"\\",
    b"\x1e",
    b"\xff\xfe",
    b"\xe2\x82",
)


def _frame(stream: int, data: bytes) -> bytes:
    return struct.pack(">BxxxI", stream, len(data)) + data


def _chunked(*chunks: bytes) -> bytes:
    return b"".join(b"%x\r\n%b\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"


SEEDS: dict[str, Sequence[bytes]] = {
    "http": (
        b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 2\r\n\r\nOK",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + _chunked(b"abc", b"de"),
        b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n\x01\x00\x00\x00",
        b"HTTP/1.0 200 OK\r\n\r\nuntil close",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n",
    ),
    "frames": (
        _frame(1, b"hello\n") + _frame(2, b"oops\n") + _frame(1, b""),
        _frame(1, b"x" * 300) + _frame(3, b"Error grabbing logs"),
        _frame(0, b"stdin") + _frame(2, "é".encode()),
    ),
    "logs": (
        _frame(1, b"2024-01-02T03:04:05.123456789Z hello\n")
        + _frame(2, b"2024-01-02T03:04:06.000000001Z err\n"),
        _frame(1, b"2026-11-30T09:33:32Z abc") + _frame(1, b"2026-11-30T09:33:33Z def\n"),
        b"\x01" + b"2024-01-02T03:04:05Z raw tty line\r\n2024-01-02T03:04:05Z next\n",
    ),
    "json": (
        b'{"status":"Pulling"}\r\n{"status":"Done","progressDetail":{}}\n',
        b'\x1e{"Type":"container","Action":"start"}\n\x1e{"Type":"network"}\n',
        b'{"a":1}{"b":[1,2,{"c":"\\u00e9"}]}\n',
        b'{"errorDetail":{"message":"x"},"error":"x"}\n',
    ),
}


def mutate(rng: random.Random, data: bytes, corpus: Sequence[bytes]) -> bytes:
    """One to four random edits of ``data``."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        choice = rng.randrange(8)
        at = rng.randint(0, len(out))
        if choice == 0 and out:  # flip bits
            i = rng.randrange(len(out))
            out[i] ^= 1 << rng.randrange(8)
        elif choice == 1:  # insert random bytes
            out[at:at] = rng.randbytes(rng.randint(1, 8))
        elif choice == 2 and out:  # delete a range
            out[at : at + rng.randint(1, 16)] = b""
        elif choice == 3 and out:  # duplicate a range
            end = min(len(out), at + rng.randint(1, 64))
            out[at:at] = out[at:end]
        elif choice == 4:  # insert a format token
            out[at:at] = rng.choice(TOKENS)
        elif choice == 5:  # splice with another seed
            other = rng.choice(corpus)
            cut = rng.randint(0, len(other))
            out = out[:at] + bytearray(other[cut:])
        elif choice == 6:  # truncate
            del out[at:]
        else:  # overwrite with an interesting byte
            if out:
                out[rng.randrange(len(out))] = rng.choice(b"\x00\xff\r\n :;0f")
    return bytes(out)


@dataclass
class FuzzRun:
    """What one call of :func:`fuzz` did."""

    inputs: int
    seconds: float


class FuzzFailure(AssertionError):
    """A target failed; ``data`` reproduces it (``target(data)``)."""

    def __init__(self, message: str, data: bytes) -> None:
        super().__init__(f"{message}\nreproduce with target({data!r})")
        self.data = data


def fuzz(
    target: Callable[[bytes], None],
    seeds: Sequence[bytes],
    *,
    seconds: float,
    seed: int,
    max_inputs: int | None = None,
) -> FuzzRun:
    """Run ``target`` on mutated seeds (each prefixed with four split-seed bytes) for
    ``seconds``; raise :class:`FuzzFailure` with the failing input on the first failure."""
    rng = random.Random(seed)
    corpus = list(seeds)
    started = time.monotonic()
    count = 0
    while time.monotonic() - started < seconds and (max_inputs is None or count < max_inputs):
        base = rng.choice(corpus)
        data = rng.randbytes(4) + (mutate(rng, base, corpus) if count >= len(corpus) else base)
        count += 1
        try:
            target(data)
        except Exception as exc:
            raise FuzzFailure(f"{type(exc).__name__}: {exc}", data) from exc
        if rng.random() < 0.05 and len(corpus) < 200:
            corpus.append(data[4:])  # keep some mutants as new bases
    return FuzzRun(count, time.monotonic() - started)
