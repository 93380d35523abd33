"""Why a ``tcp://`` engine could not be reached, said so the user knows what to do.

Transports raise ``httpx.ConnectError`` with the standard library's error as a cause (an
``ssl.SSLError``, ``ConnectionRefusedError``, ``socket.gaierror``...); :func:`explain` walks
that chain and names the address, the TLS files in use, and the setting to change.
"""

from __future__ import annotations

import errno
import socket
import ssl

from ._discovery import GIVEN_CONTEXT, EngineAddress
from ._errors import (
    DockerConnectionError,
    EngineRefusedError,
    EngineSSHError,
    EngineTLSError,
    EngineUnreachableError,
    exception_chain,
)
from ._transports._ssh import SSHFailure

__all__ = ["TLS_REQUIRED_ANSWER", "explain", "refused_after_connect", "tls_failed", "tls_required"]

#: What Go's TLS server answers to plain HTTP (``400``, Docker's TLS listener).
TLS_REQUIRED_ANSWER = "Client sent an HTTP request to an HTTPS server"

# OpenSSL's X509_V_ERR_* codes of ssl.SSLCertVerificationError.verify_code.
_UNKNOWN_CA = {2, 18, 19, 20, 21, 27}
_EXPIRED = {9, 10}
_NAME_MISMATCH = {62, 64}
# The server's alerts when it wants a client certificate, or rejects the one sent.
_CLIENT_CERT_ALERTS = (
    "TLSV13_ALERT_CERTIFICATE_REQUIRED",
    "SSLV3_ALERT_BAD_CERTIFICATE",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
    "TLSV1_ALERT_UNKNOWN_CA",
    "SSLV3_ALERT_HANDSHAKE_FAILURE",
)
_NOT_TLS = ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG")


def tls_failed(exc: BaseException, address: EngineAddress) -> bool:
    """Whether a TLS failure is behind ``exc``, raised before any answer: a TLS error, or,
    with TLS, the connection reset. With TLS 1.3 the server's refusal of a client certificate
    comes after the handshake, with the first read; when the request was already sent, the
    server's close often resets the connection before its alert is read."""
    for cause in exception_chain(exc):
        if isinstance(cause, ssl.SSLError):
            return True
        if _reset_by_peer(cause) and address.tls is not None:
            return True
    return False


def refused_after_connect(exc: BaseException, address: EngineAddress) -> bool:
    """Whether ``exc`` (a read or write failure before any answer) is the engine's or ssh's
    refusal: :func:`tls_failed` for ``tcp://``, ssh's failure for ``ssh://``."""
    if address.scheme == "ssh":
        return any(isinstance(cause, SSHFailure) for cause in exception_chain(exc))
    return tls_failed(exc, address)


def _reset_by_peer(cause: BaseException) -> bool:
    """A reset or broken pipe; trio's TLS stream, broken by a failed write of the request,
    raises a bare ``BrokenResourceError`` at the next read."""
    if isinstance(cause, ConnectionResetError | BrokenPipeError):
        return True
    return (
        type(cause).__name__ == "BrokenResourceError"
        and cause.__cause__ is None
        and cause.__context__ is None
    )


def _tls_hint(address: EngineAddress) -> str:
    tls = address.tls
    if tls is None or tls.source == GIVEN_CONTEXT:
        return "TLS by the ssl.SSLContext given"
    return f"TLS from {tls.source}: ca {tls.ca or '(system CAs)'}, cert {tls.cert or '(none)'}"


def explain(
    exc: BaseException, address: EngineAddress, method: str | None, path: str | None
) -> DockerConnectionError:
    """The typed error for a failure to connect to ``address`` (``tcp://`` or ``ssh://``)."""
    where = address.url
    for cause in exception_chain(exc):
        if isinstance(cause, SSHFailure):
            return ssh_error(cause, address, method, path)
        if isinstance(cause, ssl.SSLCertVerificationError):
            return _verify_error(cause, address, method, path)
        if isinstance(cause, ssl.SSLError):
            return _ssl_error(cause, address, method, path)
        if _reset_by_peer(cause) and address.tls is not None:
            return _reset(address, method, path)
        if isinstance(cause, ConnectionRefusedError):
            return EngineRefusedError(
                f"nothing listens at {where} (connection refused): is the engine running and "
                "listening on TCP there (dockerd -H tcp://..., podman system service tcp://...), "
                "and is the port right (the usual ones: 2375 plain, 2376 TLS)?",
                address=where,
                method=method,
                path=path,
            )
        if isinstance(cause, socket.gaierror):
            return EngineUnreachableError(
                f"the engine host {address.host!r} of {where} does not resolve "
                f"({cause.strerror}): check the name in DOCKER_HOST/--host/the context",
                address=where,
                method=method,
                path=path,
            )
        if isinstance(cause, OSError) and cause.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return EngineUnreachableError(
                f"no route to the engine at {where} ({cause.strerror})",
                address=where,
                method=method,
                path=path,
            )
    return DockerConnectionError(
        f"could not connect to the engine at {address.display}: {exc}", method=method, path=path
    )


def _verify_error(
    cause: ssl.SSLCertVerificationError,
    address: EngineAddress,
    method: str | None,
    path: str | None,
) -> EngineTLSError:
    where = address.url
    code = cause.verify_code
    detail = cause.verify_message or str(cause)
    if code in _NAME_MISMATCH:
        reason = "hostname-mismatch"
        text = (
            f"the engine's certificate at {where} is not for {address.host!r} ({detail}): "
            "connect by a name or IP the certificate lists (its subjectAltName), or make the "
            "server certificate for this name"
        )
    elif code in _UNKNOWN_CA:
        reason = "unknown-ca"
        text = (
            f"the engine's certificate at {where} is not signed by the CA in use ({detail}; "
            f"{_tls_hint(address)}): point DOCKER_CERT_PATH (or the context's TLS material) "
            "at the ca.pem that signed the engine's certificate"
        )
    elif code in _EXPIRED:
        reason = "certificate-expired"
        text = f"the engine's certificate at {where} is expired or not yet valid ({detail})"
    else:
        reason = "verify-failed"
        text = f"the engine's certificate at {where} failed verification ({detail})"
    return EngineTLSError(text, address=where, reason=reason, method=method, path=path)


def _ssl_error(
    cause: ssl.SSLError, address: EngineAddress, method: str | None, path: str | None
) -> EngineTLSError:
    where = address.url
    name = cause.reason or ""
    tls = address.tls
    sent = tls is not None and (tls.cert is not None or tls.source == GIVEN_CONTEXT)
    if name in _CLIENT_CERT_ALERTS and not sent:
        reason = "client-certificate-missing"
        text = (
            f"the engine at {where} requires a client certificate and none was sent "
            f"({name}; {_tls_hint(address)}): put cert.pem and key.pem next to ca.pem in "
            "DOCKER_CERT_PATH (or the context's TLS material), or pass "
            "DockerClient(tls=TLSConfig(ca=, cert=, key=))"
        )
    elif name in _CLIENT_CERT_ALERTS:
        reason = "client-certificate-refused"
        text = (
            f"the engine at {where} refused the client certificate ({name}; "
            f"{_tls_hint(address)}): use a certificate signed by the CA the engine trusts "
            "(its --tlscacert)"
        )
    elif name in _NOT_TLS:
        reason = "not-tls"
        text = (
            f"the engine at {where} does not speak TLS ({name}): it is a plain-HTTP port; "
            "unset DOCKER_TLS_VERIFY/DOCKER_TLS (or use a context without TLS material), or "
            "use the engine's TLS port (usually 2376)"
        )
    else:
        reason = "handshake"
        text = f"TLS with the engine at {where} failed ({cause}; {_tls_hint(address)})"
    return EngineTLSError(text, address=where, reason=reason, method=method, path=path)


def _reset(address: EngineAddress, method: str | None, path: str | None) -> EngineTLSError:
    """A TLS connection reset before any answer: the engine refused the client (certificate)."""
    tls = address.tls
    assert tls is not None
    if tls.cert is None and tls.source != GIVEN_CONTEXT:
        return EngineTLSError(
            f"the engine at {address.url} reset the TLS connection before answering: it "
            f"requires a client certificate and none was sent ({_tls_hint(address)}): put "
            "cert.pem and key.pem next to ca.pem in DOCKER_CERT_PATH (or the context's TLS "
            "material), or pass DockerClient(tls=TLSConfig(ca=, cert=, key=))",
            address=address.url,
            reason="client-certificate-missing",
            method=method,
            path=path,
        )
    return EngineTLSError(
        f"the engine at {address.url} reset the TLS connection before answering: it refuses "
        f"the client certificate ({_tls_hint(address)}); use one signed by the CA the engine "
        "trusts (its --tlscacert)",
        address=address.url,
        reason="client-certificate-refused",
        method=method,
        path=path,
    )


def _ssh_target(address: EngineAddress) -> str:
    host = f"[{address.host}]" if address.host and ":" in address.host else address.host
    return f"{host}:{address.port}" if address.port is not None else f"{host}"


def _ssh_advice(reason: str, address: EngineAddress) -> str:
    target = _ssh_target(address)
    port = f"-p {address.port} " if address.port is not None else ""
    user = f"{address.user}@" if address.user else ""
    return {
        "host-key-unknown": (
            f"the host key of {target} is not in known_hosts, and ssh never accepts a key it "
            "has not seen: check its fingerprint and add it to ~/.ssh/known_hosts (e.g. "
            f"`ssh-keyscan {port}{address.host} >> ~/.ssh/known_hosts`, or connect once with "
            f"`ssh {port}{user}{address.host}`)"
        ),
        "host-key-changed": (
            f"the host key of {target} differs from the one in known_hosts: if the host was "
            "reinstalled, remove the old key (`ssh-keygen -R`) and add the new one; otherwise "
            "someone may be intercepting the connection"
        ),
        "auth-refused": (
            f"{target} refused every key offered (ssh never prompts for a password): load the "
            "key in ssh-agent or name it as IdentityFile in ~/.ssh/config"
        ),
        "no-docker": (
            f"there is no `docker` on the PATH of {target}, which `docker system dial-stdio` "
            "needs: install the docker CLI there, or "
            + (
                "let the client forward to the socket (ssh_mode='auto' or 'forward')"
                if address.path
                else "give the remote engine socket as the URL's path "
                "(ssh://host/run/podman/podman.sock) to forward to it"
            )
        ),
        "ssh-missing": (
            "there is no `ssh` on this machine's PATH: install OpenSSH's client (openssh-client)"
        ),
        "refused": f"nothing accepts ssh connections at {target} (connection refused)",
        "unreachable": f"{target} cannot be reached (the name does not resolve, or no route)",
        "timeout": f"ssh to {target} timed out",
        "forward-failed": f"ssh could not forward to the engine socket {address.path} on {target}",
        "no-socket": (
            f"the docker CLI on {target} could not connect to the engine socket "
            f"{address.path or '(its default)'}: it is missing, nothing listens on it, or the "
            "ssh user may not open it; check the URL's path and the socket on that host"
        ),
    }.get(reason, f"ssh to {target} ended")


def ssh_error(
    failure: SSHFailure, address: EngineAddress, method: str | None, path: str | None
) -> EngineSSHError:
    """The typed error for ssh's failure, its stderr's tail at the end."""
    stderr = " ".join(failure.stderr.split())
    said = f"; ssh said: {stderr}" if stderr else ""
    return EngineSSHError(
        f"ssh to the engine at {address.url} failed: {_ssh_advice(failure.reason, address)}{said}",
        address=address.url,
        reason=failure.reason,
        stderr=failure.stderr,
        command=failure.command,
        method=method,
        path=path,
    )


def tls_required(address: EngineAddress, method: str, path: str) -> EngineTLSError:
    """The error for a TLS port's ``400`` answer to plain HTTP."""
    return EngineTLSError(
        f"the engine at {address.url} speaks TLS and was spoken to in plain HTTP: set "
        "DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH (a directory with ca.pem, cert.pem, key.pem), "
        "use a context with TLS material, or pass DockerClient(tls=TLSConfig(...))",
        address=address.url,
        reason="tls-required",
        method=method,
        path=path,
    )
