"""How ``lightshuttle-runtime build`` shows a build's step events.

Two views of the same :data:`~lightshuttle_runtime.models.BuildEvent` items:

- :class:`PlainBuildView` (not a terminal, or ``--progress plain``): one line per event, like
  ``docker build --progress=plain``: ``#2 [2/3] RUN make``, ``#2 0.104 output``,
  ``#2 DONE 0.2s``, ``#2 CACHED``, ``#2 ERROR: ...``;
- :class:`TtyBuildView` (a terminal): a step's lines collapse into one: while it runs, one line
  shows its name and latest output, rewritten in place; when it ends, a single
  ``✔ [2/3] RUN make  0.2s`` (``cached``, or ``✘`` with the step's last log lines) stays.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, TextIO

from ._streams._build_progress import (
    BuildEvent,
    BuildOutput,
    BuildWarning,
    ImageBuilt,
    StepCached,
    StepCompleted,
    StepFailed,
    StepLog,
    StepStarted,
)

__all__ = ["BuildView", "PlainBuildView", "TtyBuildView"]

_CLEAR_LINE: Final = "\r\x1b[K"


class BuildView:
    """Numbers the steps in the order they appear (``#1``, ``#2``...) and writes to ``out``."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._numbers: dict[str, int] = {}
        self._started: dict[str, datetime] = {}
        self.image_id: str | None = None

    def number(self, digest: str) -> int:
        return self._numbers.setdefault(digest, len(self._numbers) + 1)

    def show(self, event: BuildEvent) -> None:
        """Write what ``event`` changes."""
        if isinstance(event, StepStarted) and event.time is not None:
            self._started[event.digest] = event.time
        if isinstance(event, ImageBuilt):
            self.image_id = event.image_id
        self._show(event)

    def _show(self, event: BuildEvent) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """The stream ended (or failed): finish any line in progress."""

    def offset(self, event: StepLog) -> str:
        """Seconds since the step started, as ``docker build --progress=plain`` prints."""
        started = self._started.get(event.digest)
        if started is None or event.time is None:
            return ""
        return f"{(event.time - started).total_seconds():.3f} "

    def write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()


class PlainBuildView(BuildView):
    """One line per event (see the module)."""

    def __init__(self, out: TextIO) -> None:
        super().__init__(out)
        self._announced: set[str] = set()

    def _show(self, event: BuildEvent) -> None:
        if isinstance(event, StepStarted):
            self._announce(event.digest, event.step)
        elif isinstance(event, StepCached):
            self._announce(event.digest, event.step)
            self.write(f"#{self.number(event.digest)} CACHED\n")
        elif isinstance(event, StepCompleted):
            took = f" {event.duration.total_seconds():.1f}s" if event.duration is not None else ""
            self.write(f"#{self.number(event.digest)} DONE{took}\n")
        elif isinstance(event, StepFailed):
            self.write(f"#{self.number(event.digest)} ERROR: {event.error}\n")
        elif isinstance(event, StepLog):
            self._log(event)
        elif isinstance(event, BuildWarning):
            self.write(f"WARNING: {event.message}\n")
        elif isinstance(event, BuildOutput):
            self.write(event.text if event.text.endswith("\n") else event.text + "\n")
        elif isinstance(event, ImageBuilt):
            self.write(f"writing image {event.image_id} done\n")

    def _announce(self, digest: str, step: str) -> None:
        if digest not in self._announced:
            self._announced.add(digest)
            self.write(f"#{self.number(digest)} {step}\n")

    def _log(self, event: StepLog) -> None:
        prefix = f"#{self.number(event.digest)} {self.offset(event)}"
        text = event.data.decode("utf-8", "replace")
        for line in text.splitlines():
            self.write(f"{prefix}{line}\n")


class TtyBuildView(BuildView):
    """Collapsing lines on a terminal (see the module)."""

    def __init__(self, out: TextIO, *, ok: str = "✔", bad: str = "✘", width: int = 100) -> None:
        super().__init__(out)
        self._ok, self._bad, self._width = ok, bad, width
        self._live: str | None = None  # the step whose line is being rewritten

    def _show(self, event: BuildEvent) -> None:
        if isinstance(event, StepStarted):
            self._rewrite(f"  {event.step}")
            self._live = event.digest
        elif isinstance(event, StepLog):
            lines = event.data.decode("utf-8", "replace").strip().splitlines()
            if lines:
                self._rewrite(f"  {event.step}: {lines[-1]}")
        elif isinstance(event, StepCached):
            self._settle(f"{self._ok} {event.step}  cached")
        elif isinstance(event, StepCompleted):
            took = f"  {event.duration.total_seconds():.1f}s" if event.duration is not None else ""
            self._settle(f"{self._ok} {event.step}{took}")
        elif isinstance(event, StepFailed):
            self._settle(f"{self._bad} {event.step}: {event.error}")
            for line in event.log:
                self.write(f"    {line}\n")
        elif isinstance(event, BuildWarning):
            self._settle(f"! {event.message}")
        elif isinstance(event, ImageBuilt):
            self._settle(f"{self._ok} image {event.image_id}")

    def _rewrite(self, text: str) -> None:
        self.write(_CLEAR_LINE + text[: self._width])

    def _settle(self, text: str) -> None:
        """Replace the live line with a line that stays."""
        self.write(_CLEAR_LINE + text + "\n")
        self._live = None

    def close(self) -> None:
        if self._live is not None:
            self.write("\n")
            self._live = None
