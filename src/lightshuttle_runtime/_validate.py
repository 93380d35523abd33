"""Checks of user input made before any request is sent."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from ._errors import InvalidArgumentError

__all__ = [
    "Filters",
    "check_identifier",
    "check_name",
    "normalize_filters",
    "only_the_request",
    "unix_time",
]

#: ``filters`` as users give them: a name → values map (a single string is one value).
Filters = Mapping[str, Sequence[str] | str | Mapping[str, bool]]

_CONTAINER_NAME = re.compile(r"/?[a-zA-Z0-9][a-zA-Z0-9_.-]+")


def only_the_request(request: object, keywords: Mapping[str, tuple[object, object]]) -> None:
    """Refuse keywords given beside a ready request model (they would be ignored).

    Args:
        keywords: ``{name: (value given, its default)}``.

    Raises:
        InvalidArgumentError: a keyword is not at its default.
    """
    given = [name for name, (value, default) in keywords.items() if value != default]
    if given:
        raise InvalidArgumentError(
            f"give either a {type(request).__name__} or keywords that build it, not both "
            f"({', '.join(given)} given beside it)"
        )


def check_name(name: str, *, what: str = "container name") -> str:
    """Return ``name`` if the engine accepts it as an object name (``[a-zA-Z0-9][a-zA-Z0-9_.-]+``).

    Raises:
        InvalidArgumentError: the name would be rejected by the engine.
    """
    if not isinstance(name, str) or not _CONTAINER_NAME.fullmatch(name):
        raise InvalidArgumentError(
            f"{what} {name!r} is not valid: use at least two characters from [a-zA-Z0-9_.-], "
            "starting with a letter or digit"
        )
    return name


def check_identifier(value: str, *, what: str = "container id or name") -> str:
    """Return ``value`` if it can stand in a URL path as an object reference.

    Raises:
        InvalidArgumentError: it is empty, not a string, holds a character no reference has, or
            a ``.``/``..`` path segment (which would reach another endpoint).
    """
    if (
        not isinstance(value, str)
        or not value
        or any(c in value for c in "?#\x00\n\r ")
        or any(segment in {".", ".."} for segment in value.split("/"))
    ):
        raise InvalidArgumentError(f"{what} {value!r} is not a valid reference")
    return value


def normalize_filters(filters: Filters | None) -> dict[str, list[str]] | None:
    """Turn user ``filters`` into the engine's ``map[string][]string``.

    Accepts ``{"label": ["a=b"]}``, ``{"label": "a=b"}`` and ``{"label": {"a=b": True}}``.

    Raises:
        InvalidArgumentError: a key is not a string, or a value is not a string, a list of
            strings or a map of string to bool.
    """
    if filters is None:
        return None
    if not isinstance(filters, Mapping):
        raise InvalidArgumentError(f"filters must be a mapping of name to values, not {filters!r}")
    out: dict[str, list[str]] = {}
    for key, value in filters.items():
        if not isinstance(key, str):
            raise InvalidArgumentError(f"filter name {key!r} is not a string")
        if isinstance(value, str):
            out[key] = [value]
        elif isinstance(value, Mapping) and all(isinstance(v, bool) for v in value.values()):
            out[key] = [str(k) for k, on in value.items() if on]
        elif isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
            out[key] = list(value)
        else:
            raise InvalidArgumentError(
                f"filter {key!r} must be a string or a list of strings, not {value!r}"
            )
    return out


def unix_time(value: datetime | float | None) -> str | None:
    """The engine's query form of a time (``since``/``until``): UNIX seconds, up to nine
    fraction digits and no trailing zeros (``"1700000000"``, ``"1700000000.5"``); the one
    place a time is formatted for a request."""
    if value is None:
        return None
    seconds = value.timestamp() if isinstance(value, datetime) else float(value)
    return f"{seconds:.9f}".rstrip("0").rstrip(".")
