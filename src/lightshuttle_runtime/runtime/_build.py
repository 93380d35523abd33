"""Building the image of a :class:`BuildSpec` for ``DockerRuntime.start``."""

from __future__ import annotations

import os
from collections.abc import Callable

from .._client import DockerClient
from .._errors import (
    APIVersionError,
    DockerConnectionError,
    DockerError,
    EngineError,
    StreamError,
    StreamInterruptedError,
)
from .._streams._build_progress import BuildStepError
from ..models import BuildMessage
from ._errors import BuildError, EngineConnectError
from ._spec import BuildSpec

__all__ = ["BuildProgressCallback", "build_image"]

#: Called with each line of a build's output stream.
BuildProgressCallback = Callable[[BuildMessage], None]


async def build_image(
    client: DockerClient, build: BuildSpec, on_progress: BuildProgressCallback | None = None
) -> str:
    """Build ``build`` with ``POST /build`` and return the image id (``sha256:...``).

    Intermediate containers are removed even when the build fails (``forcerm``).

    Raises:
        BuildError: the context could not be packed, the engine refused the request, or the
            builder reported an error (with its message, the running step and exit code).
        EngineConnectError: the engine could not be reached.
    """
    where = f"building image from {os.fspath(build.context)!r} ({build.dockerfile})"
    image_id: str | None = None
    try:
        async with client.build(
            build.context,
            dockerfile=build.dockerfile,
            tags=[build.tag] if build.tag else (),
            buildargs=dict(build.build_args) or None,
            target=build.target,
            forcerm=True,
            builder=build.builder,
        ) as stream:
            async for message in stream:
                image_id = message.image_id or image_id
                if on_progress is not None:
                    on_progress(message)
    except DockerError as exc:
        raise _build_error(exc, where) from exc
    if image_id is None:
        if build.tag is None:
            raise BuildError(f"{where}: the engine reported no image id")
        return build.tag
    return image_id


def _build_error(exc: DockerError, where: str) -> Exception:
    if isinstance(exc, StreamInterruptedError):
        return BuildError(f"{where} failed: {exc}")
    if isinstance(exc, DockerConnectionError | APIVersionError):
        return EngineConnectError(f"{where}: cannot use the engine: {exc}")
    # The builder's own words: an in-band error (naming the step) or an error status.
    if isinstance(exc, BuildStepError):
        at = f" at step {exc.step!r}" if exc.step else ""
        log = "".join(f"\n  {line}" for line in exc.log)
        return BuildError(
            f"{where} failed{at}: {exc.message}" + (f"\nlast log lines:{log}" if log else ""),
            builder_message=getattr(exc, "builder_message", exc.message),
            step=exc.step,
            code=exc.code,
            log=exc.log,
        )
    if type(exc) is StreamError or isinstance(exc, EngineError):
        return BuildError(f"{where} failed: {exc.message}", builder_message=exc.message)
    return BuildError(f"{where} failed: {exc}")
