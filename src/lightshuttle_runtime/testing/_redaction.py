"""Redaction: secrets are replaced before anything is written, the same way on every run.

What is replaced:

- request headers ``Authorization``, ``Proxy-Authorization``, ``X-Registry-Auth`` and
  ``X-Registry-Config``: their value becomes ``<redacted>``;
- ``POST /auth``: the ``password``, ``auth``, ``identitytoken`` and ``registrytoken`` of the
  request body and the ``IdentityToken`` of the answer become ``<redacted>``;
- every ``Env`` list (``["KEY=value", ...]``) in a JSON request body (``POST /containers/create``,
  ``POST /containers/{id}/exec``) and in a JSON response (``Config.Env`` of an inspect): keys
  are kept, values become ``<redacted:KEY>`` (``<redacted:KEY#2>`` for the second distinct value
  a test sends for the same key), except the keys in ``keep_env`` (default ``PATH``, ``HOME``,
  ``HOSTNAME``, ``TERM``). A value that only appears in responses becomes ``<redacted>``;
- every registered literal secret, anywhere (path, query, headers, bodies, chunks), in its raw,
  JSON-escaped and URL-encoded forms, by a mask of the **same length** (``<secret-1*****>``), so
  that multiplexed frame sizes and chunk boundaries stay right.

Placeholders depend only on the order in which the test sends values, so replaying a test
redacts its live requests to exactly the recorded text and matching works. On replay the
redactor learns what each placeholder stands for from the live requests (the test sends the
real value) and puts it back in the replayed answers: the test sees its own values, the file
never held them.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Sequence
from typing import Any, Final

import msgspec

from ._errors import CassetteError

__all__ = ["DEFAULT_KEEP_ENV", "REDACTED", "SENSITIVE_HEADERS", "Redactor"]

REDACTED: Final = "<redacted>"
SENSITIVE_HEADERS: Final = frozenset(
    {"authorization", "proxy-authorization", "x-registry-auth", "x-registry-config"}
)
DEFAULT_KEEP_ENV: Final = frozenset({"PATH", "HOME", "HOSTNAME", "TERM"})
#: Keys of a ``POST /auth`` body (and of auth configs) that hold credentials.
AUTH_SECRET_KEYS: Final = frozenset({"password", "auth", "identitytoken", "registrytoken"})
MIN_SECRET_LENGTH: Final = 4

_AUTH_PATH = re.compile(r"^(?:/v\d+\.\d+)?/auth$")
_PLACEHOLDER = re.compile(r"<redacted(?::[^>]*)?>")


class Redactor:
    """Replaces secrets in requests and responses; one per cassette session.

    Args:
        secrets: literal strings (at least 4 characters) to mask wherever they appear.
        keep_env: environment variable names whose values are kept as they are.

    Raises:
        CassetteError: a secret is shorter than 4 characters (it would mask unrelated text).
    """

    def __init__(self, *, secrets: Iterable[str] = (), keep_env: Iterable[str] = DEFAULT_KEEP_ENV):
        self.keep_env = frozenset(keep_env)
        self._secrets: list[str] = []
        self._masks: list[tuple[bytes, bytes]] = []  # (form, same-length mask), longest first
        self._env: dict[tuple[str, str], str] = {}  # (key, value) -> placeholder
        self._env_counts: dict[str, int] = {}
        for secret in secrets:
            self.add_secret(secret)

    @property
    def secrets(self) -> tuple[str, ...]:
        """The registered literal secrets."""
        return tuple(self._secrets)

    def add_secret(self, value: str) -> None:
        """Mask ``value`` (and its JSON-escaped and URL-encoded forms) from now on.

        Raises:
            CassetteError: ``value`` is shorter than 4 characters.
        """
        if len(value.encode("utf-8")) < MIN_SECRET_LENGTH:
            raise CassetteError(
                f"a secret must be at least {MIN_SECRET_LENGTH} bytes long to be masked safely "
                f"(got {len(value)} characters)"
            )
        if value in self._secrets:
            return
        self._secrets.append(value)
        known = {form for form, _ in self._masks}
        for form in secret_forms(value):
            if form not in known:
                self._masks.append((form, _mask(len(self._masks) + 1, len(form))))
        self._masks.sort(key=lambda pair: -len(pair[0]))

    # -- requests (the same on record and replay) -------------------------------------------

    def text(self, value: str) -> str:
        """``value`` (a path, query value or header value) with the literal secrets masked."""
        if not self._masks:
            return value
        return self.mask(value.encode("utf-8")).decode("utf-8", "replace")

    def headers(self, headers: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        """Sensitive headers replaced by ``<redacted>``; literal secrets masked in the others."""
        return [
            (name, REDACTED if name.lower() in SENSITIVE_HEADERS else self.text(value))
            for name, value in headers
        ]

    def request_body(self, path: str, data: bytes) -> bytes:
        """A request body with ``/auth`` credentials, ``Env`` values and literal secrets replaced.

        Learns the placeholder of every ``Env`` value it sees, in order.
        """
        value = _json_document(data)
        if value is not None:
            changed = _redact_env(value, self._request_placeholder, self.keep_env)
            if _AUTH_PATH.match(path) and isinstance(value, dict):
                changed |= _replace_keys(value, AUTH_SECRET_KEYS)
            if changed:
                data = msgspec.json.encode(value)
        return self.mask(data)

    # -- responses ---------------------------------------------------------------------------

    def response_body(self, path: str, data: bytes) -> bytes:
        """A response body (all its chunks joined) with secrets replaced.

        When the body is one JSON document with something to replace, it is re-encoded (its
        length changes); otherwise only same-length masks are applied, so chunk offsets hold.
        """
        value = _json_document(data)
        if value is not None:
            changed = _redact_env(value, self._response_placeholder, self.keep_env)
            if _AUTH_PATH.match(path) and isinstance(value, dict):
                changed |= _replace_keys(value, frozenset({"identitytoken"}))
            if changed:
                data = _reencode(data, value)
        return self.mask(data)

    def restore(self, data: bytes) -> bytes:
        """A replayed response body with the placeholders learned so far put back.

        Literal secrets are unmasked in place (same length); ``Env`` placeholders are restored
        inside a JSON document (the length may change).
        """
        for form, mask in self._masks:
            data = data.replace(mask, form)
        learned = {placeholder: value for (_, value), placeholder in self._env.items()}
        if not learned or b"<redacted:" not in data:
            return data
        value = _json_document(data)
        if value is None:
            return data
        if _redact_env(value, lambda key, text: learned.get(text, text), frozenset()):
            return _reencode(data, value)
        return data

    def mask(self, data: bytes) -> bytes:
        """``data`` with every form of every literal secret masked (same length)."""
        for form, mask in self._masks:
            data = data.replace(form, mask)
        return data

    def _request_placeholder(self, key: str, value: str) -> str:
        known = self._env.get((key, value))
        if known is not None:
            return known
        count = self._env_counts.get(key, 0) + 1
        self._env_counts[key] = count
        placeholder = f"<redacted:{key}>" if count == 1 else f"<redacted:{key}#{count}>"
        self._env[(key, value)] = placeholder
        return placeholder

    def _response_placeholder(self, key: str, value: str) -> str:
        return self._env.get((key, value), REDACTED)


def secret_forms(value: str) -> list[bytes]:
    """The byte forms a secret takes in traffic: raw UTF-8, JSON-escaped, URL-encoded."""
    forms = [
        value.encode("utf-8"),
        msgspec.json.encode(value)[1:-1],
        urllib.parse.quote(value, safe="").encode("ascii"),
    ]
    return list(dict.fromkeys(forms))


def is_placeholder(text: str) -> bool:
    """Whether ``text`` is (or is made of) redaction placeholders or masks."""
    return bool(text) and (
        _PLACEHOLDER.fullmatch(text) is not None or re.fullmatch(r"<[\w-]*\**>", text) is not None
    )


def _mask(index: int, length: int) -> bytes:
    """A mask of exactly ``length`` bytes, unique per ``index`` when there is room for it."""
    for label in (f"<secret-{index}", f"<{index}"):
        if len(label) + 1 <= length:
            return (label + "*" * (length - len(label) - 1) + ">").encode("ascii")
    return b"*" * length


def _json_document(data: bytes) -> Any:
    """The JSON object or array ``data`` holds, or ``None``."""
    if data.lstrip()[:1] not in (b"{", b"["):
        return None
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError:
        return None


def _reencode(original: bytes, value: Any) -> bytes:
    """Compact JSON, keeping the original's trailing newline."""
    tail = original[len(original.rstrip(b"\r\n")) :]
    return msgspec.json.encode(value) + tail


def _redact_env(value: Any, placeholder: Any, keep: frozenset[str]) -> bool:
    """Replace the values of every ``Env`` list in ``value`` (in place); True if any changed.

    ``placeholder(key, value)`` gives the replacement of one value.
    """
    changed = False
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Env" and isinstance(item, list):
                changed |= _redact_env_list(item, placeholder, keep)
            else:
                changed |= _redact_env(item, placeholder, keep)
    elif isinstance(value, list):
        for item in value:
            changed |= _redact_env(item, placeholder, keep)
    return changed


def _redact_env_list(entries: list[Any], placeholder: Any, keep: frozenset[str]) -> bool:
    changed = False
    for index, entry in enumerate(entries):
        if not isinstance(entry, str):
            continue
        key, sep, text = entry.partition("=")
        if not sep or not text or key in keep:
            continue
        replacement = placeholder(key, text)
        if replacement != text:
            entries[index] = f"{key}={replacement}"
            changed = True
    return changed


def _replace_keys(value: dict[str, Any], keys: frozenset[str]) -> bool:
    changed = False
    for key, item in value.items():
        if key.lower() in keys and isinstance(item, str) and item and item != REDACTED:
            value[key] = REDACTED
            changed = True
    return changed
