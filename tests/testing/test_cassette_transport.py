"""CassetteTransport: recording tees streams, replay is faithful, modes and errors behave."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import anyio
import httpx
import msgspec
import pytest

from lightshuttle_runtime import (
    DockerClient,
    DockerConnectionError,
    NotFoundError,
    StreamInterruptedError,
)
from lightshuttle_runtime.models import ContainerCreateRequest
from lightshuttle_runtime.testing import (
    CassetteError,
    CassetteNotFoundError,
    CassetteTransport,
    UnmatchedRequestError,
    UnplayedInteractionsError,
    load_cassette,
)

from ..conftest import Engine
from ._scripted import PING, Answer, ScriptedTransport, frame, json_answer

pytestmark = pytest.mark.anyio

CONTAINER = "c0ffee"
LOGS = f"/v1.41/containers/{CONTAINER}/logs"
INSPECT = f"/v1.41/containers/{CONTAINER}/json"
FRAMES = [frame(1, b"one\n"), frame(2, b"two\n"), frame(1, b"three\n")]


def inspect_body(status: str) -> bytes:
    return msgspec.json.encode({"Id": CONTAINER, "State": {"Status": status}}) + b"\n"


def engine() -> ScriptedTransport:
    return ScriptedTransport(
        {
            ("GET", "/_ping"): PING,
            ("GET", INSPECT): [json_answer(inspect_body(s)) for s in ("created", "running")],
            ("GET", LOGS): Answer(chunks=FRAMES, after="forever"),
        }
    )


async def record(path: Path, scripted: ScriptedTransport, **options: object) -> None:
    cassette = CassetteTransport(path, record_mode="all", transport=scripted, **options)  # type: ignore[arg-type]
    async with DockerClient(transport=cassette) as docker:
        await docker.containers.inspect(CONTAINER)
        await docker.containers.inspect(CONTAINER)


async def read_follow(docker: DockerClient, count: int) -> list[tuple[int, bytes]]:
    out: list[tuple[int, bytes]] = []
    async with docker.containers.logs(CONTAINER, tty=False, follow=True) as frames:
        async for item in frames:
            out.append((item.stream, item.data))
            if len(out) == count:
                break
    return out


async def test_follow_stream_records_without_hanging(tmp_path: Path) -> None:
    path = tmp_path / "follow.json"
    scripted = engine()
    cassette = CassetteTransport(path, record_mode="all", transport=scripted)
    with anyio.fail_after(5):
        async with DockerClient(transport=cassette) as docker:
            got = await read_follow(docker, 3)
    assert got == [(1, b"one\n"), (2, b"two\n"), (1, b"three\n")]
    assert scripted.closed_streams >= 1 and scripted.closed
    logs = [i for i in load_cassette(path).interactions if i.request.path == LOGS]
    assert len(logs) == 1 and logs[0].response is not None
    assert logs[0].response.end == "closed"
    assert [chunk.to_bytes() for chunk in logs[0].response.chunks] == FRAMES
    assert dict(logs[0].request.query) == {
        "follow": "1",
        "stdout": "1",
        "stderr": "1",
        "timestamps": "0",
        "tail": "all",
    }


async def test_replayed_follow_stream_stays_open_until_cancelled(tmp_path: Path) -> None:
    path = tmp_path / "follow.json"
    async with DockerClient(
        transport=CassetteTransport(path, record_mode="all", transport=engine())
    ) as docker:
        await read_follow(docker, 3)
    async with DockerClient(transport=CassetteTransport(path)) as docker:
        frames = docker.containers.logs(CONTAINER, tty=False, follow=True)
        async with frames:
            got = [await frames.__anext__() for _ in range(3)]
            with anyio.move_on_after(0.3) as scope:
                await frames.__anext__()
        assert scope.cancelled_caught, "a replayed follow stream must not end on its own"
    assert [item.data for item in got] == [b"one\n", b"two\n", b"three\n"]


async def test_chunks_reach_the_caller_while_recording(tmp_path: Path) -> None:
    """Teeing: the first frame is handed over before the engine sends the second one."""
    gate = anyio.Event()

    class Gated(httpx.AsyncByteStream):
        sent = 0

        async def __aiter__(self):  # type: ignore[override]
            yield frame(1, b"first\n")
            await gate.wait()
            yield frame(1, b"second\n")

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Gated())

    class Real(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            return answer(request)

    cassette = CassetteTransport(tmp_path / "gated.json", record_mode="all", transport=Real())
    async with DockerClient(api_version="1.41", transport=cassette) as docker:
        frames = docker.containers.logs(CONTAINER, tty=False, follow=True)
        async with frames:
            with anyio.fail_after(2):
                first = await frames.__anext__()
            gate.set()
            second = await frames.__anext__()
    assert (first.data, second.data) == (b"first\n", b"second\n")


async def test_binary_bodies_replay_byte_identical(tmp_path: Path) -> None:
    blob = bytes(range(256)) * 5 + b"\xff\xfe\x00"
    scripted = ScriptedTransport(
        {("GET", "/v1.41/containers/x/archive"): Answer(chunks=[blob[:700], blob[700:]])}
    )
    path = tmp_path / "binary.json"
    request = httpx.Request("GET", "http://docker/v1.41/containers/x/archive?path=%2Fetc")
    recorder = CassetteTransport(path, record_mode="all", transport=scripted)
    recorded = await recorder.handle_async_request(request)
    assert await recorded.aread() == blob
    await recorder.aclose()
    stored = load_cassette(path).interactions[0].response
    assert stored is not None and stored.chunks[0].base64 is not None
    for rechunk in (None, 1, 7):
        replayer = CassetteTransport(path, rechunk=rechunk)
        replayed = await replayer.handle_async_request(request)
        pieces = [piece async for piece in replayed.aiter_raw()]
        assert b"".join(pieces) == blob
        if rechunk is None:
            assert pieces == [blob[:700], blob[700:]]
        else:
            assert {len(piece) for piece in pieces[:-1]} == {rechunk}


async def test_one_byte_rechunking_decodes_identically(tmp_path: Path) -> None:
    scripted = ScriptedTransport(
        {("GET", LOGS): Answer(chunks=[b"".join(FRAMES)[:5], b"".join(FRAMES)[5:]])}
    )
    path = tmp_path / "logs.json"

    async def frames_via(transport: httpx.AsyncBaseTransport) -> list[tuple[int, bytes]]:
        async with DockerClient(api_version="1.41", transport=transport) as docker:
            stream = docker.containers.logs(CONTAINER, tty=False)
            async with stream:
                return [(item.stream, item.data) async for item in stream]

    live = await frames_via(CassetteTransport(path, record_mode="all", transport=scripted))
    whole = await frames_via(CassetteTransport(path))
    bytewise = await frames_via(CassetteTransport(path, rechunk=1))
    assert live == whole == bytewise == [(1, b"one\n"), (2, b"two\n"), (1, b"three\n")]


async def test_unknown_request_names_the_nearest_recorded_ones(tmp_path: Path) -> None:
    path = tmp_path / "inspect.json"
    await record(path, engine())
    async with DockerClient(transport=CassetteTransport(path)) as docker:
        with pytest.raises(UnmatchedRequestError) as caught:
            await docker.containers.inspect("deadbeef")
    error = caught.value
    assert error.request == "GET /v1.41/containers/deadbeef/json"
    assert error.nearest and error.nearest[0].startswith("#1 GET /v1.41/containers/c0ffee/json")
    assert "path /containers/deadbeef/json here, /containers/c0ffee/json recorded" in str(error)
    assert str(path) in str(error)


async def test_identical_requests_replay_in_order_and_gets_repeat_the_last(tmp_path: Path) -> None:
    path = tmp_path / "poll.json"
    await record(path, engine())
    async with DockerClient(transport=CassetteTransport(path)) as docker:
        states = [(await docker.containers.inspect(CONTAINER)).state.status for _ in range(4)]
    assert states == ["created", "running", "running", "running"]


async def test_non_get_requests_do_not_repeat(tmp_path: Path) -> None:
    path = tmp_path / "create.json"
    created = json_answer(b'{"Id":"abc","Warnings":[]}', 201)
    scripted = ScriptedTransport({("POST", "/v1.41/containers/create"): created})
    config = ContainerCreateRequest(image="busybox:local")
    async with DockerClient(
        api_version="1.41",
        transport=CassetteTransport(path, record_mode="all", transport=scripted),
    ) as docker:
        await docker.containers.create(config)
    async with DockerClient(api_version="1.41", transport=CassetteTransport(path)) as docker:
        assert (await docker.containers.create(config)).id == "abc"
        with pytest.raises(UnmatchedRequestError, match="have been played already"):
            await docker.containers.create(config)


async def test_api_version_mismatch_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "inspect.json"
    await record(path, engine())
    async with DockerClient(api_version="1.44", transport=CassetteTransport(path)) as docker:
        with pytest.raises(UnmatchedRequestError, match=r"recorded at API 1\.41 .* uses 1\.44"):
            await docker.containers.inspect(CONTAINER)


async def test_unplayed_interactions_are_detected(tmp_path: Path) -> None:
    path = tmp_path / "inspect.json"
    await record(path, engine())
    # Pinned: no /_ping; one inspect of the two recorded (a poll that ended sooner).
    lenient = CassetteTransport(path)
    strict = CassetteTransport(path, repeat_reads=False)
    for cassette in (lenient, strict):
        async with DockerClient(api_version="1.41", transport=cassette) as docker:
            await docker.containers.inspect(CONTAINER)
    with pytest.raises(UnplayedInteractionsError) as caught:
        lenient.assert_all_played()
    assert caught.value.unplayed == ["#0 GET /_ping"]
    with pytest.raises(UnplayedInteractionsError) as caught:
        strict.assert_all_played()
    assert caught.value.unplayed == ["#0 GET /_ping", f"#2 GET {INSPECT}"]
    assert "2 recorded interaction(s)" in str(caught.value)


async def test_replay_never_touches_a_transport(tmp_path: Path) -> None:
    path = tmp_path / "inspect.json"
    await record(path, engine())
    untouched = ScriptedTransport({})
    cassette = CassetteTransport(path, transport=untouched)
    async with DockerClient(transport=cassette) as docker:
        await docker.containers.inspect(CONTAINER)
        await docker.containers.inspect(CONTAINER)
    cassette.assert_all_played()
    assert untouched.requests == []


async def test_mode_none_needs_the_file(tmp_path: Path) -> None:
    with pytest.raises(CassetteNotFoundError, match="does not exist"):
        CassetteTransport(tmp_path / "missing.json")


async def test_mode_once_records_then_replays(tmp_path: Path) -> None:
    path = tmp_path / "once.json"
    first = engine()
    await record_with(path, "once", first)
    assert len(first.requests) == 3  # ping + two inspects
    second = engine()
    await record_with(path, "once", second)
    assert second.requests == []
    with pytest.raises(UnmatchedRequestError):
        cassette = CassetteTransport(path, record_mode="once", transport=engine())
        async with DockerClient(transport=cassette) as docker:
            await docker.containers.inspect("other")


async def test_mode_new_episodes_replays_known_and_records_new(tmp_path: Path) -> None:
    path = tmp_path / "episodes.json"
    await record(path, engine())
    scripted = engine()
    scripted.routes[("GET", "/v1.41/containers/other/json")] = json_answer(b'{"Id":"other"}\n')
    cassette = CassetteTransport(path, record_mode="new_episodes", transport=scripted)
    async with DockerClient(transport=cassette) as docker:
        await docker.containers.inspect(CONTAINER)
        await docker.containers.inspect(CONTAINER)
        assert (await docker.containers.inspect("other")).id == "other"
    assert [r[1] for r in scripted.requests] == ["http://docker/v1.41/containers/other/json"]
    paths = [i.request.path for i in load_cassette(path).interactions]
    assert paths == ["/_ping", INSPECT, INSPECT, "/v1.41/containers/other/json"]


async def test_mode_all_replaces_the_file(tmp_path: Path) -> None:
    path = tmp_path / "all.json"
    await record(path, engine())
    scripted = engine()
    await record_with(path, "all", scripted, inspections=1)
    assert len(scripted.requests) == 2
    assert [i.request.path for i in load_cassette(path).interactions] == ["/_ping", INSPECT]


async def record_with(
    path: Path, mode: str, scripted: ScriptedTransport, inspections: int = 2
) -> None:
    cassette = CassetteTransport(path, record_mode=mode, transport=scripted)  # type: ignore[arg-type]
    async with DockerClient(transport=cassette) as docker:
        for _ in range(inspections):
            await docker.containers.inspect(CONTAINER)


async def test_recording_needs_a_real_transport(tmp_path: Path) -> None:
    cassette = CassetteTransport(tmp_path / "x.json", record_mode="all")
    with pytest.raises(CassetteError, match="needs the real transport"):
        await cassette.handle_async_request(httpx.Request("GET", "http://docker/_ping"))


async def test_the_real_transport_is_made_only_when_recording(tmp_path: Path) -> None:
    path = tmp_path / "lazy.json"
    await record(path, engine())
    made: list[ScriptedTransport] = []

    def factory() -> ScriptedTransport:
        made.append(engine())
        return made[-1]

    async with DockerClient(transport=CassetteTransport(path, transport=factory)) as docker:
        await docker.containers.inspect(CONTAINER)
    assert made == []


async def test_errors_replay_as_the_same_failures(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    scripted = ScriptedTransport({("GET", LOGS): Answer(chunks=FRAMES[:1], after="error")})
    async with DockerClient(
        api_version="1.41",
        transport=CassetteTransport(path, record_mode="all", transport=scripted),
    ) as docker:
        frames = docker.containers.logs(CONTAINER, tty=False, follow=True)
        with pytest.raises(StreamInterruptedError):
            async with frames:
                async for _ in frames:
                    pass
    response = load_cassette(path).interactions[0].response
    assert response is not None and response.end == "error"
    assert response.error is not None and response.error.exception == "ReadError"
    async with DockerClient(api_version="1.41", transport=CassetteTransport(path)) as docker:
        seen: list[bytes] = []
        with pytest.raises(StreamInterruptedError):
            async with docker.containers.logs(CONTAINER, tty=False, follow=True) as frames:
                async for item in frames:
                    seen.append(item.data)
        assert seen == [b"one\n"]


async def test_connection_failures_replay(tmp_path: Path) -> None:
    path = tmp_path / "refused.json"
    scripted = ScriptedTransport({}, connect_error=True)
    cassette = CassetteTransport(path, record_mode="all", transport=scripted)
    async with DockerClient("unix:///nonexistent.sock", transport=cassette) as docker:
        with pytest.raises(DockerConnectionError):
            await docker.system.ping()
    interaction = load_cassette(path).interactions[0]
    assert interaction.response is None and interaction.error is not None
    assert interaction.error.exception == "ConnectError"
    replay = CassetteTransport(path)
    async with DockerClient("unix:///nonexistent.sock", transport=replay) as docker:
        with pytest.raises(DockerConnectionError, match="does not exist"):
            await docker.system.ping()


async def test_error_statuses_replay_as_typed_errors(tmp_path: Path) -> None:
    path = tmp_path / "missing.json"
    body = b'{"message":"No such container: nope"}\n'
    scripted = ScriptedTransport({("GET", "/v1.41/containers/nope/json"): json_answer(body, 404)})
    for mode in ("all", "none"):
        cassette = CassetteTransport(path, record_mode=mode, transport=scripted)  # type: ignore[arg-type]
        async with DockerClient(api_version="1.41", transport=cassette) as docker:
            with pytest.raises(NotFoundError, match="No such container: nope"):
                await docker.containers.inspect("nope")


async def test_recorded_pace_is_honoured_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "paced.json"
    scripted = ScriptedTransport({("GET", LOGS): Answer(chunks=FRAMES[:2], delay=0.15)})
    request = httpx.Request("GET", f"http://docker{LOGS}")
    recorder = CassetteTransport(path, record_mode="all", transport=scripted)
    await (await recorder.handle_async_request(request)).aread()
    await recorder.aclose()
    offsets = [c.t for c in load_cassette(path).interactions[0].response.chunks]  # type: ignore[union-attr]
    assert offsets[1] >= 0.25

    async def timed(**options: object) -> float:
        transport = CassetteTransport(path, **options)  # type: ignore[arg-type]
        started = anyio.current_time()
        await (await transport.handle_async_request(request)).aread()
        return anyio.current_time() - started

    assert await timed() < 0.1
    assert await timed(pace=1.0) >= offsets[1] - 0.02
    assert await timed(pace=0.1) < offsets[1] / 2


async def test_request_bodies_over_the_limit_keep_only_a_digest(tmp_path: Path) -> None:
    path = tmp_path / "upload.json"
    big = os.urandom(70 * 1024)
    scripted = ScriptedTransport({("PUT", "/v1.41/containers/x/archive"): Answer()})
    request = httpx.Request("PUT", "http://docker/v1.41/containers/x/archive", content=big)
    recorder = CassetteTransport(path, record_mode="all", transport=scripted)
    await (await recorder.handle_async_request(request)).aread()
    await recorder.aclose()
    assert scripted.requests[0][2] == big  # the engine got the whole body
    body = load_cassette(path).interactions[0].request.body
    assert body is not None and body.length == len(big) and body.sha256 is not None
    assert big.hex()[:64] not in path.read_text()

    def put(body: bytes, where: str = "x") -> httpx.Request:
        return httpx.Request("PUT", f"http://docker/v1.41/containers/{where}/archive", content=body)

    replay = CassetteTransport(path)
    assert (await replay.handle_async_request(put(big))).status_code == 200
    replay.assert_all_played()
    # An archive differing only in content (a tar's mtimes) still takes its recorded answer...
    replay = CassetteTransport(path)
    assert (await replay.handle_async_request(put(big[:-1]))).status_code == 200
    # ... but only once, and only at the same method, path and query.
    with pytest.raises(UnmatchedRequestError, match="played already"):
        await replay.handle_async_request(put(big[:-1]))
    with pytest.raises(UnmatchedRequestError, match="path /containers/y/archive here"):
        await CassetteTransport(path).handle_async_request(put(big, "y"))


async def test_streamed_request_bodies_are_forwarded_and_matched(tmp_path: Path) -> None:
    path = tmp_path / "import.json"
    scripted = ScriptedTransport(
        {("POST", "/v1.41/images/create"): json_answer(b'{"status":"sha256:1"}\r\n')}
    )

    async def tar() -> object:
        for piece in (b"a" * 10, b"b" * 10):
            yield piece

    for mode in ("all", "none"):
        cassette = CassetteTransport(path, record_mode=mode, transport=scripted)  # type: ignore[arg-type]
        async with DockerClient(api_version="1.41", transport=cassette) as docker:
            progress = docker.images.import_image(tar(), repo="r", tag="t")  # type: ignore[arg-type]
            async with progress:
                assert [m.status async for m in progress] == ["sha256:1"]
    # The engine got the body as the caller streamed it: same chunks, still chunked.
    assert scripted.pieces[0] == [b"a" * 10, b"b" * 10]


async def test_saved_on_close_or_explicitly(tmp_path: Path) -> None:
    path = tmp_path / "manual.json"
    cassette = CassetteTransport(path, record_mode="all", transport=engine(), save_on_close=False)
    async with DockerClient(transport=cassette) as docker:
        await docker.system.ping()
    assert not path.exists()
    assert cassette.save() and path.exists()
    assert not CassetteTransport(path).save()  # replaying never writes


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"record_mode": "sometimes"}, "record_mode must be one of"),
        ({"pace": -1.0}, "pace must be"),
        ({"rechunk": 0}, "rechunk must be"),
    ],
)
async def test_bad_options_are_rejected(
    tmp_path: Path, options: dict[str, object], message: str
) -> None:
    with pytest.raises(CassetteError, match=message):
        CassetteTransport(tmp_path / "x.json", **options)  # type: ignore[arg-type]


async def test_live_follow_stream_records_and_replays(tmp_path: Path, engine: Engine) -> None:
    """``logs(follow=True)`` of a running busybox on a real engine, through the client's own
    transport: recording must not wait for the (endless) body to end."""
    name = "ls-test-cassette-follow"
    path = tmp_path / "live-follow.json"
    script = ["sh", "-c", "echo one; echo two >&2; echo three; sleep 300"]
    cassette = CassetteTransport(
        path, record_mode="all", transport=lambda: DockerClient(engine.host).transport
    )
    with anyio.fail_after(60):
        async with DockerClient(engine.host, transport=cassette) as docker:
            with contextlib.suppress(NotFoundError):
                await docker.containers.remove(name, force=True)
            created = await docker.containers.create(
                ContainerCreateRequest(image="busybox:local", cmd=script), name=name
            )
            try:
                await docker.containers.start(created.id)
                live = await read_lines(docker, created.id)
            finally:
                await docker.containers.remove(created.id, force=True)
    assert sorted(live) == [(1, b"one\n"), (1, b"three\n"), (2, b"two\n")]
    (logs,) = [i for i in load_cassette(path).interactions if i.request.path.endswith("/logs")]
    assert logs.response is not None and logs.response.end == "closed"

    async with DockerClient(transport=CassetteTransport(path, rechunk=1)) as docker:
        with anyio.fail_after(10):
            with contextlib.suppress(NotFoundError):
                await docker.containers.remove(name, force=True)
            await docker.containers.create(
                ContainerCreateRequest(image="busybox:local", cmd=script), name=name
            )
            await docker.containers.start(created.id)
            assert await read_lines(docker, created.id) == live
            await docker.containers.remove(created.id, force=True)


async def read_lines(docker: DockerClient, container: str) -> list[tuple[int, bytes]]:
    """The first three lines of a followed multiplexed log (frames may split or join lines)."""
    lines: list[tuple[int, bytes]] = []
    pending = {1: b"", 2: b""}
    async with docker.containers.logs(container, tty=False, follow=True) as frames:
        async for item in frames:
            pending[item.stream] += item.data
            while b"\n" in pending[item.stream]:
                line, _, pending[item.stream] = pending[item.stream].partition(b"\n")
                lines.append((item.stream, line + b"\n"))
            if len(lines) >= 3:
                break
    return lines
