"""A check that no cassette still holds a credential, an ``Env`` value or a registered secret.

What it finds without being told: registry credentials (headers, ``/auth`` bodies, base64 auth
blobs), ``Env`` lists with values in clear (keys in ``keep_env`` aside), and ``KEY=value`` text
(``env`` output, a log line) for a key whose ``Env`` value the cassette redacted. A redacted
value that appears alone (``echo $TOKEN``) cannot be recognised: pass it with ``secrets``
(``--secret`` / ``--secrets-env``), and it is found in any form (raw, JSON-escaped,
URL-encoded, base64), in any body, framed or not, whether the file keeps it as text or base64.

Run it as ``python -m lightshuttle_runtime.testing lint tests/cassettes`` (exit status 1 when
something is found) or call :func:`lint_paths` from a test.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import msgspec

from ._cassette import Cassette, Interaction
from ._errors import CassetteError
from ._redaction import (
    AUTH_SECRET_KEYS,
    DEFAULT_KEEP_ENV,
    MIN_SECRET_LENGTH,
    REDACTED,
    SENSITIVE_HEADERS,
    decode_base64,
    is_placeholder,
    secret_forms,
)

__all__ = ["Finding", "lint_cassette", "lint_paths"]

_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/_-]{16,}={0,2}")
_BEARER = re.compile(r"^\s*bearer\s+\S", re.IGNORECASE)
_BASIC = re.compile(r"^\s*basic\s+(\S+)", re.IGNORECASE)
#: Credential fields whose mere (non-placeholder) value is a finding; ``auth`` only when it
#: decodes to ``user:password``.
_TOKEN_KEYS: Final = AUTH_SECRET_KEYS - {"auth"}


@dataclass(frozen=True, slots=True)
class Finding:
    """Something that must not be in a cassette.

    Attributes:
        path: the cassette file.
        where: the place in it (``"interaction #2 request header X-Registry-Auth"``).
        what: what was found there.
    """

    path: str
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.path}: {self.where}: {self.what}"


def lint_paths(
    paths: Iterable[str | os.PathLike[str]],
    *,
    secrets: Iterable[str] = (),
    keep_env: Iterable[str] = DEFAULT_KEEP_ENV,
) -> tuple[list[Finding], int]:
    """Check every cassette (``*.json``) under ``paths`` (files or directories).

    Returns:
        The findings, and the number of cassette files checked.
    """
    wanted = list(secrets)
    kept = frozenset(keep_env)
    findings: list[Finding] = []
    count = 0
    for file in _cassette_files(paths):
        count += 1
        findings.extend(lint_cassette(file, secrets=wanted, keep_env=kept))
    return findings, count


def lint_cassette(
    path: str | os.PathLike[str],
    *,
    secrets: Iterable[str] = (),
    keep_env: Iterable[str] = DEFAULT_KEEP_ENV,
) -> list[Finding]:
    """Check one cassette file (see the module docstring for what is found).

    Args:
        secrets: literals to look for in any of their forms.
        keep_env: ``Env`` names whose values may stay in clear (the :class:`Redactor`'s
            ``keep_env``).

    An unreadable or invalid file is a finding too.
    """
    where = os.fspath(path)
    try:
        raw = Path(where).read_bytes()
        cassette = Cassette.from_json(raw, path=where)
    except (OSError, CassetteError) as exc:
        return [Finding(where, "file", f"cannot be checked: {exc}")]
    forms = [form for secret in secrets for form in secret_forms(secret)]
    blobs = [
        blob
        for index, interaction in enumerate(cassette.interactions)
        for blob in _blobs(index, interaction)
    ]
    checks = _Checks(forms, frozenset(keep_env), _redacted_keys(blob for _, blob, _ in blobs))
    findings = [
        Finding(where, place, what)
        for place, blob, header in blobs
        for what in checks(blob, header)
    ]
    if forms and not findings and any(form in raw for form in forms):
        findings.append(Finding(where, "file", "contains a registered secret"))
    return findings


def _cassette_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    for item in paths:
        path = Path(item)
        if path.is_dir():
            yield from sorted(path.rglob("*.json"))
        else:
            yield path


def _blobs(index: int, interaction: Interaction) -> Iterator[tuple[str, bytes, str | None]]:
    """``(where, bytes, header name or None)`` for every place a secret could hide."""
    prefix = f"interaction #{index}"
    request = interaction.request
    yield f"{prefix} request path", request.path.encode(), None
    for name, value in request.query:
        yield f"{prefix} request query {name}", value.encode(), None
    for name, value in request.headers:
        yield f"{prefix} request header {name}", value.encode(), name
    if request.body is not None and not request.body.is_digest:
        yield f"{prefix} request body", request.body.to_bytes(), None
    response = interaction.response
    if response is not None:
        for name, value in response.headers:
            yield f"{prefix} response header {name}", value.encode(), name
        yield f"{prefix} response body", response.body(), None
        if response.session is not None:
            yield f"{prefix} upgraded connection, sent", response.sent(), None
            yield f"{prefix} upgraded connection, received", response.received(), None
    failure = interaction.error or (response.error if response else None)
    if failure is not None:
        yield f"{prefix} error", failure.message.encode(), None


class _Checks:
    """Every check of one blob, given what the cassette as a whole tells."""

    def __init__(self, forms: list[bytes], keep_env: frozenset[str], redacted: set[str]) -> None:
        self.forms = forms
        self.keep_env = keep_env
        names = sorted((re.escape(key.encode()) for key in redacted), key=len, reverse=True)
        self.assignment = (
            re.compile(rb"(?<![\w.-])(" + b"|".join(names) + rb")=([^\s\"'\\,;]+)")
            if names
            else None
        )

    def __call__(self, blob: bytes, header: str | None) -> Iterator[str]:
        yield from _problems(blob, header, self.forms)
        document = _json(blob)
        if document is not None:
            keys = _clear_env(document, self.keep_env)
            if keys:
                yield f"holds Env values in clear ({', '.join(keys)})"
        if self.assignment is not None:
            for found in self.assignment.finditer(blob):
                value = found[2].decode("utf-8", "replace")
                if len(found[2]) >= MIN_SECRET_LENGTH and not _is_masked(value):
                    yield f"holds the value of the redacted Env {found[1].decode()} in clear"


def _redacted_keys(blobs: Iterable[bytes]) -> set[str]:
    """The Env names whose values the cassette redacted somewhere (``KEY=<redacted...>``)."""
    return {
        found.decode()
        for blob in blobs
        for found in re.findall(rb"([A-Za-z_][\w.-]*)=<redacted[:>]", blob)
    }


def _clear_env(value: Any, keep: frozenset[str]) -> list[str]:
    """The keys of ``Env`` entries in clear anywhere in a JSON document."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Env" and isinstance(item, list):
                for entry in item:
                    name, sep, text = str(entry).partition("=")
                    if sep and text and name not in keep and not _is_masked(text):
                        found.append(name)
            else:
                found.extend(_clear_env(item, keep))
    elif isinstance(value, list):
        for item in value:
            found.extend(_clear_env(item, keep))
    return found


def _is_masked(text: str) -> bool:
    """A placeholder, a mask, or a shell reference (``$TOKEN``) rather than a value."""
    return text.startswith("$") or is_placeholder(text)


def _problems(blob: bytes, header: str | None, forms: list[bytes]) -> Iterator[str]:
    for number, form in enumerate(forms, 1):
        if form in blob:
            yield f"contains a registered secret (form {number})"
    text = blob.decode("utf-8", "replace")
    if header is not None and header.lower() in SENSITIVE_HEADERS and text != REDACTED:
        yield from _header_problems(text)
    document = _json(blob)
    if document is not None:
        keys = _credential_keys(document)
        if keys:
            yield f"holds credentials in clear ({', '.join(keys)})"
    for found in _BASE64_RUN.finditer(blob):
        decoded = decode_base64(found.group())
        inner = _json(decoded) if decoded is not None else None
        keys = _credential_keys(inner) if inner is not None else []
        if keys:
            yield f"holds base64-encoded registry credentials ({', '.join(keys)})"


def _header_problems(value: str) -> Iterator[str]:
    if _BEARER.match(value):
        yield "holds a bearer token"
    basic = _BASIC.match(value)
    if basic:
        decoded = decode_base64(basic.group(1).encode())
        if decoded is not None and b":" in decoded:
            yield "holds HTTP basic credentials (user:password)"


def _credential_keys(value: Any) -> list[str]:
    """The credential fields with a real (non-placeholder) value anywhere in ``value``."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            name = str(key).lower()
            if isinstance(item, str):
                if _is_credential(name, item):
                    found.append(str(key))
                continue
            found.extend(_credential_keys(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_credential_keys(item))
    return found


def _is_credential(name: str, value: str) -> bool:
    if not value or is_placeholder(value):
        return False
    return name in _TOKEN_KEYS or (name == "auth" and _is_user_password(value))


def _is_user_password(value: str) -> bool:
    decoded = decode_base64(value.encode())
    return decoded is not None and b":" in decoded


def _json(data: bytes) -> Any:
    if data.lstrip()[:1] not in (b"{", b"["):
        return None
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError:
        return None
