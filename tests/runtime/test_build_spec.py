"""ContainerSpec with a BuildSpec image: validation, ``start`` building first (offline, on a
scripted engine), and live on Docker and Podman.

Live tests are replay-friendly: fixed tags ``ls-build-test:<scenario>`` and container names
``ls-build-test-<scenario>``, removed before and after; contexts with fixed contents, packed
into byte-identical tars (mtime 0); no random values, no timing assertions.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import anyio
import httpx
import pytest

from lightshuttle_runtime import DockerClient, NotFoundError, SocketNotFoundError
from lightshuttle_runtime.models import BuildMessage
from lightshuttle_runtime.runtime import (
    BuildError,
    BuildSpec,
    ContainerNotFoundError,
    ContainerSpec,
    DockerRuntime,
    EngineConnectError,
    HealthcheckSpec,
    InvalidSpecError,
)
from lightshuttle_runtime.runtime._create import create_request
from tests.conftest import Engine

pytestmark = pytest.mark.anyio

BASE = "FROM busybox:local\n"
IMAGE_ID = "sha256:" + "5e" * 32
CID = "c0ffee" + "0" * 58
#: Seconds any single live step may take before the test fails instead of hanging.
LIMIT = 120


def write_context(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


# -- validation --------------------------------------------------------------------------------


def test_a_valid_build_spec(tmp_path: Path) -> None:
    write_context(tmp_path, {"docker/Dockerfile": BASE})
    build = BuildSpec(
        tmp_path, dockerfile="docker/Dockerfile", build_args={"A": ""}, target="t", tag="app:1"
    )
    ContainerSpec(name="ls-build-test-valid", image=build).validate()


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda p: BuildSpec(p / "missing"), "does not exist or is not a directory"),
        (lambda p: BuildSpec(p / "Dockerfile"), "is not a directory"),
        (lambda p: BuildSpec(p, dockerfile="../Dockerfile"), "not inside the build context"),
        (lambda p: BuildSpec(p, dockerfile=""), "non-empty path"),
        (lambda p: BuildSpec(p, tag="Not:Valid"), "Not:Valid"),
        (lambda p: BuildSpec(p, build_args={"": "x"}), "build arg"),
        (lambda p: BuildSpec(p, build_args={"A": 1}), "build arg"),  # type: ignore[dict-item]
        (lambda p: BuildSpec(p, target=""), "build target"),
    ],
)
def test_invalid_build_specs_are_refused(
    tmp_path: Path, make: Callable[[Path], BuildSpec], match: str
) -> None:
    write_context(tmp_path, {"Dockerfile": BASE})
    spec = ContainerSpec(name="ls-build-test-invalid", image=make(tmp_path))
    with pytest.raises(InvalidSpecError, match=match):
        spec.validate()


def test_a_missing_dockerfile_is_not_a_spec_error(tmp_path: Path) -> None:
    # The builder reports it (a BuildError at start), as docker build does.
    BuildSpec(tmp_path, dockerfile="Nope").validate()


def test_create_request_needs_the_built_image(tmp_path: Path) -> None:
    spec = ContainerSpec(name="ls-build-test-create", image=BuildSpec(tmp_path))
    with pytest.raises(InvalidSpecError, match="build it first"):
        create_request(spec)
    assert create_request(spec, image=IMAGE_ID).image == IMAGE_ID
    plain = ContainerSpec(name="ls-build-test-create", image="busybox:local")
    assert create_request(plain).image == "busybox:local"


# -- start on a scripted engine ---------------------------------------------------------------


class ScriptedEngine:
    """Answers /build with ``lines`` (or ``status``), and creates and starts containers."""

    def __init__(self, lines: list[dict[str, object]], *, status: int = 200) -> None:
        self.lines = lines
        self.status = status
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        path = request.url.path
        if path.endswith("/build"):
            if self.status != 200:
                message = {"message": "Cannot locate specified Dockerfile: Nope"}
                return httpx.Response(self.status, json=message)
            body = b"".join(json.dumps(line).encode() + b"\r\n" for line in self.lines)
            return httpx.Response(200, stream=OneChunk(body))
        if path.endswith("/containers/create"):
            return httpx.Response(201, json={"Id": CID, "Warnings": []})
        if path.endswith("/start"):
            return httpx.Response(204)
        return httpx.Response(404, json={"message": f"unexpected {request.method} {path}"})

    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests]


class OneChunk(httpx.AsyncByteStream):
    """A response body that is no async generator (trio warns about unfinished ones)."""

    def __init__(self, data: bytes) -> None:
        self._chunks = [data]

    def __aiter__(self) -> OneChunk:
        return self

    async def __anext__(self) -> bytes:
        if not self._chunks:
            raise StopAsyncIteration
        return self._chunks.pop()


@contextlib.asynccontextmanager
async def scripted(engine: ScriptedEngine) -> AsyncIterator[DockerClient]:
    async with DockerClient(transport=httpx.MockTransport(engine), api_version="1.41") as client:
        yield client


def build_spec(tmp_path: Path, **kwargs: object) -> ContainerSpec:
    """A spec whose build the scripted engine answers as a classic builder would."""
    kwargs.setdefault("builder", "classic")
    write_context(tmp_path, {"Dockerfile": BASE, "app.txt": "app"})
    return ContainerSpec(
        name="ls-build-test-scripted",
        image=BuildSpec(tmp_path, **kwargs),  # type: ignore[arg-type]
        command=["sleep", "30"],
    )


async def test_start_builds_then_creates_from_the_image_id(tmp_path: Path) -> None:
    engine = ScriptedEngine(
        [
            {"stream": "Step 1/1 : FROM busybox:local"},
            {"stream": "\n"},
            {"aux": {"ID": IMAGE_ID}},
            {"stream": "Successfully tagged app:1\n"},
        ]
    )
    seen: list[BuildMessage] = []
    spec = build_spec(tmp_path, build_args={"A": "1"}, target="final", tag="app:1")
    async with scripted(engine) as client:
        runtime = DockerRuntime(client, on_build_progress=seen.append)
        assert await runtime.start(spec) == CID
    assert engine.paths() == [
        "POST /v1.41/build",
        "POST /v1.41/containers/create",
        f"POST /v1.41/containers/{CID}/start",
    ]
    build, create = engine.requests[0], engine.requests[1]
    query = dict(build.url.params)
    assert query["t"] == "app:1" and query["target"] == "final" and query["forcerm"] == "1"
    assert json.loads(query["buildargs"]) == {"A": "1"}
    assert json.loads(create.content)["Image"] == IMAGE_ID
    assert [m.step for m in seen if m.step] == ["FROM busybox:local"]
    assert len(seen) == 4


async def test_without_an_aux_id_the_tag_is_used(tmp_path: Path) -> None:
    engine = ScriptedEngine([{"stream": "Successfully tagged app:1\n"}])
    async with scripted(engine) as client:
        await DockerRuntime(client).start(build_spec(tmp_path, tag="app:1"))
    assert json.loads(engine.requests[1].content)["Image"] == "app:1"


async def test_without_an_id_or_a_tag_the_build_fails(tmp_path: Path) -> None:
    engine = ScriptedEngine([{"stream": "done\n"}])
    async with scripted(engine) as client:
        with pytest.raises(BuildError, match="no image id"):
            await DockerRuntime(client).start(build_spec(tmp_path))
    assert engine.paths() == ["POST /v1.41/build"]


async def test_an_in_band_error_is_a_build_error_with_step_and_code(tmp_path: Path) -> None:
    message = "The command '/bin/sh -c exit 3' returned a non-zero code: 3"
    engine = ScriptedEngine(
        [
            {"stream": "Step 2/2 : RUN exit 3"},
            {"stream": "\n"},
            {"error": message, "errorDetail": {"code": 3, "message": message}},
        ]
    )
    async with scripted(engine) as client:
        with pytest.raises(BuildError) as caught:
            await DockerRuntime(client).start(build_spec(tmp_path))
    error = caught.value
    assert (error.step, error.code, error.builder_message) == ("[2/2] RUN exit 3", 3, message)
    assert "at step '[2/2] RUN exit 3'" in str(error) and message in str(error)
    assert engine.paths() == ["POST /v1.41/build"]  # no container was created


async def test_an_error_status_is_a_build_error(tmp_path: Path) -> None:
    engine = ScriptedEngine([], status=500)
    async with scripted(engine) as client:
        with pytest.raises(BuildError) as caught:
            await DockerRuntime(client).start(build_spec(tmp_path, dockerfile="Nope"))
    assert caught.value.builder_message == "Cannot locate specified Dockerfile: Nope"
    assert caught.value.step is None and caught.value.code is None


async def test_a_malformed_dockerignore_is_a_build_error(tmp_path: Path) -> None:
    engine = ScriptedEngine([])
    spec = build_spec(tmp_path)
    (tmp_path / ".dockerignore").write_text("[oops\n")
    async with scripted(engine) as client:
        with pytest.raises(BuildError, match=r"malformed \.dockerignore pattern"):
            await DockerRuntime(client).start(spec)
    assert engine.requests == []


async def test_an_unreachable_engine_is_an_engine_connect_error(tmp_path: Path) -> None:
    async with DockerClient("unix:///nonexistent/ls-build-test.sock") as client:
        with pytest.raises(EngineConnectError) as caught:
            await DockerRuntime(client).start(build_spec(tmp_path))
    assert isinstance(caught.value.__cause__, SocketNotFoundError)


# -- live on Docker and Podman -----------------------------------------------------------------


@contextlib.asynccontextmanager
async def cleaned(
    runtime: DockerRuntime, container: str, *images: str
) -> AsyncIterator[DockerRuntime]:
    """Removes the container and images before and after the block."""

    async def clean() -> None:
        await runtime.remove(container)
        for image in images:
            with contextlib.suppress(NotFoundError):
                await runtime.client.images.remove(image, force=True)

    await clean()
    try:
        yield runtime
    finally:
        with anyio.CancelScope(shield=True):
            await clean()


async def test_start_from_a_build_spec_becomes_healthy(
    docker: DockerClient, engine: Engine, tmp_path: Path
) -> None:
    name, tag = "ls-build-test-healthy", "ls-build-test:healthy"
    write_context(
        tmp_path,
        {
            "Dockerfile": BASE + "COPY greeting /greeting\nRUN echo hi > /x\n"
            'CMD ["sleep", "600"]\n',
            "greeting": "hello from the context\n",
            ".dockerignore": "*.tmp\n",
            "scratch.tmp": "left out",
        },
    )
    seen: list[BuildMessage] = []
    runtime = DockerRuntime(docker, on_build_progress=seen.append)
    spec = ContainerSpec(
        name=name,
        image=BuildSpec(tmp_path, tag=tag),
        healthcheck=HealthcheckSpec(
            test=["cat", "/x", "/greeting"],
            interval=timedelta(milliseconds=200),
            timeout=timedelta(seconds=5),
            retries=1,
        ),
    )
    async with cleaned(runtime, name, tag):
        with anyio.fail_after(LIMIT):
            container = await runtime.start(spec)
            await runtime.wait_healthy(container, timedelta(seconds=LIMIT))
        info = await docker.containers.inspect(container)
        built = [m.image_id for m in seen if m.image_id]
        assert info.image == built[-1]
        assert (await docker.images.inspect(tag)).id == built[-1]
        # The default builder is BuildKit on Docker (trace records), buildah on Podman.
        traced = any(m.trace is not None for m in seen)
        assert traced is (not engine.is_podman)
        health = info.state.health
        assert health is not None and health.log
        # Podman strips the output's last newline.
        assert (health.log[-1].output or "").rstrip("\n") == "hi\nhello from the context"


async def test_build_args_and_target_reach_the_image(docker: DockerClient, tmp_path: Path) -> None:
    name, tag = "ls-build-test-stages", "ls-build-test:stages-runtime"
    write_context(
        tmp_path,
        {
            "build/app.Dockerfile": "FROM busybox:local AS first\nARG WORD=unset\n"
            "RUN echo $WORD > /word\nFROM first AS second\nRUN echo second > /word\n",
        },
    )
    runtime = DockerRuntime(docker)
    spec = ContainerSpec(
        name=name,
        image=BuildSpec(
            tmp_path,
            dockerfile="build/app.Dockerfile",
            build_args={"WORD": "from-arg"},
            target="first",
            tag=tag,
        ),
        command=["cat", "/word"],
    )
    async with cleaned(runtime, name, tag):
        with anyio.fail_after(LIMIT):
            container = await runtime.start(spec)
            assert (await docker.containers.wait(container)).status_code == 0
        async with runtime.logs(container, follow=False) as logs:
            output = b"".join([chunk.data async for chunk in logs])
        assert output == b"from-arg\n"


async def test_a_failing_run_is_a_build_error(
    docker: DockerClient, engine: Engine, tmp_path: Path
) -> None:
    name, tag = "ls-build-test-failing", "ls-build-test:failing"
    write_context(tmp_path, {"Dockerfile": BASE + "RUN echo before && exit 3\n"})
    seen: list[BuildMessage] = []
    runtime = DockerRuntime(docker, on_build_progress=seen.append)
    spec = ContainerSpec(name=name, image=BuildSpec(tmp_path, tag=tag))
    async with cleaned(runtime, name, tag):
        with pytest.raises(BuildError) as caught, anyio.fail_after(LIMIT):
            await runtime.start(spec)
        with pytest.raises(ContainerNotFoundError):
            await runtime._inspect(name)
    error = caught.value
    # BuildKit (Docker) and buildah (Podman) name the step alike; the log tail has its output.
    assert error.step is not None and error.step.endswith("2/2] RUN echo before && exit 3")
    assert error.log == ("before",)
    assert error.builder_message is not None and error.builder_message in str(error)
    assert error.code is None  # only Docker's classic builder sends a code
    if engine.is_podman:
        assert "exit status 3" in error.builder_message
    else:
        assert "exit code: 3" in error.builder_message


async def test_a_missing_dockerfile_is_a_build_error(docker: DockerClient, tmp_path: Path) -> None:
    name = "ls-build-test-missing"
    write_context(tmp_path, {"app.txt": ""})
    runtime = DockerRuntime(docker)
    spec = ContainerSpec(name=name, image=BuildSpec(tmp_path, dockerfile="Nope"))
    async with cleaned(runtime, name):
        with pytest.raises(BuildError) as caught, anyio.fail_after(LIMIT):
            await runtime.start(spec)
    message = caught.value.builder_message
    # In-band from BuildKit (Docker's default) and buildah alike; Docker's classic builder
    # answers 500 "Cannot locate specified Dockerfile: Nope" before the stream instead
    # (tests/api/test_build.py).
    assert message is not None and "Nope: no such file or directory" in message
