"""Models of ``POST /build`` (v1.41 spec on): the lines of the build's JSON stream."""

from __future__ import annotations

import re
from typing import Any, Final

import msgspec

from .._streams._buildkit import StatusResponse, decode_trace
from ._base import Model
from ._images import ErrorDetail, ProgressDetail

__all__ = ["BUILDKIT_TRACE_ID", "BuildMessage"]

# Docker: "Step 2/4 : RUN x" (its "\n" comes as the next line); Podman: "STEP 2/4: RUN x\n".
_STEP: Final = re.compile(
    r"step (?P<number>\d+/\d+) ?: ?(?P<instruction>.+?)\s*", re.IGNORECASE | re.DOTALL
)
#: The ``id`` of a BuildKit trace record (``POST /build?version=2``).
BUILDKIT_TRACE_ID: Final = "moby.buildkit.trace"


class BuildMessage(Model, rename=None):
    """One line of the ``POST /build`` stream.

    - ``stream``: the builder's output text, ``\\n`` included (Docker's classic builder sends
      ``"Step 2/4 : RUN ..."`` and its ``"\\n"`` as two lines; Podman's buildah sends
      ``"STEP 2/4: RUN ...\\n"``);
    - ``aux``: ``{"ID": "sha256:..."}`` once the image is built (all builders; BuildKit's
      record has ``id`` ``"moby.image.id"``), or, with ``id`` ``"moby.buildkit.trace"``, a
      BuildKit progress message as base64 protobuf (decoded by :attr:`trace`);
    - ``status`` / ``id`` / ``progress`` / ``progress_detail``: a base-image pull's progress;
    - ``error`` / ``error_detail``: the build failed (``error_detail.code`` is the failing
      ``RUN``'s exit code on Docker; Podman sends no code).
    """

    stream: str | None = None
    aux: dict[str, Any] | str | None = None
    status: str | None = None
    id: str | None = None
    progress: str | None = None
    progress_detail: ProgressDetail | None = msgspec.field(default=None, name="progressDetail")
    error: str | None = None
    error_detail: ErrorDetail | None = msgspec.field(default=None, name="errorDetail")

    @property
    def image_id(self) -> str | None:
        """The built image's id (``sha256:...``) from an ``aux`` line, else ``None``."""
        if isinstance(self.aux, dict):
            found = self.aux.get("ID")
            if isinstance(found, str) and found:
                return found
        return None

    @property
    def step(self) -> str | None:
        """The Dockerfile instruction a step header line starts (``"RUN echo hi"``), else
        ``None``. Both engines number steps: ``Step 2/4 : ...`` (Docker), ``STEP 2/4: ...``
        (Podman)."""
        if self.stream is None:
            return None
        found = _STEP.fullmatch(self.stream)
        return found["instruction"] if found else None

    @property
    def step_name(self) -> str | None:
        """A classic or buildah step header as BuildKit names its steps
        (``"[2/4] RUN echo hi"``), else ``None``."""
        if self.stream is None:
            return None
        found = _STEP.fullmatch(self.stream)
        return f"[{found['number']}] {found['instruction']}" if found else None

    @property
    def trace(self) -> StatusResponse | None:
        """The BuildKit progress message of a ``moby.buildkit.trace`` record, else ``None``.

        Raises:
            DecodeError: the record's ``aux`` is not a base64 ``StatusResponse``.
        """
        if self.id != BUILDKIT_TRACE_ID or not isinstance(self.aux, str):
            return None
        return decode_trace(self.aux)
