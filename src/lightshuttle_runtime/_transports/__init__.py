"""The transports behind the one seam (``httpx.AsyncBaseTransport``).

``_unix``: our native HTTP/1.1 transport over anyio; ``_http11``: its sans-I/O framing.
"""

from ._unix import UnixSocketTransport, UpgradedStream

__all__ = ["UnixSocketTransport", "UpgradedStream"]
