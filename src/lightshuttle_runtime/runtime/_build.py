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
    step: str | None = None
    image_id: str | None = None
    try:
        async with client.build(
            build.context,
            dockerfile=build.dockerfile,
            tags=[build.tag] if build.tag else (),
            buildargs=dict(build.build_args) or None,
            target=build.target,
            forcerm=True,
        ) as stream:
            async for message in stream:
                step = message.step or step
                image_id = message.image_id or image_id
                if on_progress is not None:
                    on_progress(message)
    except DockerError as exc:
        raise _build_error(exc, where, step) from exc
    if image_id is None:
        if build.tag is None:
            raise BuildError(f"{where}: the engine reported no image id", step=step)
        return build.tag
    return image_id


def _build_error(exc: DockerError, where: str, step: str | None) -> Exception:
    if isinstance(exc, StreamInterruptedError):
        return BuildError(f"{where} failed: {exc}", step=step)
    if isinstance(exc, DockerConnectionError | APIVersionError):
        return EngineConnectError(f"{where}: cannot use the engine: {exc}")
    # The builder's own words: an in-band error line (a plain StreamError; its subclasses
    # are broken streams) or the message of an error status.
    if type(exc) is StreamError or isinstance(exc, EngineError):
        at = f" at step {step!r}" if step else ""
        code = exc.code if isinstance(exc, StreamError) else None
        return BuildError(
            f"{where} failed{at}: {exc.message}", builder_message=exc.message, step=step, code=code
        )
    return BuildError(f"{where} failed: {exc}", step=step)
