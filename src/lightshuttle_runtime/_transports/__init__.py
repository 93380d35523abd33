"""The transports behind the one seam (``httpx.AsyncBaseTransport``).

``_native``: our HTTP/1.1 transport (:class:`NativeTransport`), generic over a connector;
``_connector``: the connector seam (how a native transport reaches the engine: one anyio byte
stream per connection) and the Unix-socket connector; ``_http11``: the sans-I/O framing;
``_upgrade``: the upgraded (101) connection each transport hands over; ``_httpx``: httpx's
stock transport as ``transport_kind="httpx"`` builds it; ``_remote``, ``_ssh``: tcp and ssh;
``_ssh_httpx``: httpx's transport over ssh dial-stdio.
"""

from ._connector import Connector, SocketStream, UnixConnector
from ._native import LONG_LIVED, NativeTransport, UnixSocketTransport, UpgradedStream
from ._upgrade import UpgradeError, upgraded_stream

__all__ = [
    "LONG_LIVED",
    "Connector",
    "NativeTransport",
    "SocketStream",
    "UnixConnector",
    "UnixSocketTransport",
    "UpgradeError",
    "UpgradedStream",
    "upgraded_stream",
]
