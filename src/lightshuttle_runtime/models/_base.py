"""The base every engine model derives from."""

from __future__ import annotations

import msgspec

__all__ = ["Model"]


class Model(msgspec.Struct, rename="pascal", omit_defaults=True, kw_only=True):
    """A Docker Engine API object.

    Python names are snake_case; on the wire they are the API's PascalCase names (fields
    whose API name is not plain PascalCase, like ``OOMKilled`` or ``timeNano``, say so with
    ``msgspec.field(name=...)``). Unknown fields in answers are ignored, fields left at
    their default are not sent.
    """
