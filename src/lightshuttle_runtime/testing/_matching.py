"""Which recorded interaction answers a request.

A request's key is its method, its path without the ``/vX.Y`` prefix, the API version of that
prefix, its canonical query and a fingerprint of its body (all after redaction):

- query parameters are compared as a multiset of pairs (order ignored); JSON-valued parameters
  (``filters``, ``labels``, ``buildargs``...) are compared as data; ``filters`` lists as sets,
  and the ``{"label": {"a=b": true}}`` form equals ``{"label": ["a=b"]}``;
- ``since``/``until`` holding an absolute UNIX time (after 1973) match any such time: a test
  that asks for "logs since now" sends a different number on every run;
- a JSON body is compared as canonical JSON (keys sorted); any other body by its sha256;
  an archive (kept as length + sha256 only) that matches no recorded digest takes the next
  recorded request identical but for its archive (tar headers hold mtimes).

Identical requests get their recorded answers in recorded order; once they are used up, a
``GET``/``HEAD`` keeps getting the last one (polling loops may poll more often on replay), any
other method fails. Symmetrically, the unused answers of a ``GET``/``HEAD`` that was played at
least once are not reported as unplayed (a loop may also poll less often).
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

import msgspec

from ._cassette import Body, Interaction, RecordedRequest

__all__ = ["Player", "RequestKey", "body_fingerprint", "request_key", "split_version"]

_VERSION_PREFIX = re.compile(r"^/v(\d+\.\d+)(?=/|$)")
_JSON_PARAMS: Final = frozenset({"filters", "labels", "buildargs", "cachefrom", "outputs"})
_TIME_PARAMS: Final = frozenset({"since", "until"})
_ABSOLUTE_TIME: Final = 1e8  # seconds since 1970: anything later is "now-ish", not an offset
_REPEATABLE: Final = frozenset({"GET", "HEAD"})
_NEAREST: Final = 3


@dataclass(frozen=True, slots=True)
class RequestKey:
    """What two requests must share to match.

    Attributes:
        method: ``GET``, ``POST``...
        path: the path without its ``/vX.Y`` prefix.
        api_version: the prefix's version (``"1.41"``), ``None`` for unversioned paths.
        query: the canonical query, sorted ``(name, value)`` pairs.
        body: the body's fingerprint, ``None`` when there is no body.
        opaque: the body is kept as length + sha256 only (an archive, or over 64 KiB).
    """

    method: str
    path: str
    api_version: str | None
    query: tuple[tuple[str, str], ...]
    body: str | None
    opaque: bool = field(default=False, compare=False)

    def describe(self) -> str:
        version = f"/v{self.api_version}" if self.api_version else ""
        query = "&".join(f"{k}={v}" for k, v in self.query)
        return f"{self.method} {version}{self.path}" + (f"?{query}" if query else "")


def split_version(path: str) -> tuple[str | None, str]:
    """``"/v1.41/containers/json"`` -> ``("1.41", "/containers/json")``."""
    found = _VERSION_PREFIX.match(path)
    if found is None:
        return None, path
    return found.group(1), path[found.end() :] or "/"


def request_key(request: RecordedRequest) -> RequestKey:
    """The matching key of a (redacted) request."""
    version, path = split_version(request.path)
    return RequestKey(
        method=request.method.upper(),
        path=path,
        api_version=version,
        query=canonical_query(request.query),
        body=body_fingerprint(request.body),
        opaque=request.body is not None and request.body.is_digest,
    )


def canonical_query(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Query pairs sorted, JSON-valued parameters canonicalized, absolute times blurred."""
    return tuple(sorted((name, _canonical_param(name, value)) for name, value in pairs))


def body_fingerprint(body: Body | None) -> str | None:
    """``"json:<canonical JSON>"``, ``"sha256:<hex>"``, or ``None`` for no (or an empty) body."""
    if body is None:
        return None
    if body.sha256 is not None:
        return f"sha256:{body.sha256}"
    data = body.to_bytes()
    if not data:
        return None
    if data.lstrip()[:1] in (b"{", b"["):
        try:
            return "json:" + _canonical_json(msgspec.json.decode(data))
        except msgspec.DecodeError:
            pass
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def _canonical_param(name: str, value: str) -> str:
    if name in _TIME_PARAMS:
        try:
            if float(value) >= _ABSOLUTE_TIME:
                return "<absolute time>"
        except ValueError:
            pass
        return value
    if name not in _JSON_PARAMS:
        return value
    try:
        data = msgspec.json.decode(value)
    except msgspec.DecodeError:
        return value
    if name == "filters" and isinstance(data, dict):
        data = {key: _filter_values(item) for key, item in data.items()}
    return _canonical_json(data)


def _filter_values(item: Any) -> Any:
    if isinstance(item, dict):
        return sorted(str(key) for key, on in item.items() if on)
    if isinstance(item, list):
        return sorted(str(value) for value in item)
    return item


def _canonical_json(value: Any) -> str:
    return msgspec.json.encode(value, order="sorted").decode("utf-8")


@dataclass(slots=True)
class _Slot:
    index: int
    interaction: Interaction
    key: RequestKey
    played: bool = False


@dataclass
class Player:
    """Hands out recorded interactions to requests, in recorded order per key.

    An opaque body (an archive) that matches no recorded digest falls back to the next recorded
    request that differs only by its opaque body: a tar holds mtimes, so the same upload rarely
    has the same sha256 twice.
    """

    interactions: Sequence[Interaction]
    repeat_reads: bool = True
    _slots: list[_Slot] = field(init=False)
    _queues: dict[RequestKey, deque[_Slot]] = field(init=False)
    _opaque: dict[RequestKey, deque[_Slot]] = field(init=False)
    _last: dict[RequestKey, _Slot] = field(init=False)

    def __post_init__(self) -> None:
        self._slots = [
            _Slot(index, interaction, request_key(interaction.request))
            for index, interaction in enumerate(self.interactions)
        ]
        self._queues, self._opaque, self._last = {}, {}, {}
        for slot in self._slots:
            self._queues.setdefault(slot.key, deque()).append(slot)
            if slot.key.opaque:
                self._opaque.setdefault(replace(slot.key, body=None), deque()).append(slot)

    def take(self, key: RequestKey, *, allow_repeat: bool = True) -> Interaction | None:
        """The next answer for ``key``, or ``None`` when there is none (see :meth:`explain`)."""
        slot = _next_unplayed(self._queues.get(key))
        if slot is None and key.opaque:
            slot = _next_unplayed(self._opaque.get(replace(key, body=None)))
        if slot is not None:
            slot.played = True
            self._last[key] = slot
            return slot.interaction
        last = self._last.get(key)
        if allow_repeat and self.repeat_reads and last is not None and key.method in _REPEATABLE:
            return last.interaction
        return None

    def unplayed(self) -> list[tuple[int, Interaction]]:
        """``(index, interaction)`` of every interaction not played yet.

        With ``repeat_reads``, the leftover answers of a ``GET``/``HEAD`` that was played at least
        once do not count: a polling loop may need fewer polls on replay (an event that came
        after a few seconds live comes at once) just as it may need more.
        """
        return [
            (slot.index, slot.interaction)
            for slot in self._slots
            if not slot.played and not self._polled(slot.key)
        ]

    def _polled(self, key: RequestKey) -> bool:
        return self.repeat_reads and key.method in _REPEATABLE and key in self._last

    def explain(self, key: RequestKey) -> tuple[str, list[str]]:
        """Why ``key`` has no answer: a sentence, and the nearest recorded requests with how
        each differs."""
        if key in self._last:
            count = sum(1 for slot in self._slots if slot.key == key)
            return (
                f"all {count} recorded answer(s) to this request have been played already "
                "(only GET and HEAD repeat their last answer)",
                [],
            )
        ranked = sorted(self._slots, key=lambda slot: _distance(key, slot.key))
        nearest: list[str] = []
        seen: set[RequestKey] = set()
        for slot in ranked:
            if slot.key in seen:
                continue
            seen.add(slot.key)
            differences = "; ".join(differences_between(key, slot.key))
            nearest.append(f"#{slot.index} {slot.key.describe()} ({differences})")
            if len(nearest) == _NEAREST:
                break
        if ranked and _only_version_differs(key, ranked[0].key):
            recorded = ranked[0].key.api_version
            return (
                f"the cassette was recorded at API {recorded or 'unversioned'} but this request "
                f"uses {key.api_version or 'no version'}: re-record the cassette, or pin the "
                f"client's api_version to {recorded!r}",
                nearest,
            )
        if not self._slots:
            return "the cassette holds no interactions", []
        return "no recorded request matches", nearest


def _next_unplayed(queue: deque[_Slot] | None) -> _Slot | None:
    while queue:
        slot = queue.popleft()
        if not slot.played:
            return slot
    return None


def differences_between(live: RequestKey, recorded: RequestKey) -> list[str]:
    """What differs between a live request and a recorded one, in words."""
    out: list[str] = []
    if live.method != recorded.method:
        out.append(f"method {live.method} here, {recorded.method} recorded")
    if live.path != recorded.path:
        out.append(f"path {live.path} here, {recorded.path} recorded")
    if live.api_version != recorded.api_version:
        out.append(f"API version {live.api_version} here, {recorded.api_version} recorded")
    out.extend(_query_differences(live.query, recorded.query))
    if live.body != recorded.body:
        out.append(_body_difference(live.body, recorded.body))
    return out or ["identical"]


def _body_difference(live: str | None, recorded: str | None) -> str:
    if live and recorded and live.startswith("json:") and recorded.startswith("json:"):
        here = msgspec.json.decode(live[5:])
        there = msgspec.json.decode(recorded[5:])
        if isinstance(here, dict) and isinstance(there, dict):
            keys = sorted(k for k in here.keys() | there.keys() if here.get(k) != there.get(k))
            shown = ", ".join(
                f"{k}: {_short(_json_text(here, k), 60)} here, "
                f"{_short(_json_text(there, k), 60)} recorded"
                for k in keys[:4]
            )
            return f"body fields differ: {shown}" + (" ..." if len(keys) > 4 else "")
    return f"body {_short(live)} here, {_short(recorded)} recorded"


def _json_text(document: dict[str, Any], key: str) -> str | None:
    return _canonical_json(document[key]) if key in document else "(absent)"


def _query_differences(
    live: tuple[tuple[str, str], ...], recorded: tuple[tuple[str, str], ...]
) -> list[str]:
    out: list[str] = []
    names = sorted({name for name, _ in live} | {name for name, _ in recorded})
    for name in names:
        here = [value for key, value in live if key == name]
        there = [value for key, value in recorded if key == name]
        if here != there:
            out.append(f"query {name}={_values(here)} here, {_values(there)} recorded")
    return out


def _values(values: list[str]) -> str:
    if not values:
        return "(absent)"
    return ",".join(values) if len(values) > 1 else values[0]


def _short(fingerprint: str | None, limit: int = 120) -> str:
    if fingerprint is None:
        return "(none)"
    return fingerprint if len(fingerprint) <= limit else fingerprint[:limit] + "..."


def _only_version_differs(live: RequestKey, recorded: RequestKey) -> bool:
    return live.api_version != recorded.api_version and (
        live.method,
        live.path,
        live.query,
        live.body,
    ) == (recorded.method, recorded.path, recorded.query, recorded.body)


def _distance(live: RequestKey, recorded: RequestKey) -> tuple[int, int, int, int, int]:
    live_parts = live.path.strip("/").split("/")
    recorded_parts = recorded.path.strip("/").split("/")
    same_parts = sum(1 for a, b in zip(live_parts, recorded_parts, strict=False) if a == b)
    path_distance = max(len(live_parts), len(recorded_parts)) - same_parts
    return (
        path_distance,
        int(live.method != recorded.method),
        len(set(live.query) ^ set(recorded.query)),
        int(live.body != recorded.body),
        int(live.api_version != recorded.api_version),
    )
