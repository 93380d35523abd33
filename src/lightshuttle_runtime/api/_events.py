"""``GET /events``: the engine's event stream."""

from __future__ import annotations

from datetime import datetime

import httpx

from .._session import EngineSession, QueryValue
from .._stream import EngineStream, open_stream
from .._streams import JSONLinesDecoder
from .._validate import Filters, normalize_filters, unix_time
from ..models import EventMessage

__all__ = ["EventsAPI"]

# Engines before API 1.52 ignore Accept and send newline-delimited JSON labelled
# application/json; 1.52+ choose among these. The decoder reads every form.
_ACCEPT = "application/x-ndjson, application/jsonl;q=0.9, application/json-seq;q=0.8"


class EventsAPI:
    """Engine events. Reached as ``client.events``."""

    def __init__(self, session: EngineSession) -> None:
        self._session = session

    def stream(
        self,
        *,
        since: datetime | float | None = None,
        until: datetime | float | None = None,
        filters: Filters | None = None,
    ) -> EngineStream[EventMessage]:
        """``GET /events``: an endless stream of :class:`EventMessage` (no read timeout).

        Use as ``async with client.events.stream(filters={"type": ["container"]}) as events:``.
        The subscription is in place once the ``async with`` block is entered.

        Args:
            since, until: UNIX time in seconds (float) or aware datetimes. With ``until`` in
                the past, Docker sends the past events and ends the stream (Podman sends none).
            filters: e.g. ``{"type": ["container"], "container": [id], "event": ["die"]}``.

        Raises:
            InvalidArgumentError: malformed filters (before any request).
            BadRequestError: the engine rejected ``since``/``until``/``filters``.
            StreamInterruptedError: the engine went away while streaming.
            DecodeError: an event was not JSON.
        """
        params: dict[str, QueryValue] = {
            "since": unix_time(since),
            "until": unix_time(until),
            "filters": normalize_filters(filters),
        }

        def decoder_for(_response: httpx.Response) -> JSONLinesDecoder[EventMessage]:
            return JSONLinesDecoder(EventMessage)

        return open_stream(
            self._session, "GET", "/events", decoder_for, params=params, headers={"Accept": _ACCEPT}
        )
