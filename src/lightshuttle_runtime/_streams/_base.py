"""The contract every stream decoder keeps.

Decoders are pure and synchronous: they take the bytes of a response body as they
arrive, in any split, and hand back whole items. They hold the partial state between
calls and never do I/O, so they can be tested on bytes alone.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

__all__ = ["Decoder"]

T = TypeVar("T")


class Decoder(Protocol[T]):
    """An incremental decoder of a response body into items of type ``T``."""

    def feed(self, data: bytes) -> list[T]:
        """Take the next bytes of the body and return the items they complete.

        Raises:
            StreamError: the engine reported an error inside the stream.
            StreamDesyncError: the bytes are not of the stream's format.
        """
        ...

    def close(self) -> list[T]:
        """Signal the end of the body and return any items still held.

        Raises:
            StreamTruncatedError: the body ended in the middle of an item.
        """
        ...
