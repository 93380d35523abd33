r"""Record real engine traffic once, replay it offline: cassettes for tests.

A :class:`CassetteTransport` plugs into the client's one seam (``transport=``)::

    from lightshuttle_runtime import DockerClient
    from lightshuttle_runtime.testing import CassetteTransport

    cassette = CassetteTransport("tests/cassettes/demo.json", record_mode="once",
                                 transport=DockerClient().transport)
    async with DockerClient(transport=cassette) as docker:  # saved when the client closes
        await docker.containers.list()

With pytest, the opt-in plugin :mod:`lightshuttle_runtime.testing.pytest_plugin` does the
wiring (``pytest_plugins = ["lightshuttle_runtime.testing.pytest_plugin"]`` in the root
``conftest.py``): ``--docker-record-mode``, ``@pytest.mark.docker_cassette(...)``, and the
``docker_cassette``, ``docker_cassette_client`` and ``docker_cassette_runtime`` fixtures::

    @pytest.mark.anyio
    async def test_lists(docker_cassette_client):
        assert await docker_cassette_client.containers.list(all_=True) is not None

``pytest --docker-record-mode=once`` records ``cassettes/test_x/test_lists.json`` next to the
test file, from the engine at ``DOCKER_HOST``; plain ``pytest`` then replays it with no engine,
on asyncio and trio.
``python -m lightshuttle_runtime.testing lint tests/cassettes`` exits with status 1 when a
cassette still holds a registry credential (``--secret VALUE``: also look for that literal).

Record modes: ``none`` (replay only; the default under pytest), ``once`` (record when the file
is missing, else replay only), ``new_episodes`` (replay what matches, record the rest and
append it), ``all`` (record everything, replacing the file).

Matching. A request matches a recorded one with the same method, path (the ``/vX.Y`` prefix
compared separately: a cassette replays only at the API version it was recorded at, and a
mismatch says so), query (order ignored; ``filters`` and other JSON parameters compared as
data; ``since``/``until`` absolute times match any absolute time) and body (JSON as data, other
bytes by sha256; an archive that matches no recorded digest takes the next request identical
but for its archive, as tars hold mtimes). Headers, scheme and host are ignored. Identical
requests get their answers in recorded order; once they are used up a ``GET``/``HEAD`` repeats
its last answer (polling loops), anything else raises :class:`UnmatchedRequestError`, which
lists the nearest recorded requests and how each differs. Recorded interactions never requested
are reported by :meth:`CassetteTransport.assert_all_played` (the plugin calls it after a test
that passed, unless ``allow_unplayed=True``); the unused answers of a ``GET`` that was played
do not count.

Redaction happens before anything is written (see :class:`Redactor`): credential headers, ``/auth``
secrets (the passwords and tokens of ``X-Registry-Auth``/``X-Registry-Config`` and of ``/auth``
bodies also masked wherever else they appear), ``Env`` values (as ``<redacted:KEY>`` in ``Env``
lists, and as same-length masks wherever else a value the test sent appears: logs, exec output,
other requests) and registered literals
(same-length masks), all restored on replay from the values the test sends. Register a secret with
:meth:`CassetteTransport.add_secret` (or the marker's ``secrets=``) before the requests that
carry it, when recording and when replaying.

The cassette file (format version 1)
------------------------------------
One JSON document per cassette, indented; short flat arrays and objects stay on one line.
Example (hand-writable; every field but ``method``, ``path`` and ``status`` may be omitted,
unknown fields are an error)::

    {
      "version": 1,
      "interactions": [
        {
          "request": {
            "method": "POST",
            "path": "/v1.41/containers/create",
            "query": [["name", "web"]],
            "headers": [["Content-Type", "application/json"]],
            "body": {"json": {"Image": "busybox:local", "Env": ["TOKEN=<redacted:TOKEN>"]}}
          },
          "response": {
            "status": 201,
            "reason": "Created",
            "headers": [["Api-Version", "1.41"], ["Content-Type", "application/json"]],
            "chunks": [{"t": 0.004, "json": {"Id": "4a08c04d", "Warnings": []}, "eol": "\n"}],
            "end": "complete"
          }
        },
        {
          "request": {"method": "GET", "path": "/_ping"},
          "error": {"exception": "ConnectError", "message": "[Errno 2] No such file"}
        }
      ]
    }

- ``path``: as sent, with its ``/vX.Y`` prefix, no query. ``query`` and ``headers``: lists of
  ``[name, value]`` pairs, decoded, in the order sent (repeated names survive).
- Bytes (a request ``body``, each response chunk) are exactly one of ``{"text": "..."}`` (valid
  UTF-8), ``{"base64": "..."}``, ``{"json": <object or array>, "eol": "\n"}`` (its compact
  encoding followed by ``eol``; recorded only when that gives the exact bytes back), or, for
  request bodies only, ``{"length": N, "sha256": "<hex>"}``: bodies over 64 KiB and archives
  (``application/x-tar``, gzip, bzip2, xz) keep only their fingerprint.
- ``chunks``: the body as it arrived, in pieces; ``t`` is seconds after the response headers
  (0 when omitted). Replay keeps the pieces (``rechunk=1`` re-splits them byte by byte;
  ``pace=1.0`` replays at the recorded times).
- ``end``: ``complete`` (the body ended); ``closed`` (the client closed it early, as with a
  ``follow`` stream: on replay the chunks are played and the stream then stays open until the
  caller closes or cancels it, or its read timeout passes); ``error`` with
  ``"error": {"exception": "ReadError", "message": "..."}`` (the connection broke: the chunks
  are played, then that httpx exception is raised).
- An interaction with ``error`` instead of ``response`` failed before any answer.
- An upgraded response (``101``: interactive exec, attach) has ``session`` instead of ``chunks``:
  both directions of the connection in the order they happened, each step
  ``{"op": "send" | "receive" | "send_eof", "t": 0.012, "data": {"text": "hi\n"}}`` (``data`` as
  bytes above; a ``send`` over 4 KiB keeps only its length and sha256; ``"failed": true`` on a
  ``send`` whose write failed). ``end`` says how the connection ended (``complete``: the engine
  ended it; ``closed``: the client closed first; ``error``). On replay each ``receive`` is given
  only once the client has sent (and half-closed) everything recorded before it, and what the
  client sends must be what was recorded (else :class:`CassetteError`).
- ``Date`` and ``X-Reference-Id`` response headers are not recorded (they change every run).
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
    SessionEvent,
    StreamEnd,
    load_cassette,
    save_cassette,
)
from ._conformance import (
    TRANSPORT_CHECKS,
    TransportCheck,
    TransportConformanceError,
    TransportFactory,
    check_transport,
)
from ._errors import (
    CassetteError,
    CassetteFormatError,
    CassetteNotFoundError,
    UnmatchedRequestError,
    UnplayedInteractionsError,
)
from ._fake_engine import (
    Behaviour,
    Close,
    Echo,
    FakeEngine,
    ReceivedRequest,
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
    "TRANSPORT_CHECKS",
    "Behaviour",
    "Body",
    "Cassette",
    "CassetteError",
    "CassetteFormatError",
    "CassetteNotFoundError",
    "CassetteTransport",
    "Chunk",
    "Close",
    "Echo",
    "Failure",
    "FakeEngine",
    "Finding",
    "Interaction",
    "ReceivedRequest",
    "RecordMode",
    "RecordedRequest",
    "RecordedResponse",
    "Redactor",
    "RequestKey",
    "Send",
    "SessionEvent",
    "Sleep",
    "Stall",
    "StreamEnd",
    "TransportCheck",
    "TransportConformanceError",
    "TransportFactory",
    "TransportSource",
    "UnmatchedRequestError",
    "UnplayedInteractionsError",
    "bad_chunk_size",
    "check_transport",
    "close_mid_body",
    "close_without_answer",
    "close_without_final_chunk",
    "garbage",
    "lint_cassette",
    "lint_paths",
    "load_cassette",
    "malformed_header",
    "malformed_status_line",
    "request_key",
    "respond",
    "respond_json",
    "save_cassette",
    "slow",
    "split_version",
    "stall",
    "stall_mid_stream",
    "stream_chunks",
    "upgrade",
]
