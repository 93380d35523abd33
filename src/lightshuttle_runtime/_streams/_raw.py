"""Decoding the raw (``Tty=true``) attach, logs and exec stream.

Source: ``GET /containers/{id}/logs``, ``POST /containers/{id}/attach`` and
``POST /exec/{id}/start`` on a TTY (``Content-Type: application/vnd.docker.raw-stream``
since API 1.42; before that, tell by ``Config.Tty``). A TTY merges stdout and stderr,
so the bytes carry no framing and all count as stdout.
"""

from __future__ import annotations

from ._multiplexed import STDOUT, Frame

__all__ = ["ChunkDecoder", "RawDecoder"]


class RawDecoder:
    """A pass-through decoder: each non-empty chunk becomes one ``Frame(STDOUT, data)``.

    There is no line buffering: bytes are handed on as they arrive.
    """

    __slots__ = ()

    def feed(self, data: bytes) -> list[Frame]:
        """Return ``[Frame(STDOUT, data)]``, or ``[]`` for an empty chunk."""
        if not data:
            return []
        return [Frame(STDOUT, bytes(data))]

    def close(self) -> list[Frame]:
        """Return ``[]``: a raw stream cannot end inside an item."""
        return []


class ChunkDecoder:
    """The decoder of a plain byte body (a tar archive, an export): each non-empty chunk is
    passed on as it is."""

    __slots__ = ()

    def feed(self, data: bytes) -> list[bytes]:
        """Return ``[data]``, or ``[]`` for an empty chunk."""
        return [bytes(data)] if data else []

    def close(self) -> list[bytes]:
        """Return ``[]``: a byte body cannot end inside an item."""
        return []
