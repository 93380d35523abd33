"""Decoding streams of JSON records (progress, build output, events, stats).

Source: ``POST /images/create``, ``POST /build``, ``POST /images/{name}/push``
(objects separated by ``\\r\\n`` or ``\\n``), ``GET /events`` and
``GET /containers/{id}/stats`` (newline-delimited; since API 1.52 ``/events`` may
also answer ``application/json-seq``, each record prefixed by RS, ``0x1E``).
Some engines glue objects together with no separator at all (``{..}{..}``).
"""

from __future__ import annotations

from typing import Any, Final, Generic, TypeVar, overload

import msgspec

from .._errors import DecodeError, StreamError, StreamTruncatedError

__all__ = ["JSONLinesDecoder"]

T = TypeVar("T")

_RS: Final = b"\x1e"
# JSON's whitespace; Python's bytes.strip() also strips \v and \f, which JSON refuses.
_JSON_SPACE: Final = b" \t\r\n"
_SNIPPET: Final = 200
# Below this size a partial record that ends like a JSON value is decoded on every
# feed; above it, only after it doubled, so a huge record costs linear time.
_EAGER_TAIL: Final = 1 << 16


class JSONLinesDecoder(Generic[T]):
    """An incremental decoder of a stream of JSON records into items of type ``T``.

    Records may be separated by ``\\n`` or ``\\r\\n``, prefixed by RS (``0x1E``,
    json-seq) or glued together; blank lines are skipped; records may be split
    across :meth:`feed` calls in any way. A record that ends a feed without a
    newline is decoded as soon as it is complete (for records up to 64 KiB).

    Errors never lose items: when a call decodes some records and then meets a bad
    one, it returns the good ones and keeps the error, which the next :meth:`feed` or
    :meth:`close` raises (and every call after that). :attr:`pending_error` shows it.

    Args:
        type_: what each record decodes to: a ``msgspec.Struct`` type, ``dict``, or
            ``Any``; anything ``msgspec.json.Decoder`` takes.
    """

    __slots__ = ("_decoder", "_error", "_next_try", "_parts", "_tail_size", "_type_name")

    @overload
    def __init__(self: JSONLinesDecoder[T], type_: type[T]) -> None: ...
    @overload
    def __init__(self: JSONLinesDecoder[Any], type_: Any = Any) -> None: ...
    def __init__(self, type_: Any = Any) -> None:
        self._decoder: msgspec.json.Decoder[T] = msgspec.json.Decoder(type_)
        self._type_name: str = getattr(type_, "__name__", repr(type_))
        self._parts: list[bytes] = []  # the bytes after the last newline
        self._tail_size = 0
        self._next_try = 0
        self._error: DecodeError | StreamError | None = None

    @property
    def pending_error(self) -> DecodeError | StreamError | None:
        """The error that the next :meth:`feed` or :meth:`close` will raise, if any."""
        return self._error

    def feed(self, data: bytes) -> list[T]:
        """Take the next bytes of the stream and return the records they complete.

        Raises:
            DecodeError: a record is not valid JSON or does not match ``type_``.
        """
        if self._error is not None:
            raise self._error
        if type(data) is not bytes:
            data = bytes(data)
        if _RS in data:
            data = data.replace(_RS, b"\n")  # a raw RS cannot occur inside JSON text
        items: list[T] = []
        newline = data.rfind(b"\n")
        if newline >= 0:
            rest = data[newline + 1 :]
            if newline + 1 < len(data):
                data = data[: newline + 1]
            if self._parts:
                self._parts.append(data)
                data = b"".join(self._parts)
            self._parts = [rest] if rest else []
            self._tail_size = len(rest)
            self._next_try = 0
            self._decode_block(data, items)
        elif data:
            self._parts.append(data)
            self._tail_size += len(data)
        if self._error is None and self._tail_worth_trying():
            self._decode_tail(items)
        return self._result(items)

    def close(self) -> list[T]:
        """Signal the end of the stream and return a last record left without newline.

        Raises:
            StreamTruncatedError: the bytes after the last newline are not whitespace
                and not complete JSON records.
            DecodeError: they are complete records that do not match ``type_``.
        """
        if self._error is not None:
            raise self._error
        tail = b"".join(self._parts)
        self._parts = []
        self._tail_size = 0
        if not tail.strip(_JSON_SPACE):
            return []
        try:
            return self._decode_records(tail)
        except msgspec.ValidationError as exc:
            self._error = self._mismatch(exc, tail)
        except msgspec.DecodeError as exc:
            self._error = StreamTruncatedError(
                f"JSON stream ended inside a record ({exc}; {len(tail)} bytes after the "
                f"last newline): {_snippet(tail)}"
            )
        raise self._error

    def _decode_block(self, block: bytes, items: list[T]) -> None:
        """Append the records of ``block`` (whole lines); keep the error of a bad one."""
        try:
            items.extend(self._decoder.decode_lines(block))
        except msgspec.DecodeError:
            self._decode_lines_one_by_one(block, items)

    def _decode_lines_one_by_one(self, block: bytes, items: list[T]) -> None:
        for line in block.split(b"\n"):
            if not line.strip(_JSON_SPACE):
                continue
            try:
                items.extend(self._decode_records(line))
            except msgspec.ValidationError as exc:
                self._error = self._mismatch(exc, line)
                return
            except msgspec.DecodeError as exc:
                self._error = self._malformed(exc, line)
                return

    def _decode_records(self, text: bytes) -> list[T]:
        """Decode one record, or several glued ones (whose error paths start ``$[i]``).

        Raises:
            msgspec.ValidationError: a record does not match the type.
            msgspec.DecodeError: ``text`` is not complete JSON.
        """
        try:
            return [self._decoder.decode(text)]
        except msgspec.ValidationError:
            raise
        except msgspec.DecodeError:
            return self._decoder.decode_lines(text)

    def _tail_worth_trying(self) -> bool:
        """Whether the bytes after the last newline may hold a complete record."""
        if not self._parts or self._tail_size < self._next_try:
            return False
        return self._parts[-1].rstrip(_JSON_SPACE).endswith((b"}", b"]"))

    def _decode_tail(self, items: list[T]) -> None:
        """Decode the bytes after the last newline if they are complete records."""
        tail = b"".join(self._parts) if len(self._parts) > 1 else self._parts[0]
        try:
            items.extend(self._decode_records(tail))
        except msgspec.ValidationError as exc:
            self._error = self._mismatch(exc, tail)
        except msgspec.DecodeError:
            self._parts = [tail]
            if self._tail_size > _EAGER_TAIL:
                self._next_try = 2 * self._tail_size
            return
        self._parts = []
        self._tail_size = 0
        self._next_try = 0

    def _mismatch(self, exc: msgspec.ValidationError, text: bytes) -> DecodeError:
        return DecodeError(
            f"JSON stream record does not match {self._type_name}: {exc}: {_snippet(text)}"
        )

    def _malformed(self, exc: msgspec.DecodeError, text: bytes) -> DecodeError:
        return DecodeError(f"JSON stream record is not valid JSON ({exc}): {_snippet(text)}")

    def _result(self, items: list[T]) -> list[T]:
        if self._error is not None and not items:
            raise self._error
        return items


def _snippet(text: bytes) -> str:
    """The offending text for an error message, cut to about 200 characters."""
    shown = text.strip()
    cut = shown[:_SNIPPET].decode("utf-8", "replace")
    return repr(cut + "...") if len(shown) > _SNIPPET else repr(cut)
