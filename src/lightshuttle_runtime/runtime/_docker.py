"""DockerRuntime: the ContainerRuntime protocol on a DockerClient (Docker or Podman)."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Literal, Self

import anyio

from .._client import DockerClient
from .._credentials import registry_of
from .._errors import (
    APIVersionError,
    ConflictError,
    DockerConnectionError,
    DockerError,
    NotFoundError,
    RegistryAuthError,
    StreamInterruptedError,
)
from .._reference import parse_reference
from .._resource import AsyncResource
from .._stream import EngineStream
from .._streams import StampedFrame
from ..models import ContainerInspect, ProgressMessage
from ._build import BuildProgressCallback, build_image
from ._create import create_request
from ._errors import (
    ContainerNotFoundError,
    ContainerRuntimeError,
    EngineConnectError,
    ImagePullError,
    InspectError,
    InvalidSpecError,
    LogStreamError,
    OperationTimedOut,
    RemoveError,
    StartError,
    StopError,
    seconds_text,
)
from ._health import await_healthy
from ._projects import (
    ManagedContainer,
    ensure_project_network,
    list_managed,
    teardown_project_network,
)
from ._spec import BuildSpec, ContainerSpec
from ._status import container_label, container_status, health_note
from ._types import (
    ContainerId,
    ContainerStatus,
    LogChunk,
    Stopped,
)

__all__ = ["DockerRuntime", "ProgressCallback"]

#: Called with each line of a pull's progress stream.
ProgressCallback = Callable[[ProgressMessage], None]

_POLL_FIRST = 0.05
_POLL_MAX = 0.5
#: Seconds a follow stream may stay quiet before the container is checked for its end.
END_POLL = 1.0


@contextmanager
def _translated(error: type[ContainerRuntimeError], operation: str) -> Iterator[None]:
    """Re-raise client errors as the runtime error for ``operation`` (cause kept)."""
    try:
        yield
    except (DockerConnectionError, APIVersionError) as exc:
        if isinstance(exc, StreamInterruptedError):
            raise error(f"{operation} failed: {exc}") from exc
        raise EngineConnectError(f"{operation}: cannot use the engine: {exc}") from exc
    except DockerError as exc:
        raise error(f"{operation} failed: {exc}") from exc


class DockerRuntime:
    """Runs lightshuttle containers on a Docker-compatible engine.

    Args:
        client: the DockerClient to use (the runtime does not close it).
        on_pull_progress: called with each progress line when ``start`` pulls an image.
        on_build_progress: called with each output line when ``start`` builds an image.
    """

    def __init__(
        self,
        client: DockerClient,
        *,
        on_pull_progress: ProgressCallback | None = None,
        on_build_progress: BuildProgressCallback | None = None,
    ) -> None:
        self.client = client
        self._on_pull_progress = on_pull_progress
        self._on_build_progress = on_build_progress

    async def start(self, spec: ContainerSpec) -> ContainerId:
        """Pull the image if it is missing, create the container from ``spec`` and start it.

        Uses ``GET /images/{name}/json``, ``POST /images/create``, ``POST /containers/create``
        and ``POST /containers/{id}/start``. A spec with a ``project`` joins the project's
        network (made first if missing, see :meth:`ensure_project_network`) with its
        ``resource`` as DNS alias. A container that was created but could not be
        started is removed again. When ``spec.image`` is a :class:`BuildSpec`, the image is
        built first (``POST /build``) and the container created from the built image's id.

        Returns:
            The new container's id.

        Raises:
            InvalidSpecError: the spec is invalid (nothing was sent).
            ImagePullError: the image is missing and the pull failed (its ``registry`` and
                ``auth_refused`` say where and whether credentials were the problem). The
                pull uses the client's credentials (``DOCKER_AUTH_CONFIG``, ``config.json``,
                credential helpers).
            BuildError: the image could not be built (with the builder's message and step).
            StartError: create or start failed (e.g. the name is in use).
            ProjectNetworkError: the project's network could not be made (a network of
                that name belongs to another owner: NetworkOwnershipError).
            EngineConnectError: the engine could not be reached.
        """
        spec.validate()
        if isinstance(spec.image, BuildSpec):
            image = await build_image(self.client, spec.image, self._on_build_progress)
        else:
            image = spec.image
            await self._ensure_image(image)
        if spec.project is not None:
            await ensure_project_network(self.client, spec.project)
        with _translated(StartError, f"creating container {spec.name!r}"):
            created = await self.client.containers.create(
                create_request(spec, image=image), name=spec.name
            )
        try:
            with _translated(StartError, f"starting container {spec.name!r}"):
                await self.client.containers.start(created.id)
        except BaseException:
            with anyio.CancelScope(shield=True), _translated(StartError, "cleaning up"):
                await self.client.containers.remove(created.id, force=True, v=True)
            raise
        return ContainerId(created.id)

    async def _ensure_image(self, image: str) -> None:
        try:
            with _translated(ImagePullError, f"looking up image {image!r}"):
                await self.client.images.inspect(image)
            return
        except ImagePullError as exc:
            if not isinstance(exc.__cause__, NotFoundError):
                raise
        try:
            with _translated(ImagePullError, f"pulling image {image!r}"):
                async with self.client.images.pull(image) as progress:
                    async for message in progress:
                        if self._on_pull_progress is not None:
                            self._on_pull_progress(message)
        except ImagePullError as exc:
            cause = exc.__cause__
            exc.registry = registry_of(parse_reference(image).repository)
            exc.auth_refused = isinstance(cause, RegistryAuthError)
            raise

    async def stop(self, container_id: ContainerId, grace: timedelta) -> None:
        """``POST /containers/{id}/stop`` with ``t`` = ``grace`` rounded up to whole seconds.

        A container that is already stopped (304) or gone (404) counts as stopped.

        Raises:
            StopError: the engine failed to stop it.
            EngineConnectError: the engine could not be reached.
        """
        if grace < timedelta(0):
            raise StopError(f"grace must not be negative (got {seconds_text(grace)})")
        try:
            with _translated(StopError, f"stopping container {container_id}"):
                await self.client.containers.stop(container_id, t=math.ceil(grace.total_seconds()))
        except StopError as exc:
            if not isinstance(exc.__cause__, NotFoundError):
                raise

    async def remove(self, name: str) -> None:
        """``DELETE /containers/{name}?force=1&v=1``: kill and remove it with its anonymous
        volumes (named volumes are kept). A missing container counts as removed; so does
        one whose removal is already in progress (409 Conflict): the call then waits until
        it is gone, for at most the client's request timeout.

        Raises:
            RemoveError: the engine failed to remove it, or a removal already in progress
                did not finish within the request timeout.
            EngineConnectError: the engine could not be reached.
        """
        try:
            with _translated(RemoveError, f"removing container {name!r}"):
                await self.client.containers.remove(name, force=True, v=True)
        except RemoveError as exc:
            if isinstance(exc.__cause__, ConflictError):
                await self._await_removed(name, exc)
            elif not isinstance(exc.__cause__, NotFoundError):
                raise

    async def _await_removed(self, name: str, conflict: RemoveError) -> None:
        """Wait until ``name`` is gone after a 409 (its removal already in progress).

        Bounded by the client's request timeout; then ``conflict`` is raised, saying so.
        """
        limit = self.client._session.timeouts.request
        delay = _POLL_FIRST
        with anyio.move_on_after(math.inf if limit is None else limit):
            while True:
                await anyio.sleep(delay)
                delay = min(delay * 2, _POLL_MAX)
                try:
                    await self._inspect(name)
                except ContainerNotFoundError:
                    return
        raise RemoveError(
            f"{conflict} (still there after {limit:g} s: another removal of it did not finish)"
        ) from conflict.__cause__

    async def inspect(self, container_id: ContainerId) -> ContainerStatus:
        """``GET /containers/{id}/json``, mapped to a :class:`ContainerStatus`.

        Raises:
            ContainerNotFoundError: no such container.
            InspectError: the engine failed to answer.
        """
        return container_status(await self._inspect(container_id))

    async def _inspect(self, container_id: str) -> ContainerInspect:
        try:
            with _translated(InspectError, f"inspecting container {container_id}"):
                return await self.client.containers.inspect(container_id)
        except InspectError as exc:
            if isinstance(exc.__cause__, NotFoundError):
                raise ContainerNotFoundError(f"no container {container_id!r}") from exc.__cause__
            raise

    async def wait_healthy(self, container_id: ContainerId, timeout: timedelta) -> None:
        """Wait until the container is healthy — or running, if it has no health check.

        A container with a health check is waited for through ``starting``. The wait follows
        the container's events (``GET /events``) and returns as soon as the engine reports it
        healthy: Docker's ``health_status: healthy`` event ends it at once; on Podman, whose
        ``health_status`` carries no verdict, each check's events prompt an inspect
        (``GET /containers/{id}/json``). A slow safety poll (1 s) of that inspect runs beside it.

        Raises:
            ContainerExitedError: it exited first (with its exit code and last health output).
            ContainerUnhealthyError: its health check reported it unhealthy.
            OperationTimedOut: ``timeout`` passed first.
            ContainerNotFoundError: it does not exist (or was removed while waiting).
        """
        try:
            with anyio.fail_after(timeout.total_seconds()):
                await await_healthy(self.client, container_id, self._inspect)
        except TimeoutError:
            last = await self._inspect(container_id)
            raise OperationTimedOut(
                f"container {container_label(last)} was not healthy after "
                f"{timeout.total_seconds():g} s (it is {container_status(last)}"
                f"{health_note(last)})",
                operation="wait_healthy",
                duration=timeout,
            ) from None

    async def ensure_project_network(self, project: str) -> str:
        """Make sure ``project``'s bridge network ``lightshuttle-<project>`` exists; idempotent.

        It is labelled ``lightshuttle.project=<project>``; a concurrent create's conflict
        counts as success.

        Returns:
            The network's id.

        Raises:
            InvalidSpecError: ``project`` cannot name a network.
            NetworkOwnershipError: a network of that name has another (or no) owner.
            ProjectNetworkError: the engine refused to create it.
            EngineConnectError: the engine could not be reached.
        """
        return await ensure_project_network(self.client, project)

    async def teardown_project_network(self, project: str) -> None:
        """Remove ``project``'s network (after its containers); missing counts as removed.

        Raises:
            InvalidSpecError: ``project`` cannot name a network.
            NetworkOwnershipError: the network of that name is not this project's (kept).
            ProjectNetworkError: containers still use it, or the engine failed.
            EngineConnectError: the engine could not be reached.
        """
        await teardown_project_network(self.client, project)

    async def list_managed(
        self, project: str, *, name: str | None = None
    ) -> list[ManagedContainer]:
        """Every container of ``project``, running or not, sorted by resource (then name).

        ``name`` keeps only the container of exactly that name (not a substring match).

        Raises:
            InvalidSpecError: ``project`` or ``name`` is not valid.
            InspectError: the engine failed to answer.
            EngineConnectError: the engine could not be reached.
        """
        return await list_managed(self.client, project, name=name)

    def logs(
        self,
        container_id: ContainerId,
        follow: bool,
        *,
        tail: int | None = None,
        since: datetime | None = None,
    ) -> ContainerLogs:
        """The container's stdout and stderr as :class:`LogChunk`, timestamps parsed.

        Uses ``GET /containers/{id}/json`` (to learn ``Config.Tty``) then
        ``GET /containers/{id}/logs?timestamps=1``. With ``follow`` the stream stays open
        until the container stops or the caller stops reading (``async with`` or
        ``aclose()``; cancelling closes the connection).

        Args:
            tail: only the last ``tail`` lines (``None``: all).
            since: only what was logged from then on (an aware ``datetime``).

        Raises:
            InvalidSpecError: ``tail`` is negative or ``since`` is naive (nothing sent).

        Raises (while iterating):
            ContainerNotFoundError: no such container.
            LogStreamError: the engine reported an error or the connection broke.
        """
        if tail is not None and (isinstance(tail, bool) or not isinstance(tail, int) or tail < 0):
            raise InvalidSpecError(f"tail must be a whole number >= 0 (got {tail!r})")
        if since is not None and since.tzinfo is None:
            raise InvalidSpecError(f"since must be an aware datetime (got {since!r})")
        return ContainerLogs(self, container_id, follow, tail=tail, since=since)


class ContainerLogs(AsyncResource):
    """The :class:`LogChunk` stream of one container; owns its connection.

    A follow stream ends when the container stops, whatever the engine does with the
    connection: once the stream has been quiet for :data:`END_POLL` seconds the container
    is inspected, and a stopped (or removed) container ends the stream.
    """

    def __init__(
        self,
        runtime: DockerRuntime,
        container_id: ContainerId,
        follow: bool,
        *,
        tail: int | None = None,
        since: datetime | None = None,
    ) -> None:
        self._runtime = runtime
        self._container_id = container_id
        self._follow = follow
        self._tail: int | Literal["all"] = "all" if tail is None else tail
        self._since = None if since is None else since.timestamp()
        self._frames: EngineStream[StampedFrame] | None = None
        self._chunks: deque[LogChunk] = deque()
        self._closed = False

    async def _open(self) -> EngineStream[StampedFrame]:
        if self._frames is None:
            info = await self._runtime._inspect(self._container_id)
            with _translated(LogStreamError, f"reading logs of {self._container_id}"):
                frames = self._runtime.client.containers.logs(
                    self._container_id,
                    tty=bool(info.config.tty),
                    follow=self._follow,
                    timestamps=True,
                    tail=self._tail,
                    since=self._since,
                )
                await frames.open()
            self._frames = frames
        return self._frames

    async def _enter(self) -> None:
        await self._open()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> LogChunk:
        chunks = self._chunks
        while not chunks:
            if self._closed:
                raise StopAsyncIteration
            frames = await self._open()
            with _translated(LogStreamError, f"reading logs of {self._container_id}"):
                if self._follow and not frames.buffered:
                    batch = await self._read_while_running(frames)
                else:
                    batch = await frames.next_batch()
            if not batch:
                await self.aclose()
                raise StopAsyncIteration
            chunks.extend([LogChunk(f.stream, f.timestamp, f.data) for f in batch])
        return chunks.popleft()

    async def _read_while_running(self, frames: EngineStream[StampedFrame]) -> list[StampedFrame]:
        """The next read of a follow stream, or ``[]`` once the container has stopped."""
        batch: list[StampedFrame] = []
        failure: BaseException | None = None

        async def read() -> None:
            nonlocal batch, failure
            try:
                batch = await frames.next_batch()
            except Exception as exc:  # raised below, outside the task group
                failure = exc
            tasks.cancel_scope.cancel()

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(read)
            await self._until_stopped()
            tasks.cancel_scope.cancel()
        if failure is not None:
            raise failure
        return batch

    async def _until_stopped(self) -> None:
        """Return once the container has stopped or is gone, checking after quiet spells."""
        while True:
            await anyio.sleep(END_POLL)
            try:
                info = await self._runtime._inspect(self._container_id)
            except ContainerNotFoundError:
                return
            except ContainerRuntimeError:
                continue  # not known to have stopped; a broken engine fails the read itself
            if isinstance(container_status(info), Stopped):
                return

    async def aclose(self) -> None:
        """Close the connection; safe to call more than once."""
        self._closed = True
        self._chunks.clear()
        if self._frames is not None:
            await self._frames.aclose()
