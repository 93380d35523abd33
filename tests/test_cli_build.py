"""``lightshuttle-runtime build``: step-by-step progress, plain and collapsing, from captured
BuildKit streams (offline) and live on every engine."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import anyio
import httpx
import pytest

from lightshuttle_runtime import DockerClient, NotFoundError
from lightshuttle_runtime._cli import main
from lightshuttle_runtime._cli_build import TtyBuildView
from lightshuttle_runtime.models import StepCached, StepCompleted, StepFailed, StepLog, StepStarted
from tests.conftest import Engine
from tests.test_cli import scripted

DATA = Path(__file__).parent / "_streams" / "data"


def buildkit_engine(capture: str) -> httpx.Response | None:
    body = (DATA / capture).read_bytes()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/_ping":
            return httpx.Response(
                200, text="OK", headers={"Api-Version": "1.41", "Ostype": "linux"}
            )
        assert request.url.params["version"] == "2"
        return httpx.Response(200, content=body)

    return handler  # type: ignore[return-value]


def context(tmp_path: Path) -> str:
    (tmp_path / "Dockerfile").write_text("FROM busybox:local\n")
    return str(tmp_path)


def test_plain_progress_numbers_steps_like_docker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    factory = scripted(buildkit_engine("buildkit-docker28-cache-mount.jsonl"))  # type: ignore[arg-type]
    assert main(["build", "--progress", "plain", context(tmp_path)], client_factory=factory) == 0
    out, err = capsys.readouterr()
    lines = err.splitlines()
    run = "#5 [stage-0 2/3] RUN --mount=type=cache,target=/cache echo hi > /x && ls /cache"
    assert lines[lines.index(run) + 1].startswith("#5 0.") and lines[lines.index(run) + 1].endswith(
        " x"
    )
    assert lines[lines.index(run) + 2].startswith("#5 DONE 0.")
    assert "#6 [stage-0 3/3] RUN echo two" in lines
    assert out.strip().startswith("sha256:") and out.count("\n") == 1


def test_plain_progress_of_a_cached_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    factory = scripted(buildkit_engine("buildkit-docker28-cache-mount-again.jsonl"))  # type: ignore[arg-type]
    assert main(["build", "--progress", "plain", context(tmp_path)], client_factory=factory) == 0
    lines = capsys.readouterr().err.splitlines()
    runs = [i for i, line in enumerate(lines) if "RUN" in line]
    assert [lines[i + 1].split(" ", 1)[1] for i in runs] == ["CACHED", "CACHED"]


def test_a_failing_step_shows_its_log_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    factory = scripted(buildkit_engine("buildkit-docker20-failing-run.jsonl"))  # type: ignore[arg-type]
    assert main(["build", "--progress", "plain", context(tmp_path)], client_factory=factory) == 1
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert out == ""
    assert "#5 [2/2] RUN echo before && exit 3" in lines
    assert any(line.startswith("#5 0.") and line.endswith(" before") for line in lines)
    assert (
        "#5 ERROR: executor failed running [/bin/sh -c echo before && exit 3]: exit code: 3"
        in lines
    )
    assert lines[-1].startswith(
        "lightshuttle-runtime: error: step '[2/2] RUN echo before && exit 3' failed: "
    )
    assert lines[-1].endswith("last log lines of the step: before")


def test_on_a_terminal_a_step_collapses_into_one_line() -> None:
    out = io.StringIO()
    view = TtyBuildView(out, width=40)
    run = "[2/3] RUN make"
    for event in [
        StepStarted(step=run, digest="d"),
        StepLog(step=run, digest="d", stream=1, data=b"compiling a\ncompiling b\n"),  # type: ignore[arg-type]
        StepCompleted(step=run, digest="d"),
        StepCached(step="[3/3] RUN x", digest="e"),
        StepStarted(step="[4/4] RUN fail", digest="f"),
        StepFailed(step="[4/4] RUN fail", digest="f", error="exit code: 2", log=("oops",)),
    ]:
        view.show(event)
    view.close()
    text = out.getvalue()
    # What stays on screen once each \r\x1b[K rewrite is applied:
    settled = [line.rsplit("\r\x1b[K", 1)[-1] for line in text.split("\n")]
    assert settled == [
        "✔ [2/3] RUN make",
        "✔ [3/3] RUN x  cached",
        "✘ [4/4] RUN fail: exit code: 2",
        "    oops",
        "",
    ]
    assert "\r\x1b[K  [2/3] RUN make: compiling b" in text  # the live line showed the output


@pytest.mark.live
def test_build_live(engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same Dockerfile twice: steps, output, then the cache-mount step CACHED."""
    tag = "lsbk-cli:live"
    run = "RUN --mount=type=cache,target=/cache echo hi >> /cache/x && echo built"
    (tmp_path / "Dockerfile").write_text("FROM busybox:local\n" + run + "\n")
    argv = ["build", "--host", engine.host, "--progress", "plain", "-t", tag, str(tmp_path)]

    async def remove() -> None:
        async with DockerClient(engine.host) as docker:
            with contextlib.suppress(NotFoundError):
                await docker.images.remove(tag, force=True)

    anyio.run(remove)
    try:
        assert main([*argv[:-1], "--no-cache", argv[-1]]) == 0
        first = capsys.readouterr()
        assert main(argv) == 0
        second = capsys.readouterr()
    finally:
        anyio.run(remove)
    first_lines, second_lines = first.err.splitlines(), second.err.splitlines()
    header = next(line for line in first_lines if line.endswith(run))
    number = header.split()[0]
    assert any(line.startswith(number) and line.endswith(" built") for line in first_lines)
    assert f"{number} DONE" in " ".join(first_lines)
    header = next(line for line in second_lines if line.endswith(run))
    assert second_lines[second_lines.index(header) + 1] == f"{header.split()[0]} CACHED"
    assert first.out.strip() == second.out.strip() and first.out.startswith("sha256:")
