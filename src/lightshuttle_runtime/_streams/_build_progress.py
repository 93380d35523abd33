"""Turning the records of a build stream into typed build events, for every builder.

Source: ``POST /build``. BuildKit (``version=2``) reports its steps in
``moby.buildkit.trace`` records (see :mod:`._buildkit`); Docker's classic builder and
Podman's buildah print step headers (``Step 2/3 : RUN x`` / ``STEP 2/3: RUN x``), their
output and ``Using cache`` lines as ``stream`` text. :class:`BuildProgress` reads both into
the same events: a step started, cached, completed or failed, its log lines, warnings, the
builder's other output, and the built image's id. It is pure: records in, events out.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

import msgspec

from .._errors import StreamError
from ._buildkit import StatusResponse, Vertex, VertexLog, VertexWarning
from ._multiplexed import LogStream
from ._progress import raise_for_progress_error

if TYPE_CHECKING:
    from ..models import BuildMessage

__all__ = [
    "BuildEvent",
    "BuildFailed",
    "BuildFrontendError",
    "BuildOutput",
    "BuildProgress",
    "BuildStepError",
    "BuildWarning",
    "ImageBuilt",
    "StepCached",
    "StepCompleted",
    "StepFailed",
    "StepLog",
    "StepStarted",
]

#: How many of a step's last log lines a failure carries.
LOG_TAIL: Final = 20
# Classic/buildah lines that are the builder's own chatter, not a step's output.
_CHATTER: Final = (" ---> ", "--> ", "Removing intermediate container", "Successfully ", "COMMIT ")
# Lines after the last step: the image is being committed / was built.
_END_OF_STEPS: Final = ("Successfully ", "COMMIT ")
_USING_CACHE: Final = "Using cache"


class StepStarted(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """A step began. ``step`` is its name (``"[2/3] RUN make"``, BuildKit also names its
    internal steps, e.g. ``"[internal] load build definition from Dockerfile"``); ``digest``
    identifies it (BuildKit's vertex digest; the classic builders' step name)."""

    step: str
    digest: str
    time: datetime | None = None


class StepCached(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """A step's result came from the build cache (it did not run)."""

    step: str
    digest: str


class StepCompleted(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """A step ran to its end; ``duration`` when the builder timed it (BuildKit)."""

    step: str
    digest: str
    duration: timedelta | None = None


class StepFailed(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """A step failed: the builder's ``error`` and the step's last log lines (at most 20)."""

    step: str
    digest: str
    error: str
    log: tuple[str, ...] = ()


class StepLog(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Output of a running step: raw bytes (a chunk, not necessarily whole lines)."""

    step: str
    digest: str
    stream: LogStream
    data: bytes
    time: datetime | None = None


class BuildWarning(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """A warning from BuildKit about a step (Docker 23+): ``message`` is its one-line text."""

    step: str | None
    digest: str
    level: int
    message: str
    detail: tuple[str, ...] = ()
    url: str = ""


class BuildOutput(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Builder text tied to no step (the classic builders' ``---> 1a2b``, ``Successfully
    tagged ...``)."""

    text: str


class ImageBuilt(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """The built image's id (``sha256:...``)."""

    image_id: str


class BuildFailed(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """The build's in-band error (last event): ``step`` that failed and its last log lines
    when known. :class:`BuildProgress` users raise it with :meth:`BuildProgress.raise_for`."""

    message: str
    code: int | None = None
    step: str | None = None
    log: tuple[str, ...] = ()


BuildEvent = (
    StepStarted
    | StepCached
    | StepCompleted
    | StepFailed
    | StepLog
    | BuildWarning
    | BuildOutput
    | ImageBuilt
    | BuildFailed
)


class BuildStepError(StreamError):
    """A build failed in-band (``POST /build``): the builder's message, and the step.

    Attributes:
        message: the builder's own message (e.g. ``process "/bin/sh -c make" did not complete
            successfully: exit code: 2``).
        step: the failing step's name (``"[2/3] RUN make"``), ``None`` when the builder failed
            before any step (a bad Dockerfile, an unreachable ``# syntax=`` frontend).
        log: the last lines (at most 20) the failing step printed.
        code: the exit code where the builder reports it (Docker's classic builder).
    """

    def __init__(
        self,
        message: str,
        *,
        step: str | None = None,
        log: Iterable[str] = (),
        code: int | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message, code=code, method=method, path=path)
        self.step = step
        self.log = tuple(log)

    def __str__(self) -> str:
        where = f"step {self.step!r} failed: " if self.step else ""
        text = f"{where}{super().__str__()}"
        if self.log:
            text += "\nlast log lines of the step:\n" + "\n".join(f"  {x}" for x in self.log)
        return text


class BuildFrontendError(BuildStepError):
    """The Dockerfile's ``# syntax=IMAGE`` frontend could not be fetched (BuildKit pulls it
    from its registry before any step runs; offline, or a registry that refuses, fails).

    Attributes:
        frontend: the image the ``# syntax=`` line names.
        builder_message: the builder's own message.
    """

    def __init__(
        self, message: str, *, frontend: str, builder_message: str, step: str | None = None
    ) -> None:
        super().__init__(message, step=step)
        self.frontend = frontend
        self.builder_message = builder_message


class _Step:
    __slots__ = ("cached", "done", "log", "name", "partial", "started")

    def __init__(self, name: str) -> None:
        self.name = name
        self.started: datetime | None = None
        self.cached = False
        self.done = False
        self.log: deque[bytes] = deque(maxlen=LOG_TAIL)
        self.partial = b""

    def add_log(self, data: bytes) -> None:
        if b"\n" not in data:
            self.partial += data
            return
        *lines, self.partial = (self.partial + data).split(b"\n")
        self.log.extend(lines)  # raw: decoded only when a failure asks for the tail

    def log_tail(self) -> tuple[str, ...]:
        tail = list(self.log)
        if self.partial.strip():
            tail = [*tail, self.partial][-LOG_TAIL:]
        return tuple(line.decode("utf-8", "replace").rstrip("\r") for line in tail)


class BuildProgress:
    """Reads build records (:class:`~lightshuttle_runtime.models.BuildMessage`) of any builder
    into :data:`BuildEvent` items, keeping each step's state and last log lines.

    Raises (from :meth:`feed`):
        DecodeError: a BuildKit trace record is not a well-formed ``StatusResponse``.
    """

    __slots__ = ("_current", "_failed", "_steps")

    def __init__(self) -> None:
        self._steps: dict[str, _Step] = {}
        self._current: str | None = None  # the classic builders' running step
        self._failed: str | None = None

    def feed(self, message: BuildMessage) -> list[BuildEvent]:
        """The events one record brings (none for most BuildKit records of internal chatter)."""
        trace = message.trace
        if trace is not None:
            return self._trace(trace)
        events: list[BuildEvent] = []
        if message.error is not None or message.error_detail is not None:
            return self._failure(message)
        if message.stream is not None:
            self._classic_text(message, events)
        image_id = message.image_id
        if image_id is not None:
            self._close_classic(events)
            events.append(ImageBuilt(image_id=image_id))
        return events

    @staticmethod
    def raise_for(event: BuildEvent) -> None:
        """Raise :class:`BuildStepError` for a :class:`BuildFailed` event; else nothing."""
        if isinstance(event, BuildFailed):
            raise BuildStepError(event.message, step=event.step, log=event.log, code=event.code)

    # -- BuildKit ------------------------------------------------------------------------

    def _trace(self, trace: StatusResponse) -> list[BuildEvent]:
        events: list[BuildEvent] = []
        for vertex in trace.vertexes:
            self._vertex(vertex, events)
        for log in trace.logs:
            self._log(log, events)
        for warning in trace.warnings:
            events.append(self._warning(warning))
        return events

    def _vertex(self, vertex: Vertex, events: list[BuildEvent]) -> None:
        step = self._steps.get(vertex.digest)
        if step is None:
            step = self._steps[vertex.digest] = _Step(vertex.name)
        step.name = vertex.name or step.name
        name, digest = step.name, vertex.digest
        if step.done:
            return
        if vertex.cached:
            step.cached = step.done = True
            events.append(StepCached(step=name, digest=digest))
            return
        if vertex.started is not None and step.started is None:
            step.started = vertex.started
            events.append(StepStarted(step=name, digest=digest, time=vertex.started))
        if vertex.completed is None:
            return
        step.done = True
        if vertex.error:
            self._failed = digest
            events.append(
                StepFailed(step=name, digest=digest, error=vertex.error, log=step.log_tail())
            )
        else:
            started = vertex.started or step.started
            duration = vertex.completed - started if started is not None else None
            events.append(StepCompleted(step=name, digest=digest, duration=duration))

    def _log(self, log: VertexLog, events: list[BuildEvent]) -> None:
        step = self._steps.get(log.vertex)
        if step is None:
            step = self._steps[log.vertex] = _Step("")
        step.add_log(log.data)
        stream = LogStream.STDERR if log.stream == LogStream.STDERR else LogStream.STDOUT
        events.append(
            StepLog(
                step=step.name, digest=log.vertex, stream=stream, data=log.data, time=log.timestamp
            )
        )

    def _warning(self, warning: VertexWarning) -> BuildWarning:
        step = self._steps.get(warning.vertex)
        return BuildWarning(
            step=step.name if step is not None else None,
            digest=warning.vertex,
            level=warning.level,
            message=warning.short.decode("utf-8", "replace"),
            detail=tuple(d.decode("utf-8", "replace") for d in warning.detail),
            url=warning.url,
        )

    # -- the classic builder and buildah -------------------------------------------------

    def _classic_text(self, message: BuildMessage, events: list[BuildEvent]) -> None:
        text = message.stream or ""
        name = message.step_name
        if name is not None:
            self._close_classic(events)
            self._current = name
            self._steps[name] = _Step(name)
            events.append(StepStarted(step=name, digest=name))
            return
        current = self._steps.get(self._current) if self._current is not None else None
        stripped = text.strip()
        if current is not None and stripped.lstrip("-> ").startswith(_USING_CACHE):
            if not current.cached:
                current.cached = True
                events.append(StepCached(step=current.name, digest=current.name))
            return
        if text.startswith(_END_OF_STEPS):
            self._close_classic(events)
            current = None
        if current is None or not stripped or text.startswith(_CHATTER):
            if stripped:
                events.append(BuildOutput(text=text))
            return
        data = text.encode("utf-8")
        current.add_log(data)
        events.append(
            StepLog(step=current.name, digest=current.name, stream=LogStream.STDOUT, data=data)
        )

    def _close_classic(self, events: list[BuildEvent]) -> None:
        """The running classic step ended (the next one started, or the image was built)."""
        step = self._steps.get(self._current) if self._current is not None else None
        self._current = None
        if step is None or step.done:
            return
        step.done = True
        if not step.cached:
            events.append(StepCompleted(step=step.name, digest=step.name))

    # -- the end -------------------------------------------------------------------------

    def _failure(self, message: BuildMessage) -> list[BuildEvent]:
        try:
            raise_for_progress_error(message)
        except StreamError as exc:
            text, code = exc.message.strip() or exc.message, exc.code
        else:  # pragma: no cover - only called for records with an error field
            return []
        events: list[BuildEvent] = []
        digest = self._failed or self._current
        step = self._steps.get(digest) if digest is not None else None
        if step is not None and self._failed is None:  # a classic step: BuildKit said it already
            step.done = True
            events.append(
                StepFailed(step=step.name, digest=step.name, error=text, log=step.log_tail())
            )
        events.append(
            BuildFailed(
                message=text,
                code=code,
                step=step.name if step is not None else None,
                log=step.log_tail() if step is not None else (),
            )
        )
        return events
