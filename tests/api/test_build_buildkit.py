"""BuildKit builds (``POST /build?version=2``) and ``builder="auto"``: the request offline, and
live builds on every engine read as typed step events (``client.build_events``).

``auto`` means BuildKit on Docker and buildah on Podman, so the live tests state what both
promise through the same events: a step cached, a step's log, a failing step named with its
log tail. Where the engines differ, the test says so:

- heredoc ``RUN <<EOF``: BuildKit's built-in Dockerfile frontend has it from Docker 23 (API
  1.42); Docker 20.10's and Podman 4.3's buildah 1.28 refuse it (a parse error, a build error);
- ``# syntax=IMAGE``: BuildKit fetches the frontend image from its registry (offline here: a
  ``BuildFrontendError``); buildah ignores the line;
- ``network_mode="none"``: BuildKit's ``RUN`` sees only ``lo``; Podman 4.3's compat build
  still shows the host's interfaces.

Live tests are replay-friendly: fixed tags ``lsbk-build:<scenario>`` removed before and after,
contexts with fixed contents packed into byte-identical tars, no random values.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest

from lightshuttle_runtime import (
    BuildFrontendError,
    BuildStepError,
    DockerClient,
    InvalidArgumentError,
    NotFoundError,
)
from lightshuttle_runtime._config import parse_version
from lightshuttle_runtime.models import (
    BuildEvent,
    ImageBuilt,
    StepCached,
    StepFailed,
    StepLog,
    StepStarted,
)
from tests.conftest import Engine

pytestmark = pytest.mark.anyio

BASE = "FROM busybox:local\n"
PATIENCE = 120


def write_context(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


async def events(docker: DockerClient, context: object, **kwargs: object) -> list[BuildEvent]:
    with anyio.fail_after(PATIENCE):
        async with docker.build_events(context, **kwargs) as stream:  # type: ignore[arg-type]
            return [event async for event in stream]


def log_of(found: list[BuildEvent], step_part: str) -> str:
    """The text a step (named with ``step_part``) printed."""
    data = b"".join(e.data for e in found if isinstance(e, StepLog) and step_part in e.step)
    return data.decode()


@contextlib.asynccontextmanager
async def cleaned(docker: DockerClient, *images: str) -> AsyncIterator[None]:
    async def clean() -> None:
        for image in images:
            with contextlib.suppress(NotFoundError):
                await docker.images.remove(image, force=True)

    await clean()
    try:
        yield
    finally:
        with anyio.CancelScope(shield=True):
            await clean()


# -- the request, offline -------------------------------------------------------------------


def engine_answering(ping_headers: dict[str, str], seen: list[httpx.Request]) -> DockerClient:
    trace = {"id": "moby.image.id", "aux": {"ID": "sha256:" + "ab" * 32}}

    async def handler(request: httpx.Request) -> httpx.Response:
        await request.aread()
        seen.append(request)
        if request.url.path == "/_ping":
            return httpx.Response(200, text="OK", headers={"Api-Version": "1.41", **ping_headers})
        return httpx.Response(200, content=json.dumps(trace).encode() + b"\n")

    return DockerClient(transport=httpx.MockTransport(handler), api_version="1.41")


@pytest.mark.parametrize(
    ("headers", "builder", "version"),
    [
        ({"Ostype": "linux"}, "auto", "2"),  # Docker 20.10 says no Builder-Version
        ({"Ostype": "linux", "Builder-Version": "2"}, "auto", "2"),
        ({"Ostype": "linux", "Builder-Version": "1"}, "auto", "2"),  # 1 is the default only
        ({"Ostype": "windows"}, "auto", None),
        ({"Libpod-Api-Version": "4.3.1", "Builder-Version": ""}, "auto", None),
        ({"Ostype": "linux"}, "classic", None),
        ({"Ostype": "windows"}, "buildkit", "2"),
    ],
)
async def test_the_builder_decides_the_version_parameter(
    headers: dict[str, str], builder: str, version: str | None
) -> None:
    seen: list[httpx.Request] = []
    async with engine_answering(headers, seen) as docker:
        found = await events(docker, b"tar", builder=builder, network_mode="none")
        found += await events(docker, b"tar", builder=builder, platform="linux/arm64")
    assert found == [ImageBuilt(image_id="sha256:" + "ab" * 32)] * 2
    builds = [r for r in seen if r.url.path.endswith("/build")]
    assert [r.url.params.get("version") for r in builds] == [version, version]
    assert builds[0].url.params["networkmode"] == "none"
    assert builds[1].url.params["platform"] == "linux/arm64"
    # One ping at most (a pinned API version skips negotiation), none for "classic".
    pings = [r for r in seen if r.url.path == "/_ping"]
    assert len(pings) == (0 if builder == "classic" else 1)


async def test_buildkit_on_podman_is_refused_and_bad_builders_too() -> None:
    seen: list[httpx.Request] = []
    async with engine_answering({"Libpod-Api-Version": "4.3.1"}, seen) as docker:
        with pytest.raises(InvalidArgumentError, match="Podman, which has no BuildKit"):
            await events(docker, b"tar", builder="buildkit")
        with pytest.raises(InvalidArgumentError, match="builder 'kit' must be one of"):
            docker.build(b"tar", builder="kit")  # type: ignore[arg-type]
    assert [r.url.path for r in seen] == ["/_ping"]


# -- live, every engine ---------------------------------------------------------------------


async def test_a_cache_mount_and_a_second_build_reports_the_step_cached(
    docker: DockerClient, tmp_path: Path
) -> None:
    tag = "lsbk-build:cache"
    run = "RUN --mount=type=cache,target=/cache echo run >> /cache/runs && cat /cache/runs"
    write_context(tmp_path, {"Dockerfile": BASE + run + "\n"})
    async with cleaned(docker, tag):
        first = await events(docker, tmp_path, tags=tag, nocache=True)
        second = await events(docker, tmp_path, tags=tag)
    assert any(isinstance(e, StepStarted) and run in e.step for e in first)
    assert "run" in log_of(first, run)
    assert any(isinstance(e, StepCached) and run in e.step for e in second)
    # It did not run again (the classic builders announce the step, then say it is cached).
    assert not any(isinstance(e, StepLog) and run in e.step for e in second)
    built = [[e.image_id for e in found if isinstance(e, ImageBuilt)] for found in (first, second)]
    assert built[0] and built[0] == built[1]


async def test_a_multi_stage_build_with_target_and_build_args(
    docker: DockerClient, tmp_path: Path
) -> None:
    tag = "lsbk-build:stages"
    dockerfile = (
        "FROM busybox:local AS first\n"
        "ARG WORD=unset\n"
        "RUN echo $WORD > /word\n"
        "LABEL stage=first word=$WORD\n"
        "FROM first AS second\n"
        "RUN echo second > /word\n"
        "LABEL stage=second\n"
    )
    write_context(tmp_path, {"Dockerfile": dockerfile})
    async with cleaned(docker, tag):
        found = await events(
            docker,
            tmp_path,
            tags=tag,
            target="first",
            buildargs={"WORD": "from-arg"},
            labels={"lsbk": "stages"},
        )
        config = (await docker.images.inspect(tag)).config
    assert config is not None and config.labels is not None
    assert (config.labels["stage"], config.labels["word"]) == ("first", "from-arg")
    assert config.labels["lsbk"] == "stages"
    assert not any(isinstance(e, StepStarted) and "echo second" in e.step for e in found)
    assert [e for e in found if isinstance(e, ImageBuilt)]


async def test_a_heredoc_run(docker: DockerClient, engine: Engine, tmp_path: Path) -> None:
    tag = "lsbk-build:heredoc"
    write_context(tmp_path, {"Dockerfile": BASE + "RUN <<EOF\necho from heredoc\nEOF\n"})
    version = (await docker.system.ping()).api_version or "1.41"
    async with cleaned(docker, tag):
        if not engine.is_podman and parse_version(version) >= parse_version("1.42"):
            # nocache: a cached step prints nothing, and a past run's cache outlives the tag
            found = await events(docker, tmp_path, tags=tag, nocache=True)
            assert "from heredoc" in log_of(found, "RUN <<EOF")
            return
        # Docker 20.10's built-in frontend and Podman 4.3's buildah 1.28 have no heredocs:
        # the body's first line reads as an unknown instruction.
        with pytest.raises(BuildStepError) as caught:
            await events(docker, tmp_path, tags=tag)
    assert "ECHO" in caught.value.message.upper()


async def test_a_failing_step_names_the_step_and_its_log(
    docker: DockerClient, tmp_path: Path
) -> None:
    tag = "lsbk-build:failing"
    write_context(tmp_path, {"Dockerfile": BASE + "RUN echo before && echo more && exit 3\n"})
    found: list[BuildEvent] = []
    async with cleaned(docker, tag):
        with pytest.raises(BuildStepError) as caught, anyio.fail_after(PATIENCE):
            async with docker.build_events(tmp_path, tags=tag) as stream:
                async for event in stream:
                    found.append(event)
    error = caught.value
    assert error.step is not None and error.step.endswith(
        "2/2] RUN echo before && echo more && exit 3"
    )
    assert error.log == ("before", "more")
    assert f"step {error.step!r} failed" in str(error) and "  more" in str(error)
    failed = [e for e in found if isinstance(e, StepFailed)]
    assert [f.step for f in failed] == [error.step] and failed[0].log == ("before", "more")
    # The plain record stream raises the same error, named the same way.
    with pytest.raises(BuildStepError) as again, anyio.fail_after(PATIENCE):
        async with docker.build(tmp_path, tags=tag) as records:
            async for _record in records:
                pass
    assert (again.value.step, again.value.log) == (error.step, error.log)


async def test_dockerignore_is_honoured(
    docker: DockerClient, engine: Engine, tmp_path: Path
) -> None:
    tag = "lsbk-build:ignore"
    write_context(
        tmp_path,
        {
            "Dockerfile": BASE + "COPY . /ctx/\nRUN ls -A /ctx\n",
            ".dockerignore": "Dockerfile\n.dockerignore\nsecret*\n",
            "kept.txt": "kept",
            "secret.txt": "secret",
        },
    )
    async with cleaned(docker, tag):
        found = await events(docker, tmp_path, tags=tag, nocache=True)
    listing = log_of(found, "RUN ls -A /ctx").split()
    if engine.is_podman:
        assert listing == ["kept.txt"]
    else:
        # BuildKit without a session reads the Dockerfile from the context tar, so an excluded
        # Dockerfile and .dockerignore stay visible to COPY (the classic builders drop them).
        assert listing == [".dockerignore", "Dockerfile", "kept.txt"]


async def test_network_mode_reaches_the_run_steps(
    docker: DockerClient, engine: Engine, tmp_path: Path
) -> None:
    tag = "lsbk-build:network"
    write_context(tmp_path, {"Dockerfile": BASE + "RUN ls /sys/class/net\n"})
    async with cleaned(docker, tag):
        found = await events(docker, tmp_path, tags=tag, network_mode="none", nocache=True)
    interfaces = log_of(found, "RUN ls /sys/class/net").split()
    if engine.is_podman:
        assert "lo" in interfaces and len(interfaces) > 1  # Podman 4.3: not honoured
    else:
        assert interfaces == ["lo"]


async def test_a_syntax_line_needs_the_registry(
    docker: DockerClient, engine: Engine, tmp_path: Path
) -> None:
    tag = "lsbk-build:syntax"
    write_context(tmp_path, {"Dockerfile": "# syntax=docker/dockerfile:1\n" + BASE})
    async with cleaned(docker, tag):
        if engine.is_podman:  # buildah ignores the directive
            found = await events(docker, tmp_path, tags=tag)
            assert [e for e in found if isinstance(e, ImageBuilt)]
            return
        with pytest.raises(BuildFrontendError) as caught:
            await events(docker, tmp_path, tags=tag)
    error = caught.value
    assert error.frontend == "docker/dockerfile:1"
    assert "'# syntax=docker/dockerfile:1' line" in str(error)
    assert "from its registry" in str(error) and "Remove the line" in str(error)
    assert "docker/dockerfile" in error.builder_message
