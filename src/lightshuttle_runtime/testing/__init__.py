"""Record real engine traffic once, replay it offline: cassettes for tests.

A :class:`CassetteTransport` plugs into the client's one seam::

    from lightshuttle_runtime import DockerClient
    from lightshuttle_runtime.testing import CassetteTransport

    cassette = CassetteTransport("tests/cassettes/demo.json", record_mode="once",
                                 transport=DockerClient().transport)
    async with DockerClient(transport=cassette) as docker:   # saved when the client closes
        await docker.containers.list()

With pytest the plugin does the wiring (``--record-mode``, ``@pytest.mark.cassette``, the
``cassette``, ``docker_client`` and ``docker_runtime`` fixtures; see ``_plugin``)::

    @pytest.mark.anyio
    async def test_lists(docker_client):
        assert await docker_client.containers.list(all_=True) is not None

Record with ``pytest --record-mode=once``, then plain ``pytest`` replays with no engine.
``python -m lightshuttle_runtime.testing lint tests/cassettes`` fails (exit status 1) when a
cassette still holds a registry credential (``--secret VALUE`` adds literal secrets to find).

The cassette file (format version 1)
------------------------------------
One JSON document per cassette, indented, with keys in a fixed order::

    {
      "version": 1,
      "interactions": [
        {
          "request": {
            "method": "GET",
            "path": "/v1.41/containers/json",       # as sent, with its /vX.Y prefix
            "query": [["all", "1"]],                # [name, value] pairs, decoded
            "headers": [["Host", "docker"]],        # [name, value] pairs (repeats survive)
            "body": {"json": {"Image": "busybox"}}  # optional, see "bytes" below
          },
          "response": {
            "status": 200,
            "reason": "OK",                         # optional
            "headers": [["Content-Type", "application/json"]],
            "chunks": [{"t": 0.002, "json": [], "eol": "\\n"}],
            "end": "complete"                       # or "closed", or "error" + "error": {...}
          }
        },
        {"request": {...}, "error": {"exception": "ConnectError", "message": "..."}}
      ]
    }

Bytes (a request ``body``, each response chunk) are one of: ``{"text": "..."}`` (valid UTF-8),
``{"base64": "..."}``, ``{"json": <object or array>, "eol": "\\n"}`` (the compact JSON encoding
followed by ``eol``; used only when it gives the exact bytes back), or, for request bodies
only, ``{"length": N, "sha256": "<hex>"}``: request bodies over 64 KiB and archives
(``application/x-tar``...) keep only their fingerprint.

A chunk's ``t`` is its time in seconds after the response headers (0 when omitted). ``end`` says
how the body ended: ``complete``; ``closed`` (the client closed it early, as with a ``follow``
stream: on replay the chunks are played and then the stream stays open until the caller closes
or cancels it, or its read timeout passes); ``error`` (the connection broke: the chunks are
played, then ``error.exception``, an httpx exception name such as ``ReadError``, is raised). An
interaction with ``error`` instead of ``response`` failed before any answer.
``Date`` headers are not recorded. Every field but ``method``, ``path`` and ``status`` may be
omitted; unknown fields are an error (typos do not pass silently).

Matching, repeats and unplayed interactions are described in ``_matching``; redaction (what is
replaced by what, before anything is written) in :class:`Redactor`.
"""

from ._cassette import (
    BINARY_BODY_LIMIT,
    FORMAT_VERSION,
    Body,
    Cassette,
    Chunk,
    Failure,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    StreamEnd,
    load_cassette,
    save_cassette,
)
from ._errors import (
    CassetteError,
    CassetteFormatError,
    CassetteNotFoundError,
    UnmatchedRequestError,
    UnplayedInteractionsError,
)
from ._lint import Finding, lint_cassette, lint_paths
from ._matching import RequestKey, request_key, split_version
from ._redaction import DEFAULT_KEEP_ENV, REDACTED, Redactor
from ._transport import RECORD_MODES, CassetteTransport, RecordMode, TransportSource

__all__ = [
    "BINARY_BODY_LIMIT",
    "DEFAULT_KEEP_ENV",
    "FORMAT_VERSION",
    "RECORD_MODES",
    "REDACTED",
    "Body",
    "Cassette",
    "CassetteError",
    "CassetteFormatError",
    "CassetteNotFoundError",
    "CassetteTransport",
    "Chunk",
    "Failure",
    "Finding",
    "Interaction",
    "RecordMode",
    "RecordedRequest",
    "RecordedResponse",
    "Redactor",
    "RequestKey",
    "StreamEnd",
    "TransportSource",
    "UnmatchedRequestError",
    "UnplayedInteractionsError",
    "lint_cassette",
    "lint_paths",
    "load_cassette",
    "request_key",
    "save_cassette",
    "split_version",
]

# The fake engine (a scriptable HTTP server on a Unix socket) is exported when present. Its
# own ``RecordedRequest`` (a request as the fake engine received it) stays in ``_fake_engine``:
# here that name is the cassette's.
try:
    from ._fake_engine import (  # type: ignore[import-not-found,unused-ignore]
        Behaviour,
        Close,
        Echo,
        FakeEngine,
        Send,
        Sleep,
        Stall,
        bad_chunk_size,
        close_mid_body,
        close_without_answer,
        close_without_final_chunk,
        garbage,
        malformed_header,
        malformed_status_line,
        respond,
        respond_json,
        slow,
        stall,
        stall_mid_stream,
        stream_chunks,
        upgrade,
    )
except ImportError:  # pragma: no cover - until the fake engine lands
    pass
else:
    __all__ += [
        "Behaviour",
        "Close",
        "Echo",
        "FakeEngine",
        "Send",
        "Sleep",
        "Stall",
        "bad_chunk_size",
        "close_mid_body",
        "close_without_answer",
        "close_without_final_chunk",
        "garbage",
        "malformed_header",
        "malformed_status_line",
        "respond",
        "respond_json",
        "slow",
        "stall",
        "stall_mid_stream",
        "stream_chunks",
        "upgrade",
    ]
