"""The cassette file: one JSON document per cassette, written to be read (and hand-written).

See the package docstring of :mod:`lightshuttle_runtime.testing` for the format, field by field.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any, Final, Literal

import msgspec

from ._errors import CassetteError, CassetteFormatError, CassetteNotFoundError

__all__ = [
    "BINARY_BODY_LIMIT",
    "FORMAT_VERSION",
    "Body",
    "Cassette",
    "Chunk",
    "Failure",
    "Interaction",
    "RecordedRequest",
    "RecordedResponse",
    "SessionEvent",
    "SessionOp",
    "StreamEnd",
    "load_cassette",
    "save_cassette",
]

#: The version this library writes, and the only one it reads.
FORMAT_VERSION: Final = 1
#: Request bodies larger than this many bytes are stored as length + sha256 only.
BINARY_BODY_LIMIT: Final = 64 * 1024
#: Request content types stored as length + sha256 whatever their size (archives).
OPAQUE_CONTENT_TYPES: Final = frozenset(
    {
        "application/x-tar",
        "application/tar",
        "application/x-gzip",
        "application/gzip",
        "application/x-bzip2",
        "application/x-xz",
    }
)

#: How a response body ended: ``complete`` (the body ended), ``closed`` (the client closed the
#: stream before its end: a follow stream), ``error`` (the connection failed mid-body).
StreamEnd = Literal["complete", "closed", "error"]

#: A step on an upgraded connection: ``send`` (the client wrote ``data``), ``receive`` (the
#: engine's bytes arrived), ``send_eof`` (the client half-closed its write side).
SessionOp = Literal["send", "receive", "send_eof"]

_EOLS: Final = ("\r\n", "\n")
_FLAT_WIDTH: Final = 100  # the longest flat array or object kept on one line


class Body(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """Bytes, stored as exactly one of: ``text`` (valid UTF-8), ``base64``, ``json`` (a JSON
    object or array, written out compactly and followed by ``eol``), or ``length`` + ``sha256``
    (request bodies too large or too binary to keep: only their fingerprint is stored)."""

    text: str | None = None
    base64: str | None = None
    json: Any = msgspec.UNSET
    eol: str = ""
    length: int | None = None
    sha256: str | None = None

    def __post_init__(self) -> None:
        _check_payload(self.text, self.base64, self.json, self.eol, self.sha256, self.length)

    @classmethod
    def from_bytes(cls, data: bytes) -> Body:
        """The most readable form that gives ``data`` back byte for byte."""
        return cls(**_payload_fields(data))

    @classmethod
    def digest_of(cls, data: bytes) -> Body:
        """A body stored as its length and sha256 only."""
        return cls(length=len(data), sha256=hashlib.sha256(data).hexdigest())

    @property
    def is_digest(self) -> bool:
        """Whether only the length and sha256 are stored."""
        return self.sha256 is not None

    def to_bytes(self) -> bytes:
        """The stored bytes.

        Raises:
            CassetteError: only the length and sha256 are stored.
        """
        if self.sha256 is not None:
            raise CassetteError("this body is stored as length + sha256 only; its bytes are gone")
        return _payload_bytes(self.text, self.base64, self.json, self.eol)


class Chunk(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """One piece of a response body as it arrived: ``t`` is its time in seconds after the
    response headers (``None``: 0); the bytes are in ``text``, ``base64`` or ``json`` + ``eol`` (see
    :class:`Body`)."""

    t: float | None = None
    text: str | None = None
    base64: str | None = None
    json: Any = msgspec.UNSET
    eol: str = ""

    def __post_init__(self) -> None:
        _check_payload(self.text, self.base64, self.json, self.eol, None, None)

    @classmethod
    def from_bytes(cls, data: bytes, t: float = 0.0) -> Chunk:
        """A chunk holding ``data`` in its most readable lossless form; ``t`` in seconds."""
        return cls(t=round(t, 3), **_payload_fields(data))

    def to_bytes(self) -> bytes:
        """The chunk's bytes."""
        return _payload_bytes(self.text, self.base64, self.json, self.eol)


class Failure(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """A transport failure: ``exception`` is the httpx exception's class name
    (``ReadError``, ``ConnectError``, ``ReadTimeout``...), ``message`` its text."""

    exception: str
    message: str = ""


class RecordedRequest(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """A request as sent (after redaction).

    ``path`` keeps its ``/vX.Y`` prefix and has no query; ``query`` and ``headers`` are lists of
    ``[name, value]`` pairs (decoded, in the order sent).
    """

    method: str
    path: str
    query: list[tuple[str, str]] = []
    headers: list[tuple[str, str]] = []
    body: Body | None = None

    def __post_init__(self) -> None:
        if not self.path.startswith("/") or "?" in self.path:
            raise ValueError(
                f"path {self.path!r} must start with '/' and hold no query (use `query`)"
            )

    def describe(self) -> str:
        """``"GET /v1.41/containers/json?all=1"``."""
        query = "&".join(f"{k}={v}" for k, v in self.query)
        return f"{self.method} {self.path}" + (f"?{query}" if query else "")


class SessionEvent(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """One step on an upgraded connection (``101 Switching Protocols``), in the order it
    happened: ``op`` (see :data:`SessionOp`), ``t`` seconds after the 101 (``None``: 0),
    ``data`` the bytes of a ``send`` or ``receive`` (a large ``send`` keeps only its length and
    sha256), and ``failed`` when the client's write failed there (the process had exited)."""

    op: SessionOp
    t: float | None = None
    data: Body | None = None
    failed: bool = False

    def __post_init__(self) -> None:
        if (self.op == "send_eof") != (self.data is None):
            raise ValueError("`data` is required for `send` and `receive`, and only for them")
        if self.op == "receive" and (self.failed or self.data is None or self.data.is_digest):
            raise ValueError("a `receive` keeps its bytes and cannot have `failed`")


class RecordedResponse(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """A response: status, reason, headers (``[name, value]`` pairs), the body's chunks,
    how the body ended, and the failure when it ended in one. An upgraded response (``101``)
    has ``session`` instead of chunks: both directions of the connection, in order; ``end``
    then says how the connection ended."""

    status: int
    reason: str = ""
    headers: list[tuple[str, str]] = []
    chunks: list[Chunk] = []
    session: list[SessionEvent] | None = None
    end: StreamEnd = "complete"
    error: Failure | None = None

    def __post_init__(self) -> None:
        if (self.end == "error") != (self.error is not None):
            raise ValueError("`error` is required when `end` is 'error', and only then")
        if self.session is not None and (self.status != 101 or self.chunks):
            raise ValueError("only a 101 response has a `session`, and then no `chunks`")

    def received(self) -> bytes:
        """The bytes of an upgraded connection's ``receive`` steps, joined (``b""`` if none)."""
        return b"".join(
            event.data.to_bytes()
            for event in self.session or ()
            if event.op == "receive" and event.data is not None
        )

    def sent(self) -> bytes:
        """The kept bytes of an upgraded connection's ``send`` steps, joined."""
        return b"".join(
            event.data.to_bytes()
            for event in self.session or ()
            if event.op == "send" and event.data is not None and not event.data.is_digest
        )

    def body(self) -> bytes:
        """All the chunks' bytes, joined."""
        return b"".join(chunk.to_bytes() for chunk in self.chunks)


class Interaction(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """One exchange: the request and either its ``response`` or the ``error`` that kept
    any response from arriving (``ConnectError``...)."""

    request: RecordedRequest
    response: RecordedResponse | None = None
    error: Failure | None = None

    def __post_init__(self) -> None:
        if (self.response is None) == (self.error is None):
            raise ValueError("an interaction needs exactly one of `response` and `error`")


class Cassette(msgspec.Struct, omit_defaults=False, forbid_unknown_fields=True):
    """A whole cassette file: the format ``version`` and the interactions in recorded order."""

    version: int = FORMAT_VERSION
    interactions: list[Interaction] = []

    def to_json(self) -> bytes:
        """The file's bytes: indented JSON with a final newline; short flat arrays and objects
        (a header pair, a chunk) stay on one line, so a changed value is a one-line diff."""
        out: list[str] = []
        _dump(msgspec.to_builtins(self), "", out)
        out.append("\n")
        return "".join(out).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes | str, *, path: str | None = None) -> Cassette:
        """Parse a cassette file's content.

        Raises:
            CassetteFormatError: not JSON, not a cassette (the message gives the JSON path of
                the bad field), or another format version.
        """
        try:
            probe = msgspec.json.decode(data, type=_VersionProbe)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise CassetteFormatError(f"not a cassette file: {exc}", path=path) from exc
        if probe.version != FORMAT_VERSION:
            raise CassetteFormatError(
                f"cassette format version {probe.version} is not supported (this library reads "
                f"version {FORMAT_VERSION}); re-record it",
                path=path,
            )
        try:
            return msgspec.json.decode(data, type=cls)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise CassetteFormatError(f"invalid cassette: {exc}", path=path) from exc


class _VersionProbe(msgspec.Struct):
    version: int


def load_cassette(path: str | os.PathLike[str]) -> Cassette:
    """Read a cassette file.

    Raises:
        CassetteNotFoundError: the file does not exist.
        CassetteFormatError: the file is not a valid cassette.
    """
    where = os.fspath(path)
    try:
        data = Path(where).read_bytes()
    except FileNotFoundError:
        raise CassetteNotFoundError(f"cassette file {where} does not exist", path=where) from None
    except OSError as exc:
        raise CassetteError(f"cannot read cassette file {where}: {exc}", path=where) from exc
    return Cassette.from_json(data, path=where)


def save_cassette(cassette: Cassette, path: str | os.PathLike[str]) -> None:
    """Write ``cassette`` to ``path`` atomically, creating missing directories."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, _file_mode(target))
        with os.fdopen(fd, "wb") as out:
            out.write(cassette.to_json())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _file_mode(target: Path) -> int:
    """The mode to write ``target`` with: its current one, else readable by all (mkstemp's
    0600 would hide a file meant to be committed)."""
    try:
        return target.stat().st_mode & 0o777
    except FileNotFoundError:
        return 0o644


def _dump(value: Any, indent: str, out: list[str]) -> None:
    """Append ``value`` as indented JSON to ``out``."""
    items: list[tuple[str | None, Any]]
    if isinstance(value, dict):
        items = [(_scalar(key), item) for key, item in value.items()]
        opening, closing = "{", "}"
    elif isinstance(value, list | tuple):
        items = [(None, item) for item in value]
        opening, closing = "[", "]"
    else:
        out.append(_scalar(value))
        return
    if not items:
        out.append(opening + closing)
        return
    if not any(isinstance(item, dict | list | tuple) for _, item in items):
        flat = ", ".join(
            _scalar(item) if key is None else f"{key}: {_scalar(item)}" for key, item in items
        )
        if len(flat) + len(indent) <= _FLAT_WIDTH:
            out.append(f"{opening}{flat}{closing}")
            return
    inner = indent + "  "
    out.append(opening)
    for position, (key, item) in enumerate(items):
        out.append(("," if position else "") + "\n" + inner + ("" if key is None else f"{key}: "))
        _dump(item, inner, out)
    out.append(f"\n{indent}{closing}")


def _scalar(value: Any) -> str:
    return msgspec.json.encode(value).decode("utf-8")


def _payload_fields(data: bytes) -> dict[str, Any]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode("ascii")}
    parsed = _as_json(text)
    if parsed is not None:
        return {"json": parsed[0], "eol": parsed[1]}
    return {"text": text}


def _as_json(text: str) -> tuple[Any, str] | None:
    """``(value, eol)`` when ``text`` is one JSON object/array that re-encodes to the same text."""
    eol = next((end for end in _EOLS if text.endswith(end)), "")
    core = text[: len(text) - len(eol)]
    if not core.startswith(("{", "[")):
        return None
    try:
        value = msgspec.json.decode(core)
    except msgspec.DecodeError:
        return None
    if msgspec.json.encode(value).decode("utf-8") != core:
        return None
    return value, eol


def _payload_bytes(text: str | None, b64: str | None, value: Any, eol: str) -> bytes:
    if text is not None:
        return text.encode("utf-8")
    if b64 is not None:
        return base64.b64decode(b64)
    return msgspec.json.encode(value) + eol.encode("utf-8")


def _check_payload(
    text: str | None,
    b64: str | None,
    value: Any,
    eol: str,
    sha256: str | None,
    length: int | None,
) -> None:
    given = [
        name
        for name, present in (
            ("text", text is not None),
            ("base64", b64 is not None),
            ("json", value is not msgspec.UNSET),
            ("sha256", sha256 is not None),
        )
        if present
    ]
    if len(given) != 1:
        raise ValueError(
            "give exactly one of `text`, `base64`, `json` (or `length` + `sha256`), "
            f"not {given or 'none'}"
        )
    if eol and value is msgspec.UNSET:
        raise ValueError("`eol` only goes with `json`")
    if (length is None) != (sha256 is None):
        raise ValueError("`length` and `sha256` go together")
    if b64 is not None:
        try:
            base64.b64decode(b64, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"`base64` is not valid base64: {exc}") from None
