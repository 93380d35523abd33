"""Redaction: secrets are replaced before anything is written, the same way on every run.

What is replaced:

- request headers ``Authorization``, ``Proxy-Authorization``, ``X-Registry-Auth`` and
  ``X-Registry-Config``: their value becomes ``<redacted>``; the passwords and tokens inside
  the two registry headers (base64url JSON) are learned as literal secrets (below), so an
  engine or registry message echoing one is masked too;
- ``POST /auth``: the ``password``, ``auth``, ``identitytoken`` and ``registrytoken`` of the
  request body and the ``IdentityToken`` of the answer become ``<redacted>`` (and the request's
  secrets are learned as literal secrets);
- every ``Env`` list (``["KEY=value", ...]``) in a JSON request body (``POST /containers/create``,
  ``POST /containers/{id}/exec``) and in a JSON response (``Config.Env`` of an inspect): keys
  are kept, values become ``<redacted:KEY>`` (``<redacted:KEY#2>`` for the second distinct value
  a test sends for the same key), except the keys in ``keep_env`` (default ``PATH``, ``HOME``,
  ``HOSTNAME``, ``TERM``). A value that only appears in responses (the image's own ``ENV``)
  becomes ``<redacted>``;
- every ``Env`` value the test sends (of at least 4 bytes: shorter ones cannot be told apart
  from other text), from then on **everywhere else too** — the container's logs, exec output,
  a command line, any header, body or chunk, framed or not — by a same-length mask named after
  its key (``<API_TOKEN***>``);
- every registered literal secret, anywhere (path, query, headers, bodies, chunks), by a mask of
  the **same length** (``<secret-1*****>``).

Both kinds are masked in every form they take in traffic: raw, JSON-escaped, URL-encoded and
base64 (standard and URL-safe, at any alignment, once at least 6 bytes of the value are
encoded). Same-length masks keep multiplexed frame sizes and chunk boundaries right.

Placeholders depend only on the order in which the test sends values, so replaying a test
redacts its live requests to exactly the recorded text and matching works. On replay the
redactor learns what each placeholder stands for from the live requests (the test sends the
real value) and puts it back in the replayed answers: the test sees its own values, the file
never held them.
"""

from __future__ import annotations

import base64
import binascii
import re
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final

import msgspec

from ._errors import CassetteError

__all__ = ["DEFAULT_KEEP_ENV", "REDACTED", "SENSITIVE_HEADERS", "Redactor"]

REDACTED: Final = "<redacted>"
SENSITIVE_HEADERS: Final = frozenset(
    {"authorization", "proxy-authorization", "x-registry-auth", "x-registry-config"}
)
_REGISTRY_HEADERS: Final = frozenset({"x-registry-auth", "x-registry-config"})
DEFAULT_KEEP_ENV: Final = frozenset({"PATH", "HOME", "HOSTNAME", "TERM"})
#: Keys of a ``POST /auth`` body (and of auth configs) that hold credentials.
AUTH_SECRET_KEYS: Final = frozenset({"password", "auth", "identitytoken", "registrytoken"})
MIN_SECRET_LENGTH: Final = 4

_AUTH_PATH = re.compile(r"^(?:/v\d+\.\d+)?/auth$")
_PLACEHOLDER = re.compile(r"<redacted(?::[^>]*)?>")
_MASK = re.compile(r"<[\w#.-]*\**>|\*+")


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
        self._taken: set[bytes] = set()  # the masks in use, so that each one restores one form
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
        self._add_masks(value, lambda index: (f"<secret-{index}", f"<{index}"))

    def _add_masks(self, value: str, labels: Callable[[int], Sequence[str]]) -> None:
        """Mask every form of ``value``; ``labels(n)`` gives the mask texts to try for the
        n-th mask (each is padded with ``*`` to the form's length and closed by ``>``)."""
        known = {form for form, _ in self._masks}
        for form in secret_forms(value):
            if form not in known:
                mask = _mask(labels(len(self._masks) + 1), len(form), self._taken)
                self._taken.add(mask)
                self._masks.append((form, mask))
        self._masks.sort(key=lambda pair: -len(pair[0]))

    # -- requests (the same on record and replay) -------------------------------------------

    def text(self, value: str) -> str:
        """``value`` (a path, query value or header value) with the literal secrets masked."""
        if not self._masks:
            return value
        return self.mask(value.encode("utf-8")).decode("utf-8", "replace")

    def headers(self, headers: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        """Sensitive headers replaced by ``<redacted>``; literal secrets masked in the others.

        The passwords and tokens an ``X-Registry-Auth``/``X-Registry-Config`` header carries
        are learned as literal secrets: masked wherever else they appear from then on.
        """
        for name, value in headers:
            if name.lower() in _REGISTRY_HEADERS:
                self._learn_credentials(_json_document(_decode_text(value)))
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
                self._learn_credentials(value)
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

    def _learn_credentials(self, value: Any) -> None:
        """Add the secrets of an ``AuthConfig`` (or a ``{registry: AuthConfig}`` map) as
        literal secrets: ``password``/``identitytoken``/``registrytoken`` values, and the
        password inside a base64 ``auth``."""
        if isinstance(value, list):
            for item in value:
                self._learn_credentials(item)
            return
        if not isinstance(value, dict):
            return
        for key, item in value.items():
            name = str(key).lower()
            if isinstance(item, str) and name in AUTH_SECRET_KEYS and not is_placeholder(item):
                if name == "auth":
                    _, sep, item = _decode_text(item).decode("utf-8", "replace").partition(":")
                    if not sep:
                        continue
                if len(item.encode("utf-8")) >= MIN_SECRET_LENGTH:
                    self.add_secret(item)
            else:
                self._learn_credentials(item)

    def _request_placeholder(self, key: str, value: str) -> str:
        known = self._env.get((key, value))
        if known is not None:
            return known
        count = self._env_counts.get(key, 0) + 1
        self._env_counts[key] = count
        name = key if count == 1 else f"{key}#{count}"
        placeholder = f"<redacted:{name}>"
        self._env[(key, value)] = placeholder
        if len(value.encode("utf-8")) >= MIN_SECRET_LENGTH:
            self._add_masks(value, lambda index: (f"<{name}", f"<env-{index}", f"<e{index}"))
        return placeholder

    def _response_placeholder(self, key: str, value: str) -> str:
        return self._env.get((key, value), REDACTED)


def secret_forms(value: str) -> list[bytes]:
    """The byte forms a secret takes in traffic: raw UTF-8, JSON-escaped, URL-encoded, and the
    stretches of its base64 encodings that do not depend on the bytes around it."""
    raw = value.encode("utf-8")
    forms = [
        raw,
        msgspec.json.encode(value)[1:-1],
        urllib.parse.quote(value, safe="").encode("ascii"),
        *base64_forms(raw),
    ]
    return list(dict.fromkeys(forms))


def base64_forms(data: bytes) -> list[bytes]:
    """What ``data`` always looks like inside a longer base64 text, standard or URL-safe.

    Base64 encodes 3 bytes as 4 characters, so ``data`` starts at one of 3 offsets in a group;
    for each, the characters of the groups made of ``data``'s bytes alone are fixed. Stretches
    of fewer than 8 characters (6 bytes) are left out: they would match unrelated text.
    """
    forms: list[bytes] = []
    for offset in range(3):
        skip = (3 - offset) % 3  # bytes of ``data`` in a group shared with earlier bytes
        whole = (len(data) - skip) // 3 * 3
        if whole < 6:
            continue
        chunk = data[skip : skip + whole]
        forms += [base64.b64encode(chunk), base64.urlsafe_b64encode(chunk)]
    return list(dict.fromkeys(forms))


def is_placeholder(text: str) -> bool:
    """Whether ``text`` is (or is made of) redaction placeholders or masks."""
    return bool(text) and (
        _PLACEHOLDER.fullmatch(text) is not None or _MASK.fullmatch(text) is not None
    )


def _mask(labels: Sequence[str], length: int, taken: set[bytes]) -> bytes:
    """A mask of exactly ``length`` bytes from the first of ``labels`` that fits and is not
    ``taken``; ``*`` only when none does."""
    for label in labels:
        if len(label.encode("utf-8")) + 1 <= length:
            mask = (label + "*" * (length - len(label.encode("utf-8")) - 1) + ">").encode("utf-8")
            if mask not in taken:
                return mask
    return b"*" * length


def decode_base64(data: bytes) -> bytes | None:
    """``data`` decoded as base64 (URL-safe or standard, padding optional), or ``None``."""
    padded = data.rstrip(b"=")
    padded += b"=" * (-len(padded) % 4)
    for decode in (base64.urlsafe_b64decode, base64.standard_b64decode):
        try:
            return decode(padded)
        except (binascii.Error, ValueError):
            continue
    return None


def _decode_text(text: str) -> bytes:
    return decode_base64(text.strip().encode("ascii", "replace")) or b""


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
