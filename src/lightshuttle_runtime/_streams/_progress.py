"""Raising the in-band errors of progress streams.

Source: ``POST /images/create``, ``POST /images/{name}/push``, ``POST /build`` and
other streams that answer 200 first and report a later failure as a record
``{"error": "...", "errorDetail": {"code": 1, "message": "..."}}`` (Podman 4 omits
``code``; older engines may send only ``error``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from .._errors import StreamError

__all__ = ["ErrorDetailLike", "ProgressLike", "raise_for_progress_error"]


class ErrorDetailLike(Protocol):
    """The ``errorDetail`` object of a progress record: ``{"code"?, "message"}``."""

    @property
    def message(self) -> str | None: ...

    @property
    def code(self) -> int | None: ...


class ProgressLike(Protocol):
    """A decoded progress or build record with the in-band error fields.

    Any object with these attributes fits, e.g. a ``msgspec.Struct`` with
    ``error: str | None`` and ``error_detail`` renamed from ``errorDetail``.
    """

    @property
    def error(self) -> str | None: ...

    @property
    def error_detail(self) -> ErrorDetailLike | None: ...


def raise_for_progress_error(
    record: ProgressLike | Mapping[str, Any],
    *,
    method: str | None = None,
    path: str | None = None,
) -> None:
    """Raise when a progress record reports an in-band error; otherwise do nothing.

    Use it as the check of each record of a pull, push, import or build stream.

    Args:
        record: a :class:`ProgressLike` object, or the record as a decoded ``dict``.
        method: the request's HTTP method, for the error message.
        path: the request's path, for the error message.

    Raises:
        StreamError: with ``errorDetail.message`` (else ``error``) as message and
            ``errorDetail.code`` as ``code``.
    """
    if isinstance(record, Mapping):
        error, message, code = _error_fields_of_mapping(record)
    else:
        detail = record.error_detail
        error = record.error
        message = detail.message if detail is not None else None
        code = detail.code if detail is not None else None
    if error is None and message is None:
        return
    text = message or error or "the engine reported an error without a message"
    raise StreamError(text, code=code, method=method, path=path)


def _error_fields_of_mapping(
    record: Mapping[str, Any],
) -> tuple[str | None, str | None, int | None]:
    error = record.get("error")
    detail = record.get("errorDetail")
    message = code = None
    if isinstance(detail, Mapping):
        message = detail.get("message")
        code = detail.get("code")
    return (
        None if error is None else str(error),
        None if message is None else str(message),
        code if isinstance(code, int) and not isinstance(code, bool) else None,
    )
