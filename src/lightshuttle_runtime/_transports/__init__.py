"""The transports behind the one seam (``httpx.AsyncBaseTransport``).

``_unix``: our native HTTP/1.1 transport over anyio; ``_http11``: its sans-I/O framing;
``_upgrade``: the upgraded (101) connection each transport hands over.
"""

from ._unix import UnixSocketTransport, UpgradedStream
from ._upgrade import UpgradeError, upgraded_stream

__all__ = ["UnixSocketTransport", "UpgradeError", "UpgradedStream", "upgraded_stream"]
