"""The ``async with`` shape shared by everything that holds engine connections."""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["AsyncResource"]


class AsyncResource:
    """Entering acquires (:meth:`_enter`); leaving always calls :meth:`aclose`, also on
    errors and cancellation, so the connections it holds are released."""

    async def _enter(self) -> None:
        """Acquire what the resource holds (send the request, open the stream); none by default."""

    async def aclose(self) -> None:
        """Release what the resource holds; safe to call more than once."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self._enter()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
