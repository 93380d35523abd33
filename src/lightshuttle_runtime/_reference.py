"""Image references: ``[registry[:port]/]path[:tag][@digest]``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._errors import InvalidArgumentError

__all__ = ["ImageReference", "parse_reference"]

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9-]+)*(?::[0-9]+)?"
_REFERENCE = re.compile(
    rf"(?P<name>(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?"
)


@dataclass(frozen=True, slots=True)
class ImageReference:
    """A parsed image reference.

    Attributes:
        repository: ``[registry[:port]/]path`` (``localhost:5000/team/app``).
        tag: the tag, or ``None`` when the reference has none (a pull then uses ``latest``).
        digest: ``sha256:...`` when pinned by digest.
    """

    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def pull_tag(self) -> str:
        """The ``tag`` value for ``POST /images/create``: the digest, the tag or ``latest``."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        text = self.repository
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse_reference(reference: str) -> ImageReference:
    """Split an image reference into repository, tag and digest.

    A colon belongs to a registry port when a ``/`` follows it (``localhost:5000/app``), so
    ``localhost:5000/app`` has no tag and ``localhost:5000/app:1`` has tag ``1``.

    Raises:
        InvalidArgumentError: the text is not a valid reference (upper case in the path,
            empty, stray characters).
    """
    found = _REFERENCE.fullmatch(reference) if isinstance(reference, str) else None
    if found is None or len(reference) > 255:
        raise InvalidArgumentError(
            f"image reference {reference!r} is not valid: expected [registry[:port]/]name[:tag]"
            "[@digest] with a lower-case name, e.g. busybox:local or localhost:5000/app:1"
        )
    return ImageReference(found["name"], found["tag"], found["digest"])
