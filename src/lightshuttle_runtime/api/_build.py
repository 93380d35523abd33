"""``POST /build``: build an image from a context tar, as a stream of :class:`BuildMessage`."""

from __future__ import annotations

import base64
import functools
import os
from collections.abc import AsyncIterable, Mapping, Sequence
from typing import Final, Literal, TypedDict, Unpack

import anyio
import httpx
import msgspec

from .._context import (
    DEFAULT_DOCKERFILE,
    dockerfile_in_context,
    pack_context,
    syntax_directive,
)
from .._errors import InvalidArgumentError
from .._reference import parse_reference
from .._session import EngineSession, QueryValue
from .._stream import EngineStream
from .._streams import JSONLinesDecoder
from .._streams._build_progress import (
    BuildEvent,
    BuildFailed,
    BuildFrontendError,
    BuildProgress,
)
from ..models import BuildMessage

__all__ = [
    "BuildAPI",
    "BuildContextSource",
    "BuildOptions",
    "Builder",
    "encode_registry_config",
]

#: What :meth:`BuildAPI.build` takes as context: a directory to pack, or a ready tar
#: (bytes, or an async iterable of chunks, sent chunked).
BuildContextSource = str | os.PathLike[str] | bytes | AsyncIterable[bytes]

#: Which builder :meth:`BuildAPI.build` uses (see there).
Builder = Literal["auto", "buildkit", "classic"]

_PATH: str = "/build"
_BUILDERS: Final = ("auto", "buildkit", "classic")


def encode_registry_config(config: Mapping[str, Mapping[str, str]]) -> str:
    """The ``X-Registry-Config`` header value: URL-safe base64 of ``{registry: auth}`` JSON.

    Each auth holds ``username``/``password`` (or ``identitytoken``); Docker Hub's registry
    key is ``https://index.docker.io/v1/``.
    """
    plain = {registry: dict(auth) for registry, auth in config.items()}
    return base64.urlsafe_b64encode(msgspec.json.encode(plain)).decode("ascii")


class BuildOptions(TypedDict, total=False):
    """The keyword arguments of :meth:`BuildAPI.build` (and :meth:`BuildAPI.events`)."""

    dockerfile: str
    tags: str | Sequence[str]
    buildargs: Mapping[str, str] | None
    target: str | None
    labels: Mapping[str, str] | None
    network_mode: str | None
    nocache: bool
    rm: bool
    forcerm: bool
    pull: bool
    platform: str | None
    quiet: bool
    registry_config: Mapping[str, Mapping[str, str]] | None
    builder: Builder


class BuildAPI:
    """``POST /build``. Reached as ``client.build(...)`` and ``client.build_events(...)``."""

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
        network_mode: str | None = None,
        nocache: bool = False,
        rm: bool = True,
        forcerm: bool = False,
        pull: bool = False,
        platform: str | None = None,
        quiet: bool = False,
        registry_config: Mapping[str, Mapping[str, str]] | None = None,
        builder: Builder = "auto",
    ) -> EngineStream[BuildMessage]:
        """``POST /build``: build an image, as a stream of the builder's records.

        Iterate the stream to the end: the build is complete only then, and closing it early
        cancels the build. The built image's id comes in an ``aux`` record
        (:attr:`BuildMessage.image_id`). No read timeout applies. :meth:`events` reads the
        same stream as typed step events.

        Builders (``builder``):

        - ``"buildkit"``: ``version=2`` (API 1.39+, Docker 18.09+), with the context tar as
          the body and no session: ``RUN --mount=type=cache``, ``COPY --link``/``--chmod``,
          multi-stage pruning; heredocs where the engine's built-in frontend has them (Docker
          23+; not Docker 20.10). Progress comes as ``moby.buildkit.trace`` records
          (:attr:`BuildMessage.trace`), the image id in a ``moby.image.id`` record. A
          ``# syntax=`` line makes the engine fetch that frontend image from its registry.
          Podman has no BuildKit: refused with :class:`InvalidArgumentError` when the stream
          opens.
        - ``"classic"``: ``version=1``: Docker's classic builder (``Step 2/4 : ...`` text),
          Podman's buildah (``STEP 2/4: ...``; buildah handles ``RUN --mount`` itself;
          buildah 1.28 of Podman 4.3 has no heredocs).
        - ``"auto"`` (default): BuildKit on Docker for Linux, whose ``/_ping`` may say
          ``Builder-Version: 2`` (Docker 23+) or not (20.10 still has BuildKit);
          classic on Podman (its ``/_ping`` carries ``Libpod-Api-Version``) and on Windows
          engines. Costs one ``GET /_ping`` unless the version negotiation already sent it.

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
            network_mode: the network of ``RUN`` steps (``networkmode``: ``bridge``,
                ``host``, ``none``, a network name).
            nocache: do not use the build cache.
            rm: remove intermediate containers after a successful build.
            forcerm: always remove intermediate containers, even after a failure.
            pull: pull the base images even when present locally.
            platform: ``os[/arch[/variant]]`` (API 1.32).
            quiet: suppress the builder's output (``q``).
            registry_config: credentials for base-image registries, sent as the
                ``X-Registry-Config`` header (:func:`encode_registry_config`); when not
                given (``None``), every credential the client's :class:`CredentialStore`
                knows is sent (as the Docker CLI does; nothing when it knows none); ``{}``
                sends none.
            builder: ``"auto"``, ``"buildkit"`` or ``"classic"`` (above).

        Raises:
            InvalidArgumentError: a malformed tag, an unknown ``builder``, a ``context``
                directory that is missing or unreadable, a Dockerfile path outside it, a
                malformed ``.dockerignore`` (before any request, or when the stream opens for
                the reading errors); ``builder="buildkit"`` on Podman.
            EngineError: an error status before the stream, e.g. Docker's 500 "Cannot
                locate specified Dockerfile" (Podman reports that one in-band).
            BuildStepError: the build failed (in-band), naming the failing step
                (``[2/3] RUN make``) and carrying its last log lines; the builder's message
                (stripped) as ``message``, the exit code as ``code`` where the classic
                builder gives it. :class:`BuildFrontendError` when a ``# syntax=`` frontend
                image could not be fetched.
            DecodeError: a BuildKit trace record is not a well-formed ``StatusResponse``.
        """
        options = BuildOptions(
            dockerfile=dockerfile,
            tags=tags,
            buildargs=buildargs,
            target=target,
            labels=labels,
            network_mode=network_mode,
            nocache=nocache,
            rm=rm,
            forcerm=forcerm,
            pull=pull,
            platform=platform,
            quiet=quiet,
            registry_config=registry_config,
            builder=builder,
        )
        request = self._prepare(context, options)
        progress = BuildProgress()

        def check(message: BuildMessage) -> None:
            for event in progress.feed(message):
                request.raise_for(event)

        return EngineStream(self._session, "POST", _PATH, request.open, _decode_messages, check)

    def events(
        self, context: BuildContextSource, **options: Unpack[BuildOptions]
    ) -> EngineStream[BuildEvent]:
        """``POST /build`` like :meth:`build` (same arguments), as typed build events.

        Every builder's records become the same events: :class:`StepStarted`,
        :class:`StepCached`, :class:`StepCompleted`, :class:`StepFailed`, :class:`StepLog`
        (a step's output), :class:`BuildWarning` (BuildKit), :class:`BuildOutput` (classic
        builders' text tied to no step) and :class:`ImageBuilt`. On BuildKit every step is an
        event, its internal ones (``[internal] load build context``, ``exporting to image``)
        included; the classic builders report steps from their ``Step n/m`` headers.

        Raises:
            BuildStepError: after the :class:`StepFailed` event of the failing step; and as
                :meth:`build`.
        """
        request = self._prepare(context, options)

        def decoder_for(_response: httpx.Response) -> _EventDecoder:
            return _EventDecoder()

        return EngineStream(
            self._session, "POST", _PATH, request.open, decoder_for, request.raise_for
        )

    def _prepare(self, context: BuildContextSource, options: BuildOptions) -> _BuildRequest:
        tags = options.get("tags", ())
        tag_list = [tags] if isinstance(tags, str) else list(tags)
        for tag in tag_list:
            parse_reference(tag)
        builder = options.get("builder", "auto")
        if builder not in _BUILDERS:
            raise InvalidArgumentError(
                f"builder {builder!r} must be one of {', '.join(map(repr, _BUILDERS))}"
            )
        body, dockerfile = _prepare_context(context, options.get("dockerfile", DEFAULT_DOCKERFILE))
        params: dict[str, QueryValue] = {
            "dockerfile": dockerfile,
            "t": tag_list or None,
            "buildargs": _check_string_map(options.get("buildargs"), "buildargs"),
            "target": options.get("target"),
            "labels": _check_string_map(options.get("labels"), "labels"),
            "networkmode": options.get("network_mode"),
            "nocache": options.get("nocache") or None,
            "rm": options.get("rm", True),
            "forcerm": options.get("forcerm") or None,
            "pull": options.get("pull") or None,
            "platform": options.get("platform"),
            "q": options.get("quiet") or None,
        }
        headers = {"Content-Type": "application/x-tar"}
        registry_config = options.get("registry_config")
        if registry_config:
            headers["X-Registry-Config"] = encode_registry_config(registry_config)
        return _BuildRequest(
            self._session,
            builder,
            body,
            params,
            headers,
            dockerfile,
            look_up_credentials=registry_config is None,
        )


class _BuildRequest:
    """One build's request: sent when its stream opens; knows its ``# syntax=`` line."""

    def __init__(
        self,
        session: EngineSession,
        builder: Builder,
        body: bytes | AsyncIterable[bytes] | _Packer,
        params: dict[str, QueryValue],
        headers: dict[str, str],
        dockerfile: str,
        *,
        look_up_credentials: bool = False,
    ) -> None:
        self._session = session
        self._look_up_credentials = look_up_credentials
        self._builder = builder
        self._body = body
        self._params = params
        self._headers = headers
        self._dockerfile = dockerfile
        self.syntax: str | None = None

    async def open(self) -> httpx.Response:
        buildkit = await _use_buildkit(self._session, self._builder)
        content = await self._body() if isinstance(self._body, _Packer) else self._body
        if buildkit and isinstance(content, bytes):
            self.syntax = syntax_directive(content, self._dockerfile)
        params = {**self._params, "version": "2"} if buildkit else self._params
        headers = self._headers
        if self._look_up_credentials:
            found = await self._session.credentials.all()
            if found:
                config = {key: auth.to_dict() for key, auth in found.items()}
                headers = {**headers, "X-Registry-Config": encode_registry_config(config)}
        return await self._session.send(
            "POST",
            _PATH,
            params=params,
            headers=headers,
            body=content,
            timeout=None,
            stream=True,
        )

    def raise_for(self, event: BuildEvent) -> None:
        """Raise the build's error for a :class:`BuildFailed` event."""
        if not isinstance(event, BuildFailed):
            return
        if self.syntax is not None and _is_frontend_failure(event, self.syntax):
            raise BuildFrontendError(
                f"the Dockerfile's '# syntax={self.syntax}' line makes the engine fetch the "
                f"frontend image {self.syntax} from its registry, and that failed: "
                f"{event.message}. Remove the line to use the engine's built-in Dockerfile "
                "frontend, or let the engine reach the registry (or load the image into it)",
                frontend=self.syntax,
                builder_message=event.message,
                step=event.step,
            )
        BuildProgress.raise_for(event)


def _is_frontend_failure(event: BuildFailed, syntax: str) -> bool:
    """Whether the build failed fetching its ``# syntax=`` frontend (before any Dockerfile
    step ran: BuildKit names that step ``resolve image config for <image>``)."""
    name = syntax.rsplit("/", 1)[-1].split("@", 1)[0]
    return (
        event.step is None
        or event.step.startswith("resolve image config")
        or (name in event.message and "frontend" in event.message)
    )


async def _use_buildkit(session: EngineSession, builder: Builder) -> bool:
    """Whether this build goes to BuildKit (``version=2``).

    Raises:
        InvalidArgumentError: ``builder="buildkit"`` on Podman.
    """
    if builder == "classic":
        return False
    await session.api_version()
    headers = session.ping_headers
    if headers is None:  # a pinned API version skipped the negotiation's ping
        headers = (await session.send("GET", "/_ping", versioned=False)).headers
        session.ping_headers = headers
    podman = "libpod-api-version" in headers
    if builder == "buildkit":
        if podman:
            raise InvalidArgumentError(
                "builder='buildkit': this engine is Podman, which has no BuildKit; use "
                "builder='classic' or 'auto' (Podman's buildah handles RUN --mount itself)",
                method="POST",
                path=_PATH,
            )
        return True
    if headers.get("builder-version") == "2":
        return True
    return not podman and headers.get("ostype", "linux").lower() != "windows"


class _EventDecoder:
    """The build stream's JSON records, read into :data:`BuildEvent` items."""

    __slots__ = ("_lines", "_progress")

    def __init__(self) -> None:
        self._lines: JSONLinesDecoder[BuildMessage] = JSONLinesDecoder(BuildMessage)
        self._progress = BuildProgress()

    def feed(self, data: bytes) -> list[BuildEvent]:
        return self._events(self._lines.feed(data))

    def close(self) -> list[BuildEvent]:
        return self._events(self._lines.close())

    def _events(self, messages: list[BuildMessage]) -> list[BuildEvent]:
        events: list[BuildEvent] = []
        for message in messages:
            events.extend(self._progress.feed(message))
        return events


def _decode_messages(_response: httpx.Response) -> JSONLinesDecoder[BuildMessage]:
    return JSONLinesDecoder(BuildMessage)


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
