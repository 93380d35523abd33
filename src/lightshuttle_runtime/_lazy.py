"""Import on first use: module-level ``__getattr__`` exports and per-instance areas.

``import lightshuttle_runtime`` loads only what every call needs; an API area, the build
context and tar code, the testing kit and the like load when first touched.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar, overload

__all__ = ["Area", "lazy_exports"]

T = TypeVar("T")


def lazy_exports(
    package: str, exports: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module's ``__getattr__`` and ``__dir__`` serving ``exports`` (name → submodule).

    The first access imports the submodule and stores the value in ``namespace`` (the
    module's globals), so later accesses are plain lookups.
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *exports})

    return __getattr__, __dir__


class Area(Generic[T]):
    """An attribute made by ``load(instance._session)`` on first access, then kept on the
    instance (an API area of a client, built on the client's session)."""

    def __init__(self, load: Callable[[Any], T]) -> None:
        self._load = load
        self._name = ""

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._name = name

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> Area[T]: ...
    @overload
    def __get__(self, instance: Any, owner: type[Any]) -> T: ...
    def __get__(self, instance: Any | None, owner: type[Any]) -> Area[T] | T:
        if instance is None:
            return self
        value = self._load(instance._session)
        instance.__dict__[self._name] = value  # a non-data descriptor: the instance wins now
        return value
