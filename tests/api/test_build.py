"""``POST /build``: the request we send (offline, through a mock transport) and real builds on
Docker and Podman.

Live tests are replay-friendly: fixed tags ``ls-build-test:<scenario>`` and container names
``ls-build-test-<scenario>``, removed before and after; contexts written with fixed contents,
packed into byte-identical tars (mtime 0); no random values.

These are the classic builders' tests (``builder="classic"``: Docker's classic builder,
Podman's buildah); BuildKit and ``builder="auto"`` are tested in ``test_build_buildkit.py``.

Engine differences met here (see also ENGINES.md):
- output: Docker's classic builder writes ``Step 2/3 : RUN ...`` (and its ``\\n`` as a separate
  line), Podman's buildah ``STEP 2/3: RUN ...\\n``; both end with ``aux.ID`` lines;
- a failing RUN: an in-band error on both, with the exit code as ``errorDetail.code`` on Docker
  only, and different texts;
- a missing Dockerfile: Docker answers 500 before the stream, Podman reports it in-band.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import tarfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
import httpx
import pytest

from lightshuttle_runtime import (
    BuildStepError,
    DockerClient,
    DockerError,
    InvalidArgumentError,
    NotFoundError,
    ServerError,
    StreamError,
)
from lightshuttle_runtime.models import BuildMessage
from tests.conftest import Engine

pytestmark = pytest.mark.anyio

BASE = "FROM busybox:local\n"
# Bounds a build, so a regression fails instead of hanging.
PATIENCE = 120


# -- the request, offline ------------------------------------------------------------------------


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


def mock_client(
    lines: list[dict[str, object]], seen: list[httpx.Request], *, status: int = 200
) -> DockerClient:
    async def handler(request: httpx.Request) -> httpx.Response:
        await request.aread()
        seen.append(request)
        if status != 200:
            return httpx.Response(status, json={"message": "Cannot locate specified Dockerfile: X"})
        body = b"".join(json.dumps(line).encode() + b"\r\n" for line in lines)
        headers = {"Content-Type": "application/json"}
        return httpx.Response(200, stream=OneChunk(body), headers=headers)

    return DockerClient(transport=httpx.MockTransport(handler), api_version="1.41")


def tar_names(data: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return tar.getnames()


def write_context(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


async def collect(docker: DockerClient, *args: object, **kwargs: object) -> list[BuildMessage]:
    kwargs.setdefault("builder", "classic")
    with anyio.fail_after(PATIENCE):
        async with docker.build(*args, **kwargs) as stream:  # type: ignore[arg-type]
            return [message async for message in stream]


async def test_the_request_carries_the_packed_context_and_parameters(tmp_path: Path) -> None:
    write_context(
        tmp_path,
        {"docker/app.Dockerfile": BASE, ".dockerignore": "*.log\n", "a.txt": "", "x.log": ""},
    )
    seen: list[httpx.Request] = []
    aux: dict[str, object] = {"aux": {"ID": "sha256:" + "ab" * 32}}
    async with mock_client([{"stream": "Step 1/1 : FROM busybox:local"}, aux], seen) as docker:
        messages = await collect(
            docker,
            tmp_path,
            dockerfile="docker/app.Dockerfile",
            tags=["ls-build-test:one", "ls-build-test:two"],
            buildargs={"A": "1"},
            target="final",
            labels={"k": "v"},
            nocache=True,
            pull=True,
            forcerm=True,
            platform="linux/amd64",
            registry_config={"reg.example:5000": {"username": "u", "password": "p"}},
        )
    assert [m.step for m in messages] == ["FROM busybox:local", None]
    assert messages[1].image_id == "sha256:" + "ab" * 32
    (request,) = seen
    assert request.method == "POST" and request.url.path == "/v1.41/build"
    assert request.url.params.get_list("t") == ["ls-build-test:one", "ls-build-test:two"]
    query = dict(request.url.params)
    assert query["dockerfile"] == "docker/app.Dockerfile"
    assert json.loads(query["buildargs"]) == {"A": "1"}
    assert json.loads(query["labels"]) == {"k": "v"}
    assert (query["target"], query["platform"]) == ("final", "linux/amd64")
    assert (query["nocache"], query["pull"], query["rm"], query["forcerm"]) == ("1", "1", "1", "1")
    assert "q" not in query
    assert request.headers["content-type"] == "application/x-tar"
    config = json.loads(base64.urlsafe_b64decode(request.headers["x-registry-config"]))
    assert config == {"reg.example:5000": {"username": "u", "password": "p"}}
    assert tar_names(request.content) == [
        ".dockerignore",
        "a.txt",
        "docker",
        "docker/app.Dockerfile",
    ]


async def test_defaults_send_only_what_is_needed() -> None:
    seen: list[httpx.Request] = []
    async with mock_client([{"stream": "done\n"}], seen) as docker:
        await collect(docker, b"tar bytes")
    query = dict(seen[0].url.params)
    assert query == {"dockerfile": "Dockerfile", "rm": "1"}
    assert seen[0].content == b"tar bytes"
    assert "x-registry-config" not in seen[0].headers


async def test_an_async_iterable_context_is_sent_chunked() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"part one, "
        yield b"part two"

    seen: list[httpx.Request] = []
    async with mock_client([], seen) as docker:
        assert await collect(docker, chunks(), tags="ls-build-test:chunked") == []
    assert seen[0].content == b"part one, part two"
    assert seen[0].headers["transfer-encoding"] == "chunked"


async def test_an_in_band_error_raises_with_the_builders_message() -> None:
    lines: list[dict[str, object]] = [
        {"stream": "STEP 2/2: RUN exit 3\n"},
        {"error": "boom\n", "errorDetail": {"message": "building at STEP: exit status 3\n"}},
        {"stream": "never seen\n"},
    ]
    seen: list[httpx.Request] = []
    received: list[BuildMessage] = []
    async with mock_client(lines, seen) as docker:
        with pytest.raises(StreamError) as caught:
            async with docker.build(b"", builder="classic") as stream:
                async for message in stream:
                    received.append(message)
    assert [m.step for m in received] == ["RUN exit 3"]
    assert caught.value.message == "building at STEP: exit status 3"
    assert caught.value.code is None
    assert (caught.value.method, caught.value.path) == ("POST", "/v1.41/build")  # as sent


async def test_an_error_status_before_the_stream_raises() -> None:
    seen: list[httpx.Request] = []
    async with mock_client([], seen, status=500) as docker:
        with pytest.raises(ServerError, match="Cannot locate specified Dockerfile"):
            await collect(docker, b"", dockerfile="X")


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda d, p: d.build(p / "missing"), "is not a directory"),
        (lambda d, p: d.build(p, dockerfile="../Dockerfile"), "not inside the build context"),
        (lambda d, p: d.build(p, tags=["Bad:Tag"]), "Bad:Tag"),
        (lambda d, p: d.build(p, buildargs={"": "x"}), "buildargs"),
        (lambda d, p: d.build(p, labels={"k": 1}), "labels"),
        (lambda d, p: d.build(12), "build context must be"),
        (lambda d, p: d.build(b"", dockerfile=""), "dockerfile"),
    ],
)
async def test_bad_arguments_are_refused_before_any_request(
    tmp_path: Path, call: Callable[[DockerClient, Path], object], match: str
) -> None:
    seen: list[httpx.Request] = []
    async with mock_client([], seen) as docker:
        with pytest.raises(InvalidArgumentError, match=match):
            call(docker, tmp_path)
    assert seen == []


async def test_a_malformed_dockerignore_is_refused_when_the_stream_opens(tmp_path: Path) -> None:
    write_context(tmp_path, {"Dockerfile": BASE, ".dockerignore": "[\n"})
    seen: list[httpx.Request] = []
    async with mock_client([], seen) as docker:
        with pytest.raises(InvalidArgumentError, match="malformed"):
            await collect(docker, tmp_path)
    assert seen == []


def test_build_message_fields() -> None:
    docker_step = BuildMessage(stream="Step 3/4 : RUN echo $GREETING > /x")
    podman_step = BuildMessage(stream="STEP 3/4: RUN echo $GREETING > /x\n")
    assert docker_step.step == podman_step.step == "RUN echo $GREETING > /x"
    assert BuildMessage(stream=" ---> Running in 0a1b\n").step is None
    assert BuildMessage(aux="opaque").image_id is None
    assert BuildMessage(aux={"ID": "sha256:1"}).image_id == "sha256:1"
    assert BuildMessage().step is None and BuildMessage().image_id is None


# -- live builds on Docker and Podman ----------------------------------------------------------


@contextlib.asynccontextmanager
async def cleaned(
    docker: DockerClient, *images: str, container: str | None = None
) -> AsyncIterator[None]:
    """Removes the images (and container) before and after the block."""

    async def clean() -> None:
        if container is not None:
            with contextlib.suppress(NotFoundError):
                await docker.containers.remove(container, force=True)
        for image in images:
            with contextlib.suppress(NotFoundError):
                await docker.images.remove(image, force=True)

    await clean()
    try:
        yield
    finally:
        with anyio.CancelScope(shield=True):
            await clean()


async def run_output(docker: DockerClient, image: str, name: str) -> bytes:
    """Run ``image`` with its own CMD as container ``name`` and return its stdout."""
    from lightshuttle_runtime.models import ContainerCreateRequest

    created = await docker.containers.create(ContainerCreateRequest(image=image), name=name)
    with anyio.fail_after(PATIENCE):
        async with docker.containers.waiter(created.id, condition="next-exit") as exited:
            await docker.containers.start(created.id)
            assert (await exited.result()).status_code == 0
    async with docker.containers.logs(created.id, tty=False, stderr=False) as frames:
        return b"".join([frame.data async for frame in frames])


async def test_build_run_and_tag(docker: DockerClient, tmp_path: Path) -> None:
    tag = "ls-build-test:basic"
    write_context(tmp_path, {"Dockerfile": BASE + 'RUN echo hi > /x\nCMD ["cat", "/x"]\n'})
    async with cleaned(docker, tag, container="ls-build-test-basic"):
        messages = await collect(docker, tmp_path, tags=tag, forcerm=True)
        ids = [m.image_id for m in messages if m.image_id]
        assert len(ids) == 1 and ids[0].startswith("sha256:")
        steps = [m.step for m in messages if m.step]
        assert steps == ["FROM busybox:local", "RUN echo hi > /x", 'CMD ["cat", "/x"]']
        image = await docker.images.inspect(tag)
        assert image.id == ids[0]
        assert image.config is not None and image.config.cmd == ["cat", "/x"]
        assert await run_output(docker, ids[0], "ls-build-test-basic") == b"hi\n"


async def test_build_args_labels_and_target_stage(docker: DockerClient, tmp_path: Path) -> None:
    tag = "ls-build-test:stages"
    dockerfile = (
        "FROM busybox:local AS first\n"
        "ARG GREETING=unset\n"
        "LABEL stage=first greeting=$GREETING\n"
        "FROM first AS second\n"
        "LABEL stage=second\n"
    )
    write_context(tmp_path, {"Dockerfile": dockerfile})
    async with cleaned(docker, tag):
        await collect(
            docker,
            tmp_path,
            tags=tag,
            buildargs={"GREETING": "hello"},
            target="first",
            labels={"ls-build-test": "stages"},
            forcerm=True,
        )
        config = (await docker.images.inspect(tag)).config
        assert config is not None and config.labels is not None
        assert config.labels["stage"] == "first"
        assert config.labels["greeting"] == "hello"
        assert config.labels["ls-build-test"] == "stages"


async def test_dockerignore_is_honoured_and_build_files_are_not_copied(
    docker: DockerClient, tmp_path: Path, engine: Engine
) -> None:
    tag = "ls-build-test:ignore"
    write_context(
        tmp_path,
        {
            "Dockerfile": BASE + "COPY . /ctx/\nRUN ls -A /ctx | tr '\\n' ' '\n",
            ".dockerignore": "Dockerfile\n.dockerignore\nsecret*\n",
            "kept.txt": "kept",
            "secret.txt": "secret",
        },
    )
    async with cleaned(docker, tag):
        messages = await collect(docker, tmp_path, tags=tag, nocache=True, forcerm=True)
    listing = next(m.stream for m in messages if m.stream and "kept.txt" in m.stream)
    assert listing is not None
    # Both builders drop the excluded Dockerfile and .dockerignore from what COPY sees.
    assert listing.split() == ["kept.txt"]


async def test_a_failing_run_is_a_stream_error(
    docker: DockerClient, engine: Engine, tmp_path: Path
) -> None:
    tag = "ls-build-test:failing"
    write_context(tmp_path, {"Dockerfile": BASE + "RUN echo before && exit 3\n"})
    received: list[BuildMessage] = []
    async with cleaned(docker, tag):
        with pytest.raises(StreamError) as caught, anyio.fail_after(PATIENCE):
            async with docker.build(tmp_path, tags=tag, forcerm=True, builder="classic") as stream:
                async for message in stream:
                    received.append(message)
    assert [m.step for m in received if m.step][-1] == "RUN echo before && exit 3"
    assert any(m.stream == "before\n" for m in received)
    if engine.is_podman:
        assert caught.value.code is None
        assert 'building at STEP "RUN echo before && exit 3"' in caught.value.message
        assert "exit status 3" in caught.value.message
    else:
        assert caught.value.code == 3
        assert "returned a non-zero code: 3" in caught.value.message
    assert not caught.value.message.endswith("\n")


async def test_a_missing_dockerfile_fails(
    docker: DockerClient, engine: Engine, tmp_path: Path
) -> None:
    write_context(tmp_path, {"app.txt": ""})
    with pytest.raises(DockerError) as caught:
        await collect(docker, tmp_path, dockerfile="Nope", tags="ls-build-test:missing")
    if engine.is_podman:
        assert type(caught.value) is BuildStepError  # in-band
        assert "Nope: no such file or directory" in caught.value.message
    else:
        assert isinstance(caught.value, ServerError)  # 500 before the stream
        assert caught.value.message == "Cannot locate specified Dockerfile: Nope"


async def test_a_ready_tar_as_async_chunks(docker: DockerClient, tmp_path: Path) -> None:
    from lightshuttle_runtime._context import pack_context

    tag = "ls-build-test:chunks"
    write_context(tmp_path, {"Dockerfile": BASE + "LABEL from=chunks\n"})
    data = pack_context(tmp_path)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 1000):
            yield data[start : start + 1000]

    async with cleaned(docker, tag):
        messages = await collect(docker, chunks(), tags=tag, forcerm=True)
        image_id = next(m.image_id for m in messages if m.image_id)
        config = (await docker.images.inspect(image_id)).config
        assert config is not None and config.labels is not None
        assert config.labels["from"] == "chunks"  # Podman adds io.buildah.version
