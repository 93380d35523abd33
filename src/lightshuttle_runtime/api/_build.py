"""``POST /build``: build an image from a context tar, as a stream of :class:`BuildMessage`."""

from __future__ import annotations

import base64
import functools
import os
from collections.abc import AsyncIterable, Mapping, Sequence

import anyio
import httpx
import msgspec

from .._context import DEFAULT_DOCKERFILE, dockerfile_in_context, pack_context
from .._errors import InvalidArgumentError, StreamError
from .._reference import parse_reference
from .._session import EngineSession, QueryValue
from .._stream import EngineStream
from .._streams import JSONLinesDecoder, raise_for_progress_error
from ..models import BuildMessage

__all__ = ["BuildAPI", "BuildContextSource", "encode_registry_config"]

#: What :meth:`BuildAPI.build` takes as context: a directory to pack, or a ready tar
#: (bytes, or an async iterable of chunks, sent chunked).
BuildContextSource = str | os.PathLike[str] | bytes | AsyncIterable[bytes]

_PATH: str = "/build"


def encode_registry_config(config: Mapping[str, Mapping[str, str]]) -> str:
    """The ``X-Registry-Config`` header value: URL-safe base64 of ``{registry: auth}`` JSON.

    Each auth holds ``username``/``password`` (or ``identitytoken``); Docker Hub's registry
    key is ``https://index.docker.io/v1/``.
    """
    plain = {registry: dict(auth) for registry, auth in config.items()}
    return base64.urlsafe_b64encode(msgspec.json.encode(plain)).decode("ascii")


class BuildAPI:
    """``POST /build``. Reached as ``client.build(...)``."""

    def __init__(self, session: EngineSession) -> None:
        self._session = session

    def build(
        self,
        context: BuildContextSource,
        *,
        dockerfile: str = DEFAULT_DOCKERFILE,
        tags: str | Sequence[str] = (),
        buildargs: Mapping[str, str] | None = None,
        target: str | None = None,
        labels: Mapping[str, str] | None = None,
        nocache: bool = False,
        rm: bool = True,
        forcerm: bool = False,
        pull: bool = False,
        platform: str | None = None,
        quiet: bool = False,
        registry_config: Mapping[str, Mapping[str, str]] | None = None,
    ) -> EngineStream[BuildMessage]:
        """``POST /build``: build an image with the engine's classic builder, as a stream.

        Iterate the stream to the end: the build is complete only then, and closing it early
        cancels the build. The built image's id comes in an ``aux`` line
        (:attr:`BuildMessage.image_id`). No read timeout applies. Docker runs its classic
        builder (API ``version=1``; BuildKit needs a session this client does not speak),
        Podman runs buildah: their ``stream`` texts differ (see :class:`BuildMessage`).

        Args:
            context: a directory (packed when the stream opens, in a worker thread, with its
                ``.dockerignore`` applied: see :func:`pack_context`), or a ready context tar
                (identity, gzip, bzip2 or xz) as bytes or an async iterable of chunks.
            dockerfile: the Dockerfile's path inside the context (for a directory it may
                also be absolute, inside the directory).
            tags: ``name[:tag]`` references to give the image (``t``, repeated).
            buildargs: ``ARG`` values (API 1.41 ``buildargs``).
            target: the stage of a multi-stage Dockerfile to build (API 1.29).
            labels: labels to set on the image.
            nocache: do not use the build cache.
            rm: remove intermediate containers after a successful build.
            forcerm: always remove intermediate containers, even after a failure.
            pull: pull the base images even when present locally.
            platform: ``os[/arch[/variant]]`` (API 1.32).
            quiet: suppress the builder's output (``q``).
            registry_config: credentials for base-image registries, sent as the
                ``X-Registry-Config`` header (:func:`encode_registry_config`).

        Raises:
            InvalidArgumentError: a malformed tag, a ``context`` directory that is missing or
                unreadable, a Dockerfile path outside it, a malformed ``.dockerignore``
                (before any request, or when the stream opens for the reading errors).
            EngineError: an error status before the stream, e.g. Docker's 500 "Cannot
                locate specified Dockerfile" (Podman reports that one in-band).
            StreamError: the build failed (in-band ``errorDetail``, message stripped): e.g.
                a failing ``RUN``, with its exit code as ``code`` on Docker (Podman gives none).
        """
        tag_list = [tags] if isinstance(tags, str) else list(tags)
        for tag in tag_list:
            parse_reference(tag)
        body, dockerfile = _prepare_context(context, dockerfile)
        params: dict[str, QueryValue] = {
            "dockerfile": dockerfile,
            "t": tag_list or None,
            "buildargs": _check_string_map(buildargs, "buildargs"),
            "target": target,
            "labels": _check_string_map(labels, "labels"),
            "nocache": nocache or None,
            "rm": rm,
            "forcerm": forcerm or None,
            "pull": pull or None,
            "platform": platform,
            "q": quiet or None,
        }
        headers = {"Content-Type": "application/x-tar"}
        if registry_config:
            headers["X-Registry-Config"] = encode_registry_config(registry_config)

        async def open_response() -> httpx.Response:
            content = await body() if isinstance(body, _Packer) else body
            return await self._session.send(
                "POST",
                _PATH,
                params=params,
                headers=headers,
                body=content,
                timeout=None,
                stream=True,
            )

        def decoder_for(_response: httpx.Response) -> JSONLinesDecoder[BuildMessage]:
            return JSONLinesDecoder(BuildMessage)

        return EngineStream(self._session, "POST", _PATH, open_response, decoder_for, _check)


def _prepare_context(
    context: BuildContextSource, dockerfile: str
) -> tuple[bytes | AsyncIterable[bytes] | _Packer, str]:
    """The body (or a packer making it) and the ``dockerfile`` query value."""
    if isinstance(context, bytes | AsyncIterable):
        if not isinstance(dockerfile, str) or not dockerfile:
            raise InvalidArgumentError(f"dockerfile {dockerfile!r} must be a non-empty path")
        return context, dockerfile
    if not isinstance(context, str | os.PathLike):
        raise InvalidArgumentError(
            f"build context must be a directory path, bytes or an async iterable of bytes, "
            f"not {type(context).__name__}"
        )
    if not os.path.isdir(context):
        raise InvalidArgumentError(f"build context {os.fspath(context)!r} is not a directory")
    relative = dockerfile_in_context(context, dockerfile)
    pack = functools.partial(pack_context, context, dockerfile=relative)
    return _Packer(pack), relative


class _Packer:
    """Packs a directory in a worker thread when the stream opens."""

    __slots__ = ("_pack",)

    def __init__(self, pack: functools.partial[bytes]) -> None:
        self._pack = pack

    async def __call__(self) -> bytes:
        return await anyio.to_thread.run_sync(self._pack)


def _check_string_map(value: Mapping[str, str] | None, what: str) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(
        isinstance(key, str) and key and isinstance(item, str) for key, item in value.items()
    ):
        raise InvalidArgumentError(f"{what} must map non-empty strings to strings, not {value!r}")
    return dict(value) or None


def _check(message: BuildMessage) -> None:
    try:
        raise_for_progress_error(message)
    except StreamError as exc:
        # Podman ends its messages with a newline.
        exc.message = exc.message.strip() or exc.message
        exc.args = (exc.message,)
        raise
