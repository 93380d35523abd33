"""DockerRuntime against engine faults, scripted with the public FakeEngine (a real socket).

Two promises: ``remove`` is idempotent even while another removal of the same container is
in progress (the engine answers 409 until it is gone), and a follow of a container's logs
ends when the container stops, whatever the engine does with the stream.
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from typing import Protocol

import anyio
import pytest

from lightshuttle_runtime import ConflictError, DockerClient
from lightshuttle_runtime.runtime import (
    ContainerId,
    ContainerNotFoundError,
    ContainerSpec,
    DockerRuntime,
    LogChunk,
    LogStream,
    LogStreamError,
    RemoveError,
)
from lightshuttle_runtime.testing import (
    Behaviour,
    Close,
    FakeEngine,
    Stall,
    respond,
    respond_json,
    stream_chunks,
)

pytestmark = pytest.mark.anyio

NAME = "lsfault-web"
CID = "fa17" + "0" * 60
#: Seconds within which a follow must notice that its container stopped.
END_BOUND = 5.0


class ReceivedRequest(Protocol):
    """What these scripts read of a request the FakeEngine received."""

    method: str
    path: str
    target: str


Answer = Callable[[ReceivedRequest], Behaviour]


def conflict(text: str) -> Behaviour:
    return respond_json({"message": text}, status=409)


def missing(request: ReceivedRequest) -> Behaviour:
    return respond_json({"message": f"No such container: {request.path}"}, status=404)


def inspect_answer(status: str) -> Behaviour:
    state = {"Status": status, "Running": status == "running", "ExitCode": 0}
    config = {"Image": "busybox:local", "Tty": False}
    return respond_json({"Id": CID, "Name": f"/{NAME}", "State": state, "Config": config})


def frame(stream: int, data: bytes) -> bytes:
    return struct.pack(">BxxxI", stream, len(data)) + data


STAMP = b"2026-12-06T12:00:00.000000001Z "


class Engine:
    """Routes each request by method and path suffix to a list of answers used in turn (the
    last one repeats), and records what was asked."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Answer]] = {}
        self.calls: list[str] = []

    def on(self, method: str, suffix: str, *answers: Answer) -> None:
        self.routes[(method, suffix)] = list(answers)

    def answer(self, request: ReceivedRequest) -> Behaviour:
        self.calls.append(f"{request.method} {request.path}")
        if request.path == "/_ping":
            return respond(200, b"OK")
        for (method, suffix), answers in self.routes.items():
            if request.method == method and request.path.endswith(suffix):
                return (answers.pop(0) if len(answers) > 1 else answers[0])(request)
        return respond_json({"message": f"not scripted: {request.target}"}, status=404)

    def count(self, method: str, suffix: str) -> int:
        return sum(1 for c in self.calls if c.startswith(method) and c.endswith(suffix))


@pytest.fixture
def sock_path() -> Iterator[str]:
    folder = tempfile.mkdtemp(prefix="lsfault-")
    yield os.path.join(folder, "engine.sock")
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
async def script(sock_path: str) -> AsyncIterator[Engine]:
    script = Engine()
    async with FakeEngine(sock_path, script.answer):
        yield script


def runtime_on(sock_path: str, timeout: float = 10.0) -> DockerClient:
    return DockerClient(f"unix://{sock_path}", api_version="1.41", timeout=timeout)


# -- remove while a removal is in progress ------------------------------------------------


IN_PROGRESS = [
    f"removal of container {NAME} is already in progress",  # Docker's wording
    f"container {CID} is being removed",  # another engine's; any 409 is waited out the same
]


@pytest.mark.parametrize("text", IN_PROGRESS, ids=["docker", "other"])
@pytest.mark.parametrize("polls", [0, 1, 4])
async def test_remove_waits_out_a_removal_in_progress(
    script: Engine, sock_path: str, text: str, polls: int
) -> None:
    # The container is still there for ``polls`` inspects (being removed), then gone.
    script.on("DELETE", f"/containers/{NAME}", lambda _r: conflict(text))
    script.on(
        "GET", f"/containers/{NAME}/json", *[lambda _r: inspect_answer("removing")] * polls, missing
    )
    async with runtime_on(sock_path) as client:
        with anyio.fail_after(10):
            await DockerRuntime(client).remove(NAME)
    assert script.count("DELETE", f"/containers/{NAME}") == 1
    assert script.count("GET", f"/containers/{NAME}/json") == polls + 1


async def test_remove_still_conflicting_after_the_request_timeout_is_a_remove_error(
    script: Engine, sock_path: str
) -> None:
    script.on("DELETE", f"/containers/{NAME}", lambda _r: conflict(IN_PROGRESS[0]))
    script.on("GET", f"/containers/{NAME}/json", lambda _r: inspect_answer("removing"))
    async with runtime_on(sock_path, timeout=1.0) as client:
        with pytest.raises(RemoveError) as caught, anyio.fail_after(5):
            await DockerRuntime(client).remove(NAME)
    assert isinstance(caught.value.__cause__, ConflictError)
    assert caught.value.__cause__.status == 409
    assert IN_PROGRESS[0] in str(caught.value)
    assert "still there after 1 s" in str(caught.value)


# -- a follow stream the engine keeps open after the container ended ----------------------


FRAMES = [frame(1, STAMP + b"one\n"), frame(2, STAMP + b"two\n")]


def kept_open(_request: ReceivedRequest) -> Behaviour:
    """The frames, then nothing: no final chunk, the connection held open."""
    return stream_chunks(FRAMES, final=False).then(Stall())


ENDINGS: dict[str, Answer] = {
    "exited": lambda _r: inspect_answer("exited"),
    "dead": lambda _r: inspect_answer("dead"),
    "removed": missing,
}


@pytest.mark.parametrize("ending", ENDINGS.values(), ids=ENDINGS.keys())
@pytest.mark.parametrize("running_checks", [0, 2])
async def test_a_follow_kept_open_after_the_container_stopped_ends(
    script: Engine, sock_path: str, ending: Answer, running_checks: int
) -> None:
    # Inspected once to open the stream, ``running_checks`` times while it is still running,
    # then it has stopped (or is gone).
    running = [lambda _r: inspect_answer("running")] * (1 + running_checks)
    script.on("GET", f"/containers/{CID}/json", *running, ending)
    script.on("GET", f"/containers/{CID}/logs", kept_open)
    async with runtime_on(sock_path) as client:
        with anyio.fail_after(END_BOUND + running_checks * 1.5):
            async with DockerRuntime(client).logs(ContainerId(CID), follow=True) as logs:
                got = [chunk async for chunk in logs]
    assert [(c.stream, c.data) for c in got] == [
        (LogStream.STDOUT, b"one\n"),
        (LogStream.STDERR, b"two\n"),
    ]
    assert all(isinstance(c, LogChunk) for c in got)
    assert script.count("GET", f"/containers/{CID}/json") == 2 + running_checks


async def test_a_follow_of_a_running_container_stays_open(script: Engine, sock_path: str) -> None:
    script.on("GET", f"/containers/{CID}/json", lambda _r: inspect_answer("running"))
    script.on("GET", f"/containers/{CID}/logs", kept_open)
    got: list[bytes] = []
    async with runtime_on(sock_path) as client:
        with anyio.move_on_after(3.5) as waited:
            async with DockerRuntime(client).logs(ContainerId(CID), follow=True) as logs:
                async for chunk in logs:
                    got.append(chunk.data)
    assert waited.cancelled_caught, "the follow ended while its container was running"
    assert got == [b"one\n", b"two\n"]
    assert script.count("GET", f"/containers/{CID}/json") >= 3  # checked while quiet


async def test_a_broken_follow_stream_is_still_an_error(script: Engine, sock_path: str) -> None:
    script.on("GET", f"/containers/{CID}/json", lambda _r: inspect_answer("running"))
    script.on(
        "GET",
        f"/containers/{CID}/logs",
        lambda _r: stream_chunks([FRAMES[0], b"\x01\x00\x00"], final=False).then(Close()),
    )
    async with runtime_on(sock_path) as client:
        with pytest.raises(LogStreamError), anyio.fail_after(END_BOUND):
            async with DockerRuntime(client).logs(ContainerId(CID), follow=True) as logs:
                async for _ in logs:
                    pass


# -- a health wait flooded with events ------------------------------------------


def event_burst(_request: ReceivedRequest) -> Behaviour:
    """Hundreds of health events at once (Podman sends one per check), then the stream held open."""
    record = b'{"Type":"container","Action":"health_status","Actor":{"ID":"%s"}}\n'
    return stream_chunks([record % CID.encode()] * 400, final=False).then(Stall())


def healthy_answer(health: str) -> Behaviour:
    state = {"Status": "running", "Running": True, "ExitCode": 0, "Health": {"Status": health}}
    config = {"Image": "busybox:local", "Healthcheck": {"Test": ["CMD", "true"]}}
    return respond_json({"Id": CID, "Name": f"/{NAME}", "State": state, "Config": config})


async def test_a_burst_of_events_ends_the_wait_without_an_inspect_per_event(
    script: Engine, sock_path: str
) -> None:
    # 400 buffered events arrive at once: they coalesce into one re-inspect, which sees the
    # container healthy; the events still buffered when the wait ends do not fail it.
    script.on("GET", "/events", event_burst)
    script.on(
        "GET",
        f"/containers/{CID}/json",
        lambda _r: healthy_answer("starting"),
        lambda _r: healthy_answer("healthy"),
    )
    async with runtime_on(sock_path) as client:
        with anyio.fail_after(10):
            await DockerRuntime(client).wait_healthy(ContainerId(CID), timedelta(seconds=10))
    assert script.count("GET", f"/containers/{CID}/json") == 2


# -- live ------------------------------------------------------------------------------------


async def test_concurrent_removes_of_one_container_all_succeed(docker: DockerClient) -> None:
    runtime = DockerRuntime(docker)
    name = "lsfault-remove-race"
    await runtime.remove(name)
    spec = ContainerSpec(name=name, image="busybox:local", command=["sleep", "30"])
    await runtime.start(spec)
    with anyio.fail_after(60):
        async with anyio.create_task_group() as tasks:
            for _ in range(4):
                tasks.start_soon(runtime.remove, name)
    with pytest.raises(ContainerNotFoundError):
        await runtime.inspect(ContainerId(name))
