"""DockerRuntime against a scripted engine (httpx.MockTransport): requests sent, answers mapped,
and every client error translated into a runtime error that keeps it as ``__cause__``."""

from __future__ import annotations

import re
import struct
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
import msgspec
import pytest

from lightshuttle_runtime import (
    ConflictError,
    DecodeError,
    DockerClient,
    NotFoundError,
    ServerError,
    SocketNotFoundError,
    StreamError,
    StreamTruncatedError,
)
from lightshuttle_runtime.models import ProgressMessage
from lightshuttle_runtime.runtime import (
    ContainerExitedError,
    ContainerId,
    ContainerNotFoundError,
    ContainerRuntimeError,
    ContainerSpec,
    ContainerUnhealthyError,
    DockerRuntime,
    EngineConnectError,
    HealthcheckSpec,
    Healthy,
    ImagePullError,
    InspectError,
    LogChunk,
    LogStream,
    LogStreamError,
    OperationTimedOut,
    RemoveError,
    StartError,
    StopError,
    Stopped,
    _health,
)

pytestmark = pytest.mark.anyio

CID = "c0ffee" + "0" * 58
SOCKET = "/nonexistent/ls-rt-mock.sock"
Reply = httpx.Response | Callable[[httpx.Request], httpx.Response]


class FakeEngine:
    """Answers requests from a table of ``(method, path regex) -> reply`` and records them.

    A reply is a response, or a function of the request; a list of replies is consumed in
    order (its last item then repeats). Paths are matched without the ``/v1.41`` prefix.
    """

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], list[Reply]]] = []
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, *replies: Reply) -> None:
        self.routes.insert(0, (method, re.compile(path), list(replies)))

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/v1.41")
        for method, pattern, replies in self.routes:
            if method == request.method and pattern.fullmatch(path):
                reply = replies.pop(0) if len(replies) > 1 else replies[0]
                return fresh(reply(request) if callable(reply) else reply)
        return httpx.Response(599, json={"message": f"unscripted {request.method} {path}"})

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        """The requests sent to ``method path`` (path regex, prefix stripped)."""
        pattern = re.compile(path)
        return [
            r
            for r in self.requests
            if r.method == method and pattern.fullmatch(r.url.path.removeprefix("/v1.41"))
        ]

    @property
    def calls(self) -> list[str]:
        return [f"{r.method} {r.url.path.removeprefix('/v1.41')}" for r in self.requests]


class Body(httpx.AsyncByteStream):
    """A body read as it would arrive from a socket (not yet consumed); closing it closes
    its source."""

    def __init__(self, chunks: list[bytes] | AsyncGenerator[bytes, None]) -> None:
        self._source: AsyncGenerator[bytes, None] = (
            _from_list(chunks) if isinstance(chunks, list) else chunks
        )

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._source

    async def aclose(self) -> None:
        await self._source.aclose()


async def _from_list(chunks: list[bytes]) -> AsyncGenerator[bytes, None]:
    for chunk in chunks:
        yield chunk


def fresh(response: httpx.Response) -> httpx.Response:
    """A new, unread copy of a scripted response (a scripted one may be answered again)."""
    if isinstance(response.stream, Body):
        return response
    return httpx.Response(
        response.status_code, headers=response.headers, stream=Body([response.content])
    )


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@asynccontextmanager
async def runtime_on(engine: FakeEngine, **kwargs: Any) -> AsyncIterator[DockerRuntime]:
    transport = httpx.MockTransport(engine.handle)
    async with DockerClient(f"unix://{SOCKET}", transport=transport, api_version="1.41") as client:
        yield DockerRuntime(client, **kwargs)


def message(status: int, text: str) -> httpx.Response:
    return httpx.Response(status, json={"message": text})


def inspect_answer(
    status: str = "running",
    *,
    health: str | None = None,
    exit_code: int = 0,
    tty: bool = False,
    output: str | None = None,
    probe_end: datetime | None = None,
) -> httpx.Response:
    state: dict[str, Any] = {
        "Status": status,
        "Running": status == "running",
        "ExitCode": exit_code,
    }
    config: dict[str, Any] = {"Image": "busybox:local", "Tty": tty}
    if health is not None:
        log = [{"ExitCode": 1, "Output": output}] if output is not None else []
        if probe_end is not None:
            log.append({"ExitCode": 0 if health == "healthy" else 1, "End": probe_end.isoformat()})
        state["Health"] = {"Status": health, "FailingStreak": 0, "Log": log}
        config["Healthcheck"] = {"Test": ["CMD-SHELL", "true"], "Interval": 200_000_000}
    return httpx.Response(
        200, json={"Id": CID, "Name": "/ls-rt-mock", "State": state, "Config": config}
    )


def script_start(engine: FakeEngine) -> None:
    """An engine on which ``start`` works: the image is present."""
    engine.on("GET", r"/images/.+/json", httpx.Response(200, json={"Id": "sha256:" + "1" * 64}))
    engine.on("POST", "/containers/create", httpx.Response(201, json={"Id": CID, "Warnings": []}))
    engine.on("POST", f"/containers/{CID}/start", httpx.Response(204))
    engine.on("DELETE", f"/containers/{CID}", httpx.Response(204))


# No project: a project's network is test_projects.py's business.
SPEC = ContainerSpec(
    name="ls-rt-mock",
    image="busybox:local",
    resource="db",
    env={"A": "1"},
    command=["sleep", "30"],
    healthcheck=HealthcheckSpec(test="true", interval=timedelta(milliseconds=200)),
)


def assert_cause(error: ContainerRuntimeError, cause: type[Exception], status: int | None) -> None:
    assert isinstance(error.__cause__, cause), repr(error.__cause__)
    if status is not None:
        assert getattr(error.__cause__, "status", None) == status
    # The runtime error's message says what failed and why.
    assert str(error.__cause__) in str(error)


# -- start -----------------------------------------------------------------------------------


async def test_start_creates_and_starts_a_present_image(engine: FakeEngine) -> None:
    script_start(engine)
    async with runtime_on(engine) as runtime:
        container_id = await runtime.start(SPEC)
    assert container_id == ContainerId(CID)
    assert engine.calls == [
        "GET /images/busybox:local/json",
        "POST /containers/create",
        f"POST /containers/{CID}/start",
    ]
    (create,) = engine.sent("POST", "/containers/create")
    assert create.url.params["name"] == "ls-rt-mock"
    assert create.headers["content-type"] == "application/json"
    body = msgspec.json.decode(create.content)
    assert body["Image"] == "busybox:local"
    assert body["Labels"] == {"lightshuttle.resource": "db"}
    assert body["Env"] == ["A=1"]
    assert body["Cmd"] == ["sleep", "30"]
    assert body["Healthcheck"]["Interval"] == 200_000_000


@pytest.mark.parametrize(
    ("image", "from_image", "tag"),
    [
        ("busybox", "busybox", "latest"),
        ("busybox:1.36", "busybox", "1.36"),
        ("localhost:5000/app", "localhost:5000/app", "latest"),
        ("localhost:5000/team/app:2", "localhost:5000/team/app", "2"),
        ("app@sha256:" + "ab" * 32, "app", "sha256:" + "ab" * 32),
    ],
)
async def test_start_pulls_a_missing_image_and_reports_progress(
    engine: FakeEngine, image: str, from_image: str, tag: str
) -> None:
    script_start(engine)
    engine.on("GET", r"/images/.+/json", message(404, f"no such image: {image}"))
    progress = (
        b'{"status":"Pulling fs layer","id":"a1"}\r\n{"status":"Download complete","id":"a1"}\n'
    )
    engine.on("POST", "/images/create", httpx.Response(200, content=progress))
    seen: list[ProgressMessage] = []
    async with runtime_on(engine, on_pull_progress=seen.append) as runtime:
        assert await runtime.start(ContainerSpec(name="ls-rt-mock", image=image)) == CID
    (pull,) = engine.sent("POST", "/images/create")
    assert dict(pull.url.params) == {"fromImage": from_image, "tag": tag}
    assert [(m.status, m.id) for m in seen] == [
        ("Pulling fs layer", "a1"),
        ("Download complete", "a1"),
    ]
    assert engine.calls[-2:] == ["POST /containers/create", f"POST /containers/{CID}/start"]


PULL_FAILURES: dict[str, tuple[httpx.Response, type[Exception], int | None]] = {
    # Podman: 200, then the error inside the stream.
    "in-band error": (
        httpx.Response(
            200,
            content=b'{"status":"Trying to pull"}\n'
            b'{"error":"connection refused","errorDetail":{"message":"connection refused"}}\n',
        ),
        StreamError,
        None,
    ),
    # Docker: 500 before any stream when the registry cannot be reached.
    "500 before the stream": (message(500, "dial tcp: connection refused"), ServerError, 500),
    "404 repository": (message(404, "pull access denied for nothing"), NotFoundError, 404),
    "truncated progress": (
        httpx.Response(200, content=b'{"status":"Pulli'),
        StreamTruncatedError,
        None,
    ),
}


@pytest.mark.parametrize(
    ("reply", "cause", "status"), PULL_FAILURES.values(), ids=list(PULL_FAILURES)
)
async def test_a_failed_pull_is_an_image_pull_error_and_nothing_is_created(
    engine: FakeEngine, reply: httpx.Response, cause: type[Exception], status: int | None
) -> None:
    script_start(engine)
    engine.on("GET", r"/images/.+/json", message(404, "no such image"))
    engine.on("POST", "/images/create", reply)
    async with runtime_on(engine) as runtime:
        with pytest.raises(ImagePullError) as caught:
            await runtime.start(SPEC)
    assert_cause(caught.value, cause, status)
    assert "busybox:local" in str(caught.value)
    assert engine.sent("POST", "/containers/create") == []


async def test_an_image_lookup_failure_other_than_404_does_not_pull(engine: FakeEngine) -> None:
    script_start(engine)
    engine.on("GET", r"/images/.+/json", message(500, "storage is broken"))
    async with runtime_on(engine) as runtime:
        with pytest.raises(ImagePullError) as caught:
            await runtime.start(SPEC)
    assert_cause(caught.value, ServerError, 500)
    assert engine.calls == ["GET /images/busybox:local/json"]


CREATE_FAILURES: dict[str, tuple[httpx.Response, type[Exception], int]] = {
    "Docker name conflict": (
        message(409, 'Conflict. The container name "/ls-rt-mock" is already in use'),
        ConflictError,
        409,
    ),
    "Podman name conflict": (
        httpx.Response(
            500,
            json={
                "cause": "that name is already in use",
                "message": "container create: creating container storage: the container name "
                '"ls-rt-mock" is already in use',
                "response": 500,
            },
        ),
        ConflictError,
        500,
    ),
    "image removed meanwhile": (message(404, "No such image: busybox:local"), NotFoundError, 404),
    "no command": (message(400, "No command specified"), Exception, 400),
    "engine failure": (message(500, "no space left on device"), ServerError, 500),
}


@pytest.mark.parametrize(
    ("reply", "cause", "status"), CREATE_FAILURES.values(), ids=list(CREATE_FAILURES)
)
async def test_a_failed_create_is_a_start_error(
    engine: FakeEngine, reply: httpx.Response, cause: type[Exception], status: int
) -> None:
    script_start(engine)
    engine.on("POST", "/containers/create", reply)
    async with runtime_on(engine) as runtime:
        with pytest.raises(StartError) as caught:
            await runtime.start(SPEC)
    assert_cause(caught.value, cause, status)
    assert "ls-rt-mock" in str(caught.value)
    assert engine.sent("POST", r"/containers/.+/start") == []


async def test_a_failed_start_removes_the_created_container(engine: FakeEngine) -> None:
    script_start(engine)
    engine.on("POST", f"/containers/{CID}/start", message(500, "OCI runtime create failed"))
    async with runtime_on(engine) as runtime:
        with pytest.raises(StartError) as caught:
            await runtime.start(SPEC)
    assert_cause(caught.value, ServerError, 500)
    assert "OCI runtime create failed" in str(caught.value)
    (cleanup,) = engine.sent("DELETE", f"/containers/{CID}")
    assert dict(cleanup.url.params) == {"force": "1", "v": "1"}


async def test_an_unreachable_engine_is_an_engine_connect_error(engine: FakeEngine) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 2] No such file or directory", request=request)

    engine.on("GET", r".*", refuse)
    async with runtime_on(engine) as runtime:
        with pytest.raises(EngineConnectError) as caught:
            await runtime.start(SPEC)
        assert isinstance(caught.value.__cause__, SocketNotFoundError)
        assert SOCKET in str(caught.value)
        # the address was given to the client, so the advice is to give another, not DOCKER_HOST
        assert "address was given to the client" in str(caught.value)
        assert "unix://" in str(caught.value)
        with pytest.raises(EngineConnectError):
            await runtime.inspect(ContainerId(CID))


# -- stop, remove ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grace", "t"),
    [
        (timedelta(0), "0"),
        (timedelta(seconds=3), "3"),
        (timedelta(seconds=1, microseconds=1), "2"),
        (timedelta(milliseconds=200), "1"),
    ],
)
async def test_stop_sends_the_grace_in_whole_seconds_rounded_up(
    engine: FakeEngine, grace: timedelta, t: str
) -> None:
    engine.on("POST", f"/containers/{CID}/stop", httpx.Response(204))
    async with runtime_on(engine) as runtime:
        await runtime.stop(ContainerId(CID), grace)
    (stop,) = engine.requests
    assert dict(stop.url.params) == {"t": t}


@pytest.mark.parametrize(
    "reply",
    [httpx.Response(304), message(404, "No such container: ls-rt-mock")],
    ids=["already stopped (304)", "gone (404)"],
)
async def test_stop_of_a_stopped_or_missing_container_succeeds(
    engine: FakeEngine, reply: httpx.Response
) -> None:
    engine.on("POST", f"/containers/{CID}/stop", reply)
    async with runtime_on(engine) as runtime:
        await runtime.stop(ContainerId(CID), timedelta(seconds=1))
    assert engine.calls == [f"POST /containers/{CID}/stop"]


async def test_a_failed_stop_is_a_stop_error(engine: FakeEngine) -> None:
    engine.on("POST", f"/containers/{CID}/stop", message(500, "cannot kill: permission denied"))
    async with runtime_on(engine) as runtime:
        with pytest.raises(StopError) as caught:
            await runtime.stop(ContainerId(CID), timedelta(seconds=1))
    assert_cause(caught.value, ServerError, 500)


async def test_a_negative_grace_is_refused_before_any_request(engine: FakeEngine) -> None:
    async with runtime_on(engine) as runtime:
        with pytest.raises(StopError, match="negative"):
            await runtime.stop(ContainerId(CID), timedelta(seconds=-1))
    assert engine.requests == []


async def test_remove_forces_and_drops_anonymous_volumes(engine: FakeEngine) -> None:
    engine.on("DELETE", "/containers/ls-rt-mock", httpx.Response(204))
    async with runtime_on(engine) as runtime:
        await runtime.remove("ls-rt-mock")
    (remove,) = engine.requests
    assert dict(remove.url.params) == {"force": "1", "v": "1"}


async def test_remove_of_a_missing_container_succeeds(engine: FakeEngine) -> None:
    engine.on("DELETE", "/containers/ls-rt-mock", message(404, "No such container: ls-rt-mock"))
    async with runtime_on(engine) as runtime:
        await runtime.remove("ls-rt-mock")
    assert len(engine.requests) == 1


@pytest.mark.parametrize(
    ("reply", "cause", "status"),
    # A 409 (removal already in progress) is waited out: tests/runtime/test_faults.py.
    [(message(500, "driver failed to remove root filesystem"), ServerError, 500)],
)
async def test_a_failed_remove_is_a_remove_error(
    engine: FakeEngine, reply: httpx.Response, cause: type[Exception], status: int
) -> None:
    engine.on("DELETE", "/containers/ls-rt-mock", reply)
    async with runtime_on(engine) as runtime:
        with pytest.raises(RemoveError) as caught:
            await runtime.remove("ls-rt-mock")
    assert_cause(caught.value, cause, status)


# -- inspect ---------------------------------------------------------------------------------


async def test_inspect_maps_the_state(engine: FakeEngine) -> None:
    engine.on(
        "GET",
        f"/containers/{CID}/json",
        inspect_answer(health="healthy"),
        inspect_answer("exited", exit_code=3),
    )
    async with runtime_on(engine) as runtime:
        assert await runtime.inspect(ContainerId(CID)) == Healthy()
        assert await runtime.inspect(ContainerId(CID)) == Stopped(3)


async def test_inspect_of_a_missing_container_is_not_found(engine: FakeEngine) -> None:
    engine.on("GET", r"/containers/.+/json", message(404, "No such container: nope"))
    async with runtime_on(engine) as runtime:
        with pytest.raises(ContainerNotFoundError, match="nope") as caught:
            await runtime.inspect(ContainerId("nope"))
    assert isinstance(caught.value.__cause__, NotFoundError)
    assert caught.value.__cause__.status == 404


@pytest.mark.parametrize(
    ("reply", "cause"),
    [
        (message(500, "container state is broken"), ServerError),
        (httpx.Response(200, content=b'{"Id": 5}'), DecodeError),
        (httpx.Response(200, content=b"<html>"), DecodeError),
    ],
    ids=["500", "wrong type", "not JSON"],
)
async def test_a_failed_inspect_is_an_inspect_error(
    engine: FakeEngine, reply: httpx.Response, cause: type[Exception]
) -> None:
    engine.on("GET", f"/containers/{CID}/json", reply)
    async with runtime_on(engine) as runtime:
        with pytest.raises(InspectError) as caught:
            await runtime.inspect(ContainerId(CID))
    assert isinstance(caught.value.__cause__, cause)


# -- wait_healthy ----------------------------------------------------------------------------


def streamed(
    body: Callable[[], AsyncGenerator[bytes, None]],
) -> Callable[[httpx.Request], httpx.Response]:
    """A reply that streams a fresh ``body()`` to each request."""

    def reply(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Body(body()))

    return reply


def events_every(seconds: float) -> Callable[[httpx.Request], httpx.Response]:
    """An endless ``GET /events`` body with a health event every ``seconds``."""

    async def body() -> AsyncGenerator[bytes, None]:
        while True:
            await anyio.sleep(seconds)
            yield (
                b'{"Type":"container","Action":"health_status","Actor":{"ID":"'
                + CID.encode()
                + b'"}}\n'
            )

    return streamed(body)


def events_then_quiet(*actions: tuple[str, datetime]) -> Callable[[httpx.Request], httpx.Response]:
    """A ``GET /events`` body with these (action, time) events, then open and silent."""

    async def body() -> AsyncGenerator[bytes, None]:
        for action, when in actions:
            nanoseconds = round(when.timestamp() * 1e9)
            yield (
                msgspec.json.encode(
                    {
                        "Type": "container",
                        "Action": action,
                        "Actor": {"ID": CID},
                        "timeNano": nanoseconds,
                    }
                )
                + b"\n"
            )
        await anyio.sleep_forever()

    return streamed(body)


@pytest.fixture
def exec_died(engine: FakeEngine, no_safety_poll: None) -> datetime:
    """An events stream with one ``exec_died`` (as Podman 4.3 sends), then silent; its time."""
    ended = datetime.now(UTC)
    engine.on("GET", "/events", events_then_quiet(("exec_died", ended)))
    return ended


async def test_wait_healthy_rereads_until_a_probe_podman_announced_is_stored(
    engine: FakeEngine, exec_died: datetime
) -> None:
    # Podman 4.3 sends exec_died as a probe's command ends and stores the result a moment
    # later; the re-inspect it prompts may come first, and no event follows the store.
    ended = exec_died
    engine.on(
        "GET",
        f"/containers/{CID}/json",
        inspect_answer(health="starting"),
        inspect_answer(health="starting", probe_end=ended - timedelta(seconds=1)),
        inspect_answer(health="starting", probe_end=ended - timedelta(seconds=1)),
        inspect_answer(health="healthy", probe_end=ended + timedelta(milliseconds=3)),
    )
    async with runtime_on(engine) as runtime:
        with anyio.fail_after(10):
            await runtime.wait_healthy(ContainerId(CID), timedelta(seconds=10))
    assert len(engine.sent("GET", f"/containers/{CID}/json")) == 4


@pytest.mark.usefixtures("exec_died")
async def test_wait_healthy_stops_rereading_after_an_exec_that_was_no_probe(
    engine: FakeEngine,
) -> None:
    # A user's exec also ends in exec_died; no probe result follows it.
    engine.on("GET", f"/containers/{CID}/json", inspect_answer(health="starting"))
    async with runtime_on(engine) as runtime:
        with pytest.raises(OperationTimedOut), anyio.fail_after(10):
            await runtime.wait_healthy(ContainerId(CID), timedelta(seconds=sum(_health.SETTLE) + 1))
    # the first look, the one exec_died prompted, one per pause, and the timeout's own
    assert len(engine.sent("GET", f"/containers/{CID}/json")) == 2 + len(_health.SETTLE) + 1


@pytest.mark.usefixtures("no_safety_poll")
async def test_wait_healthy_ends_on_dockers_healthy_event_without_another_inspect(
    engine: FakeEngine,
) -> None:
    # the engine says so once the result is stored; a busy engine may answer inspect late
    engine.on("GET", "/events", events_then_quiet(("health_status: healthy", datetime.now(UTC))))
    engine.on("GET", f"/containers/{CID}/json", inspect_answer(health="starting"))
    async with runtime_on(engine) as runtime:
        with anyio.fail_after(10):
            await runtime.wait_healthy(ContainerId(CID), timedelta(seconds=10))
    assert len(engine.sent("GET", f"/containers/{CID}/json")) == 1


async def test_wait_healthy_waits_through_starting(engine: FakeEngine) -> None:
    engine.on("GET", "/events", events_every(0.01))
    engine.on(
        "GET",
        f"/containers/{CID}/json",
        inspect_answer(health="starting"),
        inspect_answer(health="starting"),
        inspect_answer(health="starting"),
        inspect_answer(health="healthy"),
    )
    async with runtime_on(engine) as runtime:
        with anyio.fail_after(10):
            await runtime.wait_healthy(ContainerId(CID), timedelta(seconds=10))
    assert len(engine.sent("GET", f"/containers/{CID}/json")) == 4


async def test_wait_healthy_without_a_check_returns_once_running(engine: FakeEngine) -> None:
    engine.on("GET", "/events", events_every(0.01))
    engine.on("GET", f"/containers/{CID}/json", inspect_answer("created"), inspect_answer())
    async with runtime_on(engine) as runtime:
        with anyio.fail_after(10):
            await runtime.wait_healthy(ContainerId(CID), timedelta(seconds=10))
    assert len(engine.sent("GET", f"/containers/{CID}/json")) == 2


async def test_wait_healthy_raises_when_the_container_exits_first(engine: FakeEngine) -> None:
    engine.on("GET", "/events", events_every(0.01))
    engine.on(
        "GET",
        f"/containers/{CID}/json",
        inspect_answer(health="starting"),
        inspect_answer("exited", health="starting", exit_code=3, output="no /tmp/ready\n"),
    )
    async with runtime_on(engine) as runtime:
        with pytest.raises(ContainerExitedError) as caught, anyio.fail_after(10):
            await runtime.wait_healthy(ContainerId(CID), timedelta(seconds=10))
    assert caught.value.exit_code == 3
    assert caught.value.health_output == "no /tmp/ready"
    assert "code 3" in str(caught.value)


async def test_wait_healthy_raises_when_the_check_fails(engine: FakeEngine) -> None:
    engine.on("GET", "/events", events_every(0.01))
    engine.on(
        "GET",
        f"/containers/{CID}/json",
        inspect_answer(health="starting"),
        inspect_answer(health="unhealthy", output="connection refused"),
    )
    async with runtime_on(engine) as runtime:
        with pytest.raises(ContainerUnhealthyError) as caught, anyio.fail_after(10):
            await runtime.wait_healthy(ContainerId(CID), timedelta(seconds=10))
    assert caught.value.health_output == "connection refused"


async def test_wait_healthy_times_out(engine: FakeEngine) -> None:
    engine.on("GET", "/events", events_every(0.01))
    engine.on("GET", f"/containers/{CID}/json", inspect_answer(health="starting", output="not yet"))
    async with runtime_on(engine) as runtime:
        with pytest.raises(OperationTimedOut) as caught, anyio.fail_after(10):
            await runtime.wait_healthy(ContainerId(CID), timedelta(milliseconds=300))
    assert caught.value.operation == "wait_healthy"
    assert caught.value.duration == timedelta(milliseconds=300)
    assert "0.3 s" in str(caught.value)
    assert "not yet" in str(caught.value)


async def test_wait_healthy_of_a_missing_container_is_not_found(engine: FakeEngine) -> None:
    engine.on("GET", "/events", events_every(0.01))
    engine.on("GET", f"/containers/{CID}/json", message(404, f"No such container: {CID}"))
    async with runtime_on(engine) as runtime:
        with pytest.raises(ContainerNotFoundError), anyio.fail_after(10):
            await runtime.wait_healthy(ContainerId(CID), timedelta(seconds=10))


async def test_wait_healthy_carries_on_when_the_event_stream_fails(engine: FakeEngine) -> None:
    engine.on("GET", "/events", message(500, "events are broken"))
    engine.on(
        "GET",
        f"/containers/{CID}/json",
        inspect_answer(health="starting"),
        inspect_answer(health="healthy"),
    )
    async with runtime_on(engine) as runtime:
        with anyio.fail_after(10):
            await runtime.wait_healthy(ContainerId(CID), timedelta(seconds=10))


# -- logs ------------------------------------------------------------------------------------


def frame(stream: int, data: bytes) -> bytes:
    return struct.pack(">BxxxI", stream, len(data)) + data


def logs_reply(*chunks: bytes) -> Callable[[httpx.Request], httpx.Response]:
    def reply(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Body(list(chunks)))

    return reply


T1 = b"2026-11-30T09:33:27.495742260Z "
T2 = b"2026-11-30T09:33:28Z "


async def read_all(runtime: DockerRuntime, follow: bool = False) -> list[LogChunk]:
    async with runtime.logs(ContainerId(CID), follow=follow) as logs:
        return [chunk async for chunk in logs]


async def test_logs_separate_stdout_and_stderr_and_parse_timestamps(engine: FakeEngine) -> None:
    engine.on("GET", f"/containers/{CID}/json", inspect_answer())
    engine.on(
        "GET",
        f"/containers/{CID}/logs",
        logs_reply(frame(1, T1 + b"out\n"), frame(2, T2 + b"err\n")),
    )
    async with runtime_on(engine) as runtime:
        chunks = await read_all(runtime)
    assert chunks == [
        LogChunk(LogStream.STDOUT, datetime(2026, 11, 30, 9, 33, 27, 495742, tzinfo=UTC), b"out\n"),
        LogChunk(LogStream.STDERR, datetime(2026, 11, 30, 9, 33, 28, tzinfo=UTC), b"err\n"),
    ]
    (logs,) = engine.sent("GET", f"/containers/{CID}/logs")
    assert dict(logs.url.params) == {
        "follow": "0",
        "stdout": "1",
        "stderr": "1",
        "timestamps": "1",
        "tail": "all",
    }


async def test_logs_of_a_tty_container_are_raw_stdout(engine: FakeEngine) -> None:
    engine.on("GET", f"/containers/{CID}/json", inspect_answer(tty=True))
    engine.on("GET", f"/containers/{CID}/logs", logs_reply(T1 + b"hello\r\n", T2 + b"\x01\x00\r\n"))
    async with runtime_on(engine) as runtime:
        chunks = await read_all(runtime, follow=True)
    assert [(c.stream, c.data) for c in chunks] == [
        (LogStream.STDOUT, b"hello\r\n"),
        (LogStream.STDOUT, b"\x01\x00\r\n"),
    ]
    (logs,) = engine.sent("GET", f"/containers/{CID}/logs")
    assert logs.url.params["follow"] == "1"


async def test_logs_of_a_missing_container_are_not_found(engine: FakeEngine) -> None:
    engine.on("GET", f"/containers/{CID}/json", message(404, "No such container"))
    async with runtime_on(engine) as runtime:
        with pytest.raises(ContainerNotFoundError):
            await read_all(runtime)
    assert engine.sent("GET", f"/containers/{CID}/logs") == []


@pytest.mark.parametrize(
    ("body", "cause"),
    [
        (frame(1, T1 + b"out\n") + frame(3, b"error from daemon in stream"), StreamError),
        (frame(1, T1 + b"out\n")[:-2], StreamTruncatedError),
    ],
    ids=["stream-type-3 frame", "truncated frame"],
)
async def test_a_broken_log_stream_is_a_log_stream_error_after_the_good_chunks(
    engine: FakeEngine, body: bytes, cause: type[Exception]
) -> None:
    engine.on("GET", f"/containers/{CID}/json", inspect_answer())
    engine.on("GET", f"/containers/{CID}/logs", logs_reply(body))
    got: list[bytes] = []
    async with runtime_on(engine) as runtime:
        with pytest.raises(LogStreamError) as caught:
            async with runtime.logs(ContainerId(CID), follow=False) as logs:
                async for chunk in logs:
                    got.append(chunk.data)
    assert isinstance(caught.value.__cause__, cause)
    if cause is StreamError:
        assert got == [b"out\n"]
        assert "error from daemon in stream" in str(caught.value)


async def test_a_failed_logs_request_is_a_log_stream_error(engine: FakeEngine) -> None:
    engine.on("GET", f"/containers/{CID}/json", inspect_answer())
    engine.on(
        "GET", f"/containers/{CID}/logs", message(500, "logging driver does not support reading")
    )
    async with runtime_on(engine) as runtime:
        with pytest.raises(LogStreamError) as caught:
            await read_all(runtime)
    assert_cause(caught.value, ServerError, 500)


async def test_logs_closed_early_stop_yielding(engine: FakeEngine) -> None:
    engine.on("GET", f"/containers/{CID}/json", inspect_answer())
    engine.on(
        "GET",
        f"/containers/{CID}/logs",
        logs_reply(frame(1, T1 + b"one\n"), frame(1, T1 + b"two\n")),
    )
    async with runtime_on(engine) as runtime:
        logs = runtime.logs(ContainerId(CID), follow=True)
        first = await logs.__anext__()
        await logs.aclose()
        await logs.aclose()
        assert first.data == b"one\n"
        assert [chunk async for chunk in logs] == []


def test_every_runtime_error_derives_from_the_base() -> None:
    for error in (
        ImagePullError,
        StartError,
        StopError,
        RemoveError,
        InspectError,
        ContainerNotFoundError,
        LogStreamError,
        EngineConnectError,
    ):
        assert issubclass(error, ContainerRuntimeError)
