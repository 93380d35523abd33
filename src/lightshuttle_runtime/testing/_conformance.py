"""A conformance suite for transports: one body of behaviours any transport must show.

In the spirit of ``trio.testing.check_one_way_stream``: give :func:`check_transport` a
factory that builds your transport for a Unix socket path, and it runs every behaviour of
:data:`TRANSPORT_CHECKS` against a scripted :class:`~lightshuttle_runtime.testing.FakeEngine`,
through a :class:`~lightshuttle_runtime.DockerClient` using that transport::

    import httpx
    from lightshuttle_runtime.testing import check_transport

    await check_transport(lambda path: httpx.AsyncHTTPTransport(uds=path))

Each behaviour asserts what the client promises (typed errors, items yielded, connections
closed, nothing leaked), never one transport's wording. With pytest, parametrize over the
checks to get one test each::

    @pytest.mark.anyio
    @pytest.mark.parametrize("check", TRANSPORT_CHECKS, ids=str)
    async def test_my_transport(check):
        await check(make_my_transport)

A check that cannot apply to a transport (a cassette replay has no connection to leave in a
pool) is left out with ``checks=``; :attr:`TransportCheck.replay` says whether a behaviour
applies to a replayed cassette, and ``engine_observed=False`` skips what only a transport
that talks to the engine can show (what the engine received, its connections closing).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import shutil
import struct
import tempfile
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

from .._client import DockerClient
from .._errors import (
    ConflictError,
    DockerConnectionError,
    DockerError,
    DockerTimeout,
    NotFoundError,
    ServerError,
    SocketNotFoundError,
    StreamDesyncError,
    StreamError,
    StreamInterruptedError,
    StreamTruncatedError,
)
from ._fake_engine import (
    Behaviour,
    Close,
    FakeEngine,
    ReceivedRequest,
    Send,
    Sleep,
    Stall,
    bad_chunk_size,
    close_mid_body,
    close_without_answer,
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

__all__ = [
    "TRANSPORT_CHECKS",
    "TransportCheck",
    "TransportConformanceError",
    "TransportFactory",
    "check_transport",
]

TransportFactory = Callable[[str], httpx.AsyncBaseTransport]
"""Builds the transport under test for a Unix socket path (called once per client)."""

#: The API version every check pins (no ``GET /_ping`` first).
_API = "1.41"
_PREFIX = f"/v{_API}"
_ID = "c0ffee"
#: How long a fault may take to be reported, beyond what the fault itself scripts (seconds).
_BOUND = 2.0


class TransportConformanceError(AssertionError):
    """Raised by :func:`check_transport`: the behaviours the transport failed, by name.

    Attributes:
        failures: ``(check name, the exception it raised)`` pairs.
    """

    def __init__(self, failures: Sequence[tuple[str, BaseException]]) -> None:
        self.failures = list(failures)
        lines = [f"{name}: {type(exc).__name__}: {exc}" for name, exc in self.failures]
        super().__init__(
            f"{len(self.failures)} transport behaviour(s) failed:\n  " + "\n  ".join(lines)
        )


class _Bench:
    """One check's world: a FakeEngine on a fresh socket, clients on the transport under test."""

    def __init__(
        self, make_transport: TransportFactory, folder: str, engine_observed: bool
    ) -> None:
        self.make_transport = make_transport
        self.path = os.path.join(folder, "engine.sock")
        self.engine_observed = engine_observed
        self.routes: dict[str, Callable[[ReceivedRequest], Behaviour]] = {}
        self.engine = FakeEngine(self.path, self._answer)

    def _answer(self, request: ReceivedRequest) -> Behaviour:
        for suffix, route in self.routes.items():
            if request.path.endswith(suffix):
                return route(request)
        if request.path == f"{_PREFIX}/containers/{_ID}/json":
            return respond_json(_inspect_body())
        return respond_json({"message": f"not scripted: {request.target}"}, status=404)

    def client(self, **options: Any) -> DockerClient:
        """A client on the engine through a new transport from the factory."""
        options.setdefault("api_version", _API)
        path = options.pop("socket_path", self.path)
        return DockerClient(f"unix://{path}", transport=self.make_transport(path), **options)

    async def settled(self) -> None:
        """The engine has seen every connection close (skipped when it is not observed)."""
        if self.engine_observed:
            await self.engine.wait_connections_closed(_BOUND)


Scenario = Callable[[_Bench], Awaitable[None]]


@dataclass(frozen=True)
class TransportCheck:
    """One behaviour every transport must show.

    Call it (``await check(make_transport)``) to run it: it starts a FakeEngine on a fresh
    socket in a temporary directory, runs the scenario through ``DockerClient(transport=
    make_transport(path))``, and then checks that nothing leaked (no ResourceWarning, no file
    descriptor left open, every engine connection closed once the client is).

    Attributes:
        name: a short identifier (a pytest id).
        description: what the behaviour is, in a sentence.
        replay: whether it applies to a replayed cassette (a behaviour about connections,
            timing or upgrades does not).
    """

    name: str
    description: str
    scenario: Scenario
    replay: bool = True

    def __str__(self) -> str:
        return self.name

    async def __call__(
        self, make_transport: TransportFactory, *, engine_observed: bool = True
    ) -> None:
        """Run the behaviour against transports from ``make_transport``.

        Args:
            engine_observed: the transport talks to the engine (False for a cassette
                replay: what the engine received is then not checked).

        Raises:
            AssertionError: the transport does not show the behaviour (or leaked).
            Exception: anything the scenario did not expect, as raised.
        """
        folder = tempfile.mkdtemp(prefix="ls-conf-")  # short: socket paths are ~100 bytes
        try:
            with _no_leaks():
                bench = _Bench(make_transport, folder, engine_observed)
                async with bench.engine:
                    await self.scenario(bench)
                    await bench.settled()
        finally:
            shutil.rmtree(folder, ignore_errors=True)


async def check_transport(
    make_transport: TransportFactory,
    *,
    checks: Iterable[TransportCheck] | None = None,
    engine_observed: bool = True,
) -> None:
    """Run every behaviour of ``checks`` (default: all of :data:`TRANSPORT_CHECKS`).

    Args:
        make_transport: builds the transport under test for a Unix socket path.
        checks: the behaviours to run (e.g. ``[c for c in TRANSPORT_CHECKS if c.replay]``).
        engine_observed: as for :meth:`TransportCheck.__call__`.

    Raises:
        TransportConformanceError: one or more behaviours failed; all were run first.
    """
    failures: list[tuple[str, BaseException]] = []
    for check in TRANSPORT_CHECKS if checks is None else checks:
        try:
            await check(make_transport, engine_observed=engine_observed)
        except Exception as exc:
            failures.append((check.name, exc))
    if failures:
        raise TransportConformanceError(failures)


# -- leak detection ----------------------------------------------------------------------------


def _open_fds() -> int | None:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:  # not Linux: file descriptors are not counted
        return None


@contextlib.contextmanager
def _no_leaks() -> Iterator[None]:
    gc.collect()
    before = _open_fds()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield
        gc.collect()
    leaked = [w for w in caught if issubclass(w.category, ResourceWarning)]
    if leaked:
        raise AssertionError(f"ResourceWarning: {leaked[0].message}")
    after = _open_fds()
    if before is not None and after is not None and after > before:
        raise AssertionError(f"{after - before} file descriptor(s) left open")
    for w in caught:  # let other warnings through as they were
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


# -- scripted pieces ---------------------------------------------------------------------------


def _inspect_body(container: str = _ID) -> dict[str, Any]:
    return {"Id": container, "Name": "/fake", "State": {"Status": "running", "Running": True}}


def _frame(stream: int, data: bytes) -> bytes:
    return struct.pack(">BxxxI", stream, len(data)) + data


def _event(action: str) -> bytes:
    record = {"Type": "container", "Action": action, "Actor": {"ID": _ID}, "time": 1}
    return json.dumps(record).encode() + b"\n"


_FRAMES = [_frame(1, b"one\n"), _frame(2, b"two\n"), _frame(1, b"three\n")]
_DATA = [(1, b"one\n"), (2, b"two\n"), (1, b"three\n")]
_LOGS = f"/containers/{_ID}/logs"
_INSPECT = f"{_PREFIX}/containers/{_ID}/json"
_CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nTransfer-Encoding: chunked\r\n\r\n"


def _cut_after(chunks: Sequence[bytes], pause: float = 0.1) -> Behaviour:
    return stream_chunks(chunks, final=False).then(Sleep(pause), Close())


async def _inspect_works(docker: DockerClient) -> None:
    with anyio.fail_after(_BOUND):
        assert (await docker.containers.inspect(_ID)).id == _ID, "the next call failed"


async def _drain_logs(docker: DockerClient) -> tuple[list[tuple[int, bytes]], BaseException]:
    """Read a follow logs stream to its error; the frames and the error."""
    frames: list[tuple[int, bytes]] = []
    with anyio.fail_after(_BOUND + 1):
        try:
            async with docker.containers.logs(_ID, tty=False, follow=True) as stream:
                async for item in stream:
                    frames.append((item.stream, item.data))
        except DockerError as exc:
            return frames, exc
    raise AssertionError(f"the stream ended without an error after {len(frames)} frame(s)")


def _expect(error: BaseException, cls: type[BaseException], *, path: str | None = None) -> None:
    assert isinstance(error, cls), f"expected {cls.__name__}, got {type(error).__name__}: {error}"
    if path is not None:
        got = getattr(error, "path", None)
        assert got == path, f"{cls.__name__} names the path {got!r}, not the one sent {path!r}"


def _expect_interrupted(error: BaseException) -> None:
    _expect(error, StreamInterruptedError, path=f"{_PREFIX}{_LOGS}")


# -- ordinary requests -------------------------------------------------------------------------


async def _ordinary_request(bench: _Bench) -> None:
    async with bench.client() as docker:
        found = await docker.containers.inspect(_ID)
        assert found.id == _ID
        await _inspect_works(docker)
    if bench.engine_observed:
        first = bench.engine.requests[0]
        assert (first.method, first.target) == ("GET", _INSPECT), first
        assert len(bench.engine.requests) == 2


async def _request_body(bench: _Bench) -> None:
    body = json.dumps({"Image": "busybox", "Cmd": ["true"]}).encode()
    bench.routes["/containers/create"] = lambda _r: respond_json(
        {"Id": _ID, "Warnings": []}, status=201
    )
    async with bench.client() as docker:
        response = await docker.request(
            "POST", "/containers/create", body=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 201
        assert response.json()["Id"] == _ID
    if bench.engine_observed:
        received = bench.engine.requests[0]
        assert received.body == body
        assert received.header("content-length") == str(len(body))


async def _streamed_request_body(bench: _Bench) -> None:
    pieces = [b"hello ", b"", b"streamed ", b"world" * 1000]

    async def body() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    bench.routes["/build"] = lambda _r: respond_json({"stream": "done"})
    async with bench.client() as docker:
        request = httpx.Request(
            "POST",
            f"http://docker{_PREFIX}/build",
            content=body(),
            extensions={"timeout": {"connect": 5.0, "read": 5.0, "write": 5.0, "pool": 5.0}},
        )
        with anyio.fail_after(_BOUND):
            response = await docker.transport.handle_async_request(request)
            try:
                await response.aread()
            finally:
                await response.aclose()
        assert response.status_code == 200
        assert json.loads(response.content) == {"stream": "done"}
    if bench.engine_observed:
        assert bench.engine.requests[0].body == b"".join(pieces)
        assert bench.engine.protocol_errors == []


async def _large_body(bench: _Bench) -> None:
    blob = bytes(range(256)) * (3 * 4096) + b"tail"  # the same on a replay
    bench.routes["/blob"] = lambda _r: respond(200, blob)
    bench.routes["/chunked-blob"] = lambda _r: stream_chunks(
        [blob[i : i + 10_000] for i in range(0, len(blob), 10_000)]
    )
    async with bench.client() as docker:
        with anyio.fail_after(10):
            assert (await docker.request("GET", "/blob")).content == blob
            assert (await docker.request("GET", "/chunked-blob")).content == blob


async def _bodiless_answers(bench: _Bench) -> None:
    bench.routes["/start"] = lambda _r: respond(204)
    bench.routes["/stop"] = lambda _r: respond(304)
    head = Behaviour((Send(b"HTTP/1.1 200 OK\r\nContent-Length: 85\r\n\r\n"),))
    bench.routes["/head"] = lambda _r: head
    async with bench.client() as docker:
        await docker.containers.start(_ID)
        await docker.containers.stop(_ID)  # 304: already stopped, not an error
        response = await docker.request("HEAD", "/head")
        assert response.status_code == 200
        assert response.content == b""
        await _inspect_works(docker)


async def _error_statuses(bench: _Bench) -> None:
    answers = {
        "missing": (404, NotFoundError),
        "busy": (409, ConflictError),
        "broken": (500, ServerError),
    }

    def answer(request: ReceivedRequest) -> Behaviour:
        name = request.path.split("/")[-2]
        return respond_json({"message": f"engine says {name}"}, status=answers[name][0])

    for name in answers:
        bench.routes[f"/containers/{name}/json"] = answer
    async with bench.client() as docker:
        for name, (status, cls) in answers.items():
            try:
                await docker.containers.inspect(name)
            except DockerError as exc:
                _expect(exc, cls, path=f"{_PREFIX}/containers/{name}/json")
                assert getattr(exc, "status", None) == status
                assert f"engine says {name}" in str(exc), "the engine's message is lost"
            else:
                raise AssertionError(f"a {status} answer raised nothing")
        await _inspect_works(docker)


async def _close_delimited_body(bench: _Bench) -> None:
    """An HTTP/1.0-style answer with neither length nor chunking: the body ends at EOF."""
    body = json.dumps(_inspect_body()).encode()
    bench.engine.enqueue(
        Behaviour(
            (Send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + body), Close())
        )
    )
    async with bench.client() as docker:
        assert (await docker.containers.inspect(_ID)).id == _ID
        await _inspect_works(docker)


async def _informational_then_answer(bench: _Bench) -> None:
    """A ``100 Continue`` before the real answer is skipped."""
    body = json.dumps(_inspect_body()).encode()
    head = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
    bench.engine.enqueue(Behaviour((Send(head + body),)))
    async with bench.client() as docker:
        assert (await docker.containers.inspect(_ID)).id == _ID
        await _inspect_works(docker)


# -- streamed bodies out -----------------------------------------------------------------------


async def _stream_items_as_they_come(bench: _Bench) -> None:
    bench.routes[_LOGS] = lambda _r: stream_chunks(_FRAMES, interval=0.05)
    bench.routes["/events"] = lambda _r: stream_chunks([_event("create"), _event("die")])
    async with bench.client() as docker:
        with anyio.fail_after(_BOUND):
            async with docker.containers.logs(_ID, tty=False, follow=True) as stream:
                assert [(f.stream, f.data) async for f in stream] == _DATA
            async with docker.events.stream() as events:
                assert [m.action async for m in events] == ["create", "die"]
        await _inspect_works(docker)


async def _stream_first_item_before_the_end(bench: _Bench) -> None:
    """A stream yields each item when it arrives, not when the body ends."""
    bench.routes[_LOGS] = lambda _r: stall_mid_stream([_FRAMES[0]])
    async with bench.client() as docker:
        with anyio.fail_after(_BOUND):
            async with docker.containers.logs(_ID, tty=False, follow=True) as stream:
                async for frame in stream:
                    assert (frame.stream, frame.data) == _DATA[0]
                    break
        await _inspect_works(docker)


# -- faults inside streams ---------------------------------------------------------------------


async def _stream_cut_before_final_chunk(bench: _Bench) -> None:
    bench.routes[_LOGS] = lambda _r: _cut_after(_FRAMES)
    async with bench.client() as docker:
        frames, error = await _drain_logs(docker)
        assert frames == _DATA, "frames received before the break were lost"
        _expect_interrupted(error)
        await _inspect_works(docker)


async def _stream_cut_mid_content_length(bench: _Bench) -> None:
    body = b"".join(_FRAMES)
    bench.routes[_LOGS] = lambda _r: close_mid_body(body, sent=len(_FRAMES[0]) + 3)
    async with bench.client() as docker:
        frames, error = await _drain_logs(docker)
        assert frames == _DATA[:1]
        _expect_interrupted(error)
        await _inspect_works(docker)


async def _stream_cut_inside_a_chunk(bench: _Bench) -> None:
    whole = b"".join(_FRAMES)
    chunk = b"%x\r\n%b" % (len(whole), whole[:-2])  # announces 2 bytes it never sends
    bench.routes[_LOGS] = lambda _r: Behaviour((Send(_CHUNKED_HEAD + chunk), Sleep(0.05), Close()))
    async with bench.client() as docker:
        frames, error = await _drain_logs(docker)
        assert frames == _DATA[:2]
        _expect_interrupted(error)
        await _inspect_works(docker)


async def _stream_bad_chunk_size(bench: _Bench) -> None:
    good = b"%x\r\n%b\r\n" % (len(_FRAMES[0]), _FRAMES[0])
    bench.routes[_LOGS] = lambda _r: Behaviour(
        (Send(_CHUNKED_HEAD + good), Sleep(0.05), Send(b"zz\r\nhello\r\n"), Close())
    )
    async with bench.client() as docker:
        frames, error = await _drain_logs(docker)
        assert frames == _DATA[:1]
        _expect_interrupted(error)
        await _inspect_works(docker)


async def _events_cut_short(bench: _Bench) -> None:
    bench.routes["/events"] = lambda _r: _cut_after([_event("create"), _event("start")])
    async with bench.client() as docker:
        seen: list[str] = []
        with anyio.fail_after(_BOUND + 1):
            try:
                async with docker.events.stream() as events:
                    async for message in events:
                        seen.append(message.action)
            except DockerError as exc:
                _expect(exc, StreamInterruptedError, path=f"{_PREFIX}/events")
            else:
                raise AssertionError("a broken events stream ended silently")
        assert seen == ["create", "start"]
        await _inspect_works(docker)


async def _engine_dies_mid_stream(bench: _Bench) -> None:
    """The engine stops (every socket closed) while a stream is open and silent."""
    path = os.path.join(os.path.dirname(bench.path), "dying.sock")
    started, stop, stopped = anyio.Event(), anyio.Event(), anyio.Event()

    async def run_engine() -> None:
        async with FakeEngine(path, lambda _r: stall_mid_stream([_FRAMES[0]])):
            started.set()
            await stop.wait()
        stopped.set()

    frames: list[tuple[int, bytes]] = []
    error: BaseException | None = None
    async with anyio.create_task_group() as group:
        group.start_soon(run_engine)
        await started.wait()
        async with bench.client(socket_path=path) as docker:
            with anyio.fail_after(_BOUND + 1):
                try:
                    async with docker.containers.logs(_ID, tty=False, follow=True) as stream:
                        async for item in stream:
                            frames.append((item.stream, item.data))
                            stop.set()
                except DockerError as exc:
                    error = exc
            await stopped.wait()
            assert frames == _DATA[:1]
            assert error is not None, "a stream whose engine died ended silently"
            _expect_interrupted(error)
            try:
                await docker.containers.inspect(_ID)
            except DockerConnectionError:
                pass  # nobody listens any more: the typed connection error
            else:
                raise AssertionError("a request to a stopped engine succeeded")


async def _body_ends_inside_a_frame(bench: _Bench) -> None:
    bench.routes[_LOGS] = lambda _r: stream_chunks([_FRAMES[0], _FRAMES[1][:5]])
    async with bench.client() as docker:
        frames, error = await _drain_logs(docker)
        assert frames == _DATA[:1]
        _expect(error, StreamTruncatedError, path=f"{_PREFIX}{_LOGS}")
        assert not isinstance(error, StreamInterruptedError), "a clean end is not a break"


async def _error_frame_in_a_200_stream(bench: _Bench) -> None:
    bench.routes[_LOGS] = lambda _r: stream_chunks([_FRAMES[0], _frame(3, b"Error grabbing logs")])
    pull_error = {"error": "pull access denied", "errorDetail": {"message": "pull access denied"}}
    bench.routes["/images/create"] = lambda _r: stream_chunks(
        [b'{"status":"Pulling"}\n', json.dumps(pull_error).encode() + b"\n"],
        headers=[("Content-Type", "application/json")],
    )
    async with bench.client() as docker:
        frames, error = await _drain_logs(docker)
        assert frames == _DATA[:1]
        _expect(error, StreamError, path=f"{_PREFIX}{_LOGS}")
        assert not isinstance(error, DockerConnectionError), "an in-band error is not a break"
        statuses: list[str | None] = []
        try:
            async with docker.images.pull("busybox:nope") as progress:
                async for message in progress:
                    statuses.append(message.status)
        except DockerError as exc:
            _expect(exc, StreamError)
            assert not isinstance(exc, DockerConnectionError)
        else:
            raise AssertionError("an error inside a 200 pull stream raised nothing")
        assert statuses == ["Pulling"]
        await _inspect_works(docker)


async def _garbage_frames(bench: _Bench) -> None:
    bad = b"\x07\x00\x00\x00\x00\x00\x00\x02hi"
    bench.routes[_LOGS] = lambda _r: stream_chunks([_FRAMES[0], _FRAMES[1] + bad, _FRAMES[2]])
    async with bench.client() as docker:
        frames, error = await _drain_logs(docker)
        assert frames == _DATA[:2]
        _expect(error, StreamDesyncError, path=f"{_PREFIX}{_LOGS}")
        await _inspect_works(docker)


# -- malformed answers to an ordinary call ----------------------------------------------------


def _malformed(fault: Behaviour) -> Scenario:
    async def scenario(bench: _Bench) -> None:
        bench.engine.enqueue(fault)
        async with bench.client() as docker:
            with anyio.fail_after(_BOUND):
                try:
                    await docker.containers.inspect(_ID)
                except DockerError as exc:
                    _expect(exc, DockerConnectionError, path=_INSPECT)
                    assert not isinstance(exc, StreamInterruptedError), "not a stream"
                else:
                    raise AssertionError("a malformed answer was accepted")
            await _inspect_works(docker)

    return scenario


_MALFORMED = {
    "status-line": malformed_status_line(),
    "http2-status-line": malformed_status_line(b"HTTP/2.0 200 OK"),
    "header-line": malformed_header(),
    "garbage": garbage(),
    "no-answer": close_without_answer(),
    "cut-mid-body": close_mid_body(b'{"Id": "c0ffee"}', sent=5),
    "bad-content-length": Behaviour(
        (Send(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"), Close())
    ),
    "bad-chunk-size": bad_chunk_size(),
}


# -- unexpected answers ------------------------------------------------------------------------


async def _unexpected_101_to_a_request(bench: _Bench) -> None:
    bench.engine.enqueue(upgrade(b"surprise"))
    async with bench.client() as docker:
        with anyio.fail_after(_BOUND):
            try:
                await docker.containers.inspect(_ID)
            except DockerError as exc:
                _expect(exc, DockerConnectionError, path=_INSPECT)
            else:
                raise AssertionError("a 101 answer to an ordinary request was accepted")
        await _inspect_works(docker)


async def _unexpected_101_to_a_stream(bench: _Bench) -> None:
    bench.routes[_LOGS] = lambda _r: upgrade(_FRAMES[0])
    async with bench.client() as docker:
        frames, error = await _drain_logs(docker)
        assert frames == [], "an upgraded connection's bytes were read as a body"
        _expect(error, DockerConnectionError, path=f"{_PREFIX}{_LOGS}")
        await _inspect_works(docker)


async def _stray_bytes_after_a_response(bench: _Bench) -> None:
    body = json.dumps(_inspect_body()).encode()
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
    bench.engine.enqueue(Behaviour((Send(head + body + b"HTTP/1.1 200 OK\r\nstray"),)))
    async with bench.client() as docker:
        assert (await docker.containers.inspect(_ID)).id == _ID
        await anyio.sleep(0.05)  # the stray bytes have arrived
        for _ in range(3):
            await _inspect_works(docker)


# -- timeouts ----------------------------------------------------------------------------------


async def _stalled_request_times_out(bench: _Bench) -> None:
    bench.engine.enqueue(stall())
    async with bench.client(timeout=0.3) as docker:
        started = time.monotonic()
        with anyio.fail_after(_BOUND + 1):
            try:
                await docker.containers.inspect(_ID)
            except DockerError as exc:
                _expect(exc, DockerTimeout, path=_INSPECT)
                assert getattr(exc, "timeout", None) == 0.3
            else:
                raise AssertionError("a stalled request returned")
        waited = time.monotonic() - started
        assert 0.25 < waited < 0.3 + _BOUND, f"timed out after {waited:.2f} s, not 0.3 s"
        await _inspect_works(docker)


async def _stall_mid_body_times_out(bench: _Bench) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
    bench.engine.enqueue(Behaviour((Send(head + b'{"Id":'), Stall())))
    async with bench.client(timeout=0.3) as docker:
        with anyio.fail_after(_BOUND + 1):
            try:
                await docker.containers.inspect(_ID)
            except DockerError as exc:
                _expect(exc, DockerTimeout, path=_INSPECT)
            else:
                raise AssertionError("a body stalled mid-way was accepted")
        await _inspect_works(docker)


async def _slow_within_and_beyond(bench: _Bench) -> None:
    bench.engine.enqueue(
        slow(0.1, respond_json(_inspect_body())), slow(1.0, respond_json(_inspect_body()))
    )
    async with bench.client(timeout=0.4) as docker:
        assert (await docker.containers.inspect(_ID)).id == _ID
        try:
            await docker.containers.inspect(_ID)
        except DockerError as exc:
            _expect(exc, DockerTimeout)
        else:
            raise AssertionError("an answer slower than the timeout was waited for")


async def _silent_stream_outlives_the_timeout(bench: _Bench) -> None:
    timeout = 0.15
    bench.routes[_LOGS] = lambda _r: stream_chunks(_FRAMES[:2], interval=4 * timeout)
    async with bench.client(timeout=timeout) as docker:
        with anyio.fail_after(_BOUND + 2):
            async with docker.containers.logs(_ID, tty=False, follow=True) as stream:
                assert [(f.stream, f.data) async for f in stream] == _DATA[:2]


async def _connect_failure(bench: _Bench) -> None:
    missing = os.path.join(os.path.dirname(bench.path), "nobody.sock")
    async with bench.client(socket_path=missing) as docker:
        with anyio.fail_after(_BOUND):
            try:
                await docker.containers.inspect(_ID)
            except DockerError as exc:
                _expect(exc, SocketNotFoundError, path=_INSPECT)
            else:
                raise AssertionError("a request to a missing socket succeeded")


# -- cancellation and early exit ---------------------------------------------------------------


async def _break_out_of_a_stream(bench: _Bench) -> None:
    bench.routes[_LOGS] = lambda _r: stall_mid_stream([_FRAMES[0]])
    async with bench.client(max_connections=1) as docker:
        for _ in range(20):
            with anyio.fail_after(_BOUND):
                async with docker.containers.logs(_ID, tty=False, follow=True) as stream:
                    async for _ in stream:
                        break
        await _inspect_works(docker)
        if bench.engine_observed:  # every left stream's connection was closed
            with anyio.fail_after(_BOUND):
                while bench.engine.connections_open > 1:
                    await anyio.sleep(0.005)


async def _bare_break(bench: _Bench) -> None:
    """``async for ... break`` without ``async with``: the garbage collector's turn is clean."""
    bench.routes[_LOGS] = lambda _r: stall_mid_stream([_FRAMES[0]])
    async with bench.client(max_connections=1) as docker:
        for _ in range(10):
            with anyio.fail_after(_BOUND):
                async for _ in docker.containers.logs(_ID, tty=False, follow=True):
                    break
            gc.collect()
        await _inspect_works(docker)


async def _cancel_while_reading(bench: _Bench) -> None:
    bench.routes[_LOGS] = lambda _r: stall_mid_stream([_FRAMES[0]])
    async with bench.client(max_connections=1) as docker:
        for _ in range(10):
            first = anyio.Event()

            async def read(ready: anyio.Event = first) -> None:
                async with docker.containers.logs(_ID, tty=False, follow=True) as stream:
                    async for _ in stream:
                        ready.set()

            with anyio.fail_after(_BOUND):
                async with anyio.create_task_group() as group:
                    group.start_soon(read)
                    await first.wait()
                    group.cancel_scope.cancel()
        await _inspect_works(docker)


async def _cancel_before_the_answer(bench: _Bench) -> None:
    """A request cancelled while waiting must not leave its late answer to the next one."""
    late = {"Id": "late0000", "Name": "/late", "State": {"Status": "running"}}
    bench.engine.enqueue(slow(0.3, respond_json(late)))
    async with bench.client(max_connections=1) as docker:
        with anyio.move_on_after(0.05) as scope:
            await docker.containers.inspect(_ID)
        assert scope.cancelled_caught, "the slow answer came early"
        await anyio.sleep(0.4)  # the late answer has arrived on the old connection
        await _inspect_works(docker)
        await _inspect_works(docker)


async def _cancel_a_stream_before_its_answer(bench: _Bench) -> None:
    bench.routes[_LOGS] = lambda _r: slow(0.05, stall_mid_stream([_FRAMES[0]]))
    async with bench.client(max_connections=1) as docker:
        for _ in range(10):
            with anyio.move_on_after(0.005):
                async with docker.containers.logs(_ID, tty=False, follow=True) as stream:
                    async for _ in stream:
                        pass
        await _inspect_works(docker)


async def _close_the_client_with_open_streams(bench: _Bench) -> None:
    """Closing the client ends the streams still open on it (their readers see an error)."""
    bench.routes[_LOGS] = lambda _r: stall_mid_stream([_FRAMES[0]])
    docker = bench.client()
    outcome: list[BaseException | None] = []

    async def read(ready: anyio.Event) -> None:
        try:
            async with docker.containers.logs(_ID, tty=False, follow=True) as stream:
                async for _ in stream:
                    ready.set()
        except DockerError as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    with anyio.fail_after(_BOUND + 1):
        async with anyio.create_task_group() as group:
            ready = [anyio.Event() for _ in range(3)]
            for event in ready:
                group.start_soon(read, event)
            for event in ready:
                await event.wait()
            await docker.aclose()
    assert len(outcome) == 3
    for error in outcome:
        assert error is not None, "a stream of a closed client ended silently"
        _expect(error, DockerConnectionError)


# -- upgrades ----------------------------------------------------------------------------------


class _RawIO:
    """The upgraded connection of a 101 answer, whichever stream interface it offers:
    anyio's (``receive``/``send``) or httpcore's (``read``/``write``)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    async def receive(self) -> bytes:
        if hasattr(self.stream, "receive"):
            try:
                return bytes(await self.stream.receive())
            except anyio.EndOfStream:
                return b""
        return bytes(await self.stream.read(65536))

    async def send(self, data: bytes) -> None:
        if hasattr(self.stream, "send"):
            await self.stream.send(data)
        else:
            await self.stream.write(data)

    async def aclose(self) -> None:
        await self.stream.aclose()


async def _upgrade(bench: _Bench) -> None:
    """``101 Switching Protocols`` (exec/attach with ``Upgrade: tcp``): the raw connection."""
    bench.routes["/attach"] = lambda _r: upgrade(b"greeting")
    async with bench.client() as docker:
        request = httpx.Request(
            "POST",
            f"http://docker{_PREFIX}/containers/{_ID}/attach?stream=1&stdin=1&stdout=1",
            headers={"Connection": "Upgrade", "Upgrade": "tcp"},
            extensions={"timeout": {"connect": 5.0, "read": None, "write": 5.0, "pool": 5.0}},
        )
        with anyio.fail_after(_BOUND):
            response = await docker.transport.handle_async_request(request)
            try:
                assert response.status_code == 101
                stream = response.extensions.get("network_stream")
                assert stream is not None, "a 101 answer has no network_stream extension"
                raw = _RawIO(stream)
                received = b""
                while len(received) < len(b"greeting"):
                    received += await raw.receive()
                assert received == b"greeting", "the bytes sent with the 101 head were lost"
                await raw.send(b"ping")
                echoed = b""
                while len(echoed) < 4:
                    echoed += await raw.receive()
                assert echoed == b"ping"
                await raw.aclose()
            finally:
                await response.aclose()
        await _inspect_works(docker)


# -- the suite ---------------------------------------------------------------------------------

TRANSPORT_CHECKS: tuple[TransportCheck, ...] = (
    TransportCheck(
        "ordinary-request",
        "a GET answered with JSON; the next reuses the client",
        _ordinary_request,
    ),
    TransportCheck(
        "request-body", "a JSON request body arrives whole, with its length", _request_body
    ),
    TransportCheck(
        "streamed-request-body",
        "an async-iterable request body arrives whole",
        _streamed_request_body,
    ),
    TransportCheck(
        "large-response-body", "3 MiB bodies, by length and chunked, arrive whole", _large_body
    ),
    TransportCheck(
        "bodiless-answers", "204, 304 and HEAD answers have an empty body", _bodiless_answers
    ),
    TransportCheck(
        "error-statuses",
        "404/409/500 are their typed errors with the engine's message and the full path",
        _error_statuses,
    ),
    TransportCheck(
        "close-delimited-body",
        "a body with neither length nor chunking ends at EOF",
        _close_delimited_body,
        replay=False,
    ),
    TransportCheck(
        "informational-answer",
        "a 100 Continue before the answer is skipped",
        _informational_then_answer,
        replay=False,
    ),
    TransportCheck(
        "stream-items",
        "logs and events streams yield every item and end cleanly",
        _stream_items_as_they_come,
    ),
    TransportCheck(
        "stream-first-item",
        "a stream yields an item before its body ends",
        _stream_first_item_before_the_end,
        replay=False,
    ),
    TransportCheck(
        "stream-cut-before-final-chunk",
        "StreamInterruptedError after every frame",
        _stream_cut_before_final_chunk,
    ),
    TransportCheck(
        "stream-cut-mid-length",
        "a Content-Length body cut short is interrupted",
        _stream_cut_mid_content_length,
    ),
    TransportCheck(
        "stream-cut-inside-chunk", "a chunk cut short is interrupted", _stream_cut_inside_a_chunk
    ),
    TransportCheck(
        "stream-bad-chunk-size",
        "a bad chunk size mid-stream is interrupted",
        _stream_bad_chunk_size,
    ),
    TransportCheck(
        "events-cut-short", "an events stream cut short is interrupted", _events_cut_short
    ),
    TransportCheck(
        "engine-dies-mid-stream",
        "the engine stopping mid-stream interrupts it",
        _engine_dies_mid_stream,
        replay=False,
    ),
    TransportCheck(
        "body-ends-inside-frame",
        "a clean end inside a frame is truncated",
        _body_ends_inside_a_frame,
    ),
    TransportCheck(
        "error-inside-200-stream",
        "an in-band error of a 200 stream is a StreamError",
        _error_frame_in_a_200_stream,
    ),
    TransportCheck("garbage-frames", "a frame header that is garbage is a desync", _garbage_frames),
    *(
        TransportCheck(
            f"malformed-{name}",
            f"a malformed answer ({name}) to an ordinary call is a DockerConnectionError",
            _malformed(fault),
        )
        for name, fault in _MALFORMED.items()
    ),
    TransportCheck(
        "unexpected-101-request",
        "a 101 to an ordinary request is a connection error",
        _unexpected_101_to_a_request,
        replay=False,
    ),
    TransportCheck(
        "unexpected-101-stream",
        "a 101 to a follow stream is an error, not a silent end",
        _unexpected_101_to_a_stream,
        replay=False,
    ),
    TransportCheck(
        "stray-bytes",
        "bytes after a complete answer do not reach the next call",
        _stray_bytes_after_a_response,
        replay=False,
    ),
    TransportCheck(
        "stalled-request-timeout",
        "a stalled request is a DockerTimeout on time",
        _stalled_request_times_out,
        replay=False,
    ),
    TransportCheck(
        "stall-mid-body-timeout",
        "a body stalled mid-way is a DockerTimeout",
        _stall_mid_body_times_out,
        replay=False,
    ),
    TransportCheck(
        "slow-answers",
        "an answer within the timeout is waited for, one beyond is not",
        _slow_within_and_beyond,
        replay=False,
    ),
    TransportCheck(
        "silent-stream-no-timeout",
        "streams have no read timeout",
        _silent_stream_outlives_the_timeout,
        replay=False,
    ),
    TransportCheck(
        "connect-failure",
        "a missing socket is a SocketNotFoundError",
        _connect_failure,
        replay=False,
    ),
    TransportCheck(
        "break-out-of-stream",
        "leaving streams early closes their connections",
        _break_out_of_a_stream,
        replay=False,
    ),
    TransportCheck(
        "bare-break", "a stream dropped without closing leaks nothing", _bare_break, replay=False
    ),
    TransportCheck(
        "cancel-while-reading",
        "cancelling a stream's reader closes it",
        _cancel_while_reading,
        replay=False,
    ),
    TransportCheck(
        "cancel-before-answer",
        "a cancelled request's late answer never reaches the next call",
        _cancel_before_the_answer,
        replay=False,
    ),
    TransportCheck(
        "cancel-stream-before-answer",
        "cancelling a stream before its answer leaks nothing",
        _cancel_a_stream_before_its_answer,
        replay=False,
    ),
    TransportCheck(
        "close-with-open-streams",
        "closing the client ends its open streams",
        _close_the_client_with_open_streams,
        replay=False,
    ),
    TransportCheck(
        "upgrade-101",
        "a 101 answer gives the raw connection: greeting, then echo",
        _upgrade,
        replay=False,
    ),
)
"""Every behaviour of the suite, in a stable order (parametrize over it)."""
