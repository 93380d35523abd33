"""Connection failures to a ``tcp://`` engine, explained (offline: the standard library's errors
built by hand, and fake engines behind ``httpx.MockTransport``)."""

from __future__ import annotations

import socket
import ssl
from dataclasses import replace

import httpx
import pytest

from lightshuttle_runtime import (
    DockerClient,
    DockerConnectionError,
    EngineAddress,
    EngineRefusedError,
    EngineTLSError,
    EngineUnreachableError,
    TLSConfig,
)
from lightshuttle_runtime._discovery import parse_host
from lightshuttle_runtime._reachability import explain, tls_failed

pytestmark = pytest.mark.anyio

TLS = TLSConfig("/certs/ca.pem", "/certs/cert.pem", "/certs/key.pem", source="DOCKER_TLS_VERIFY")
NO_CERT = TLSConfig("/certs/ca.pem", source="DOCKER_TLS_VERIFY")
ADDRESS = parse_host("tcp://engine.example:2376")


def with_tls(tls: TLSConfig | None) -> EngineAddress:
    return replace(ADDRESS, tls=tls)


def wrapped(cause: BaseException) -> httpx.ConnectError:
    """As a transport raises it: ``httpx.ConnectError`` from the standard library's error."""
    error = httpx.ConnectError(str(cause))
    error.__cause__ = cause
    return error


def verify_error(code: int, message: str) -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(1, f"[SSL: CERTIFICATE_VERIFY_FAILED] {message}")
    error.verify_code = code
    error.verify_message = message
    return error


def ssl_error(reason: str) -> ssl.SSLError:
    error = ssl.SSLError(1, f"[SSL: {reason}] ...")
    error.reason = reason
    return error


@pytest.mark.parametrize(
    ("cause", "tls", "reason"),
    [
        (verify_error(20, "unable to get local issuer certificate"), TLS, "unknown-ca"),
        (verify_error(19, "self-signed certificate in certificate chain"), TLS, "unknown-ca"),
        (verify_error(62, "Hostname mismatch"), TLS, "hostname-mismatch"),
        (verify_error(64, "IP address mismatch"), TLS, "hostname-mismatch"),
        (verify_error(10, "certificate has expired"), TLS, "certificate-expired"),
        (verify_error(50, "something else"), TLS, "verify-failed"),
        (ssl_error("SSLV3_ALERT_BAD_CERTIFICATE"), NO_CERT, "client-certificate-missing"),
        (ssl_error("TLSV13_ALERT_CERTIFICATE_REQUIRED"), NO_CERT, "client-certificate-missing"),
        (ssl_error("SSLV3_ALERT_BAD_CERTIFICATE"), TLS, "client-certificate-refused"),
        (ssl_error("TLSV1_ALERT_UNKNOWN_CA"), TLS, "client-certificate-refused"),
        (ssl_error("WRONG_VERSION_NUMBER"), TLS, "not-tls"),
        (ssl_error("SOMETHING_ELSE"), TLS, "handshake"),
        (
            ConnectionResetError(104, "Connection reset by peer"),
            NO_CERT,
            "client-certificate-missing",
        ),
        (ConnectionResetError(104, "Connection reset by peer"), TLS, "client-certificate-refused"),
    ],
)
def test_tls_failures_are_typed(cause: BaseException, tls: TLSConfig, reason: str) -> None:
    error = explain(wrapped(cause), with_tls(tls), "GET", "/_ping")
    assert isinstance(error, EngineTLSError)
    assert error.reason == reason
    assert error.address == "tcp://engine.example:2376"
    assert "tcp://engine.example:2376" in str(error)


def test_a_missing_certificate_names_what_to_set() -> None:
    error = explain(
        wrapped(ssl_error("SSLV3_ALERT_BAD_CERTIFICATE")), with_tls(NO_CERT), None, None
    )
    assert "cert.pem" in str(error) and "DOCKER_CERT_PATH" in str(error)


def test_an_unknown_ca_names_the_ca_in_use() -> None:
    error = explain(wrapped(verify_error(20, "x")), with_tls(TLS), None, None)
    assert "/certs/ca.pem" in str(error)


def test_refused_unresolved_and_unroutable() -> None:
    refused = explain(wrapped(ConnectionRefusedError(111, "refused")), ADDRESS, None, None)
    assert isinstance(refused, EngineRefusedError) and "2375" in str(refused)
    unresolved = explain(
        wrapped(socket.gaierror(-2, "Name or service not known")), ADDRESS, None, None
    )
    assert isinstance(unresolved, EngineUnreachableError)
    assert "engine.example" in str(unresolved)
    unroutable = explain(wrapped(OSError(113, "No route to host")), ADDRESS, None, None)
    assert isinstance(unroutable, EngineUnreachableError)


def test_trio_reports_each_attempt_in_a_group() -> None:
    group = ExceptionGroup("attempts", [ConnectionRefusedError(111, "refused")])
    outer = OSError("all attempts to connect to engine.example:2376 failed")
    outer.__cause__ = group
    assert isinstance(explain(wrapped(outer), ADDRESS, None, None), EngineRefusedError)


def test_a_reset_without_tls_is_not_a_tls_error() -> None:
    error = explain(wrapped(ConnectionResetError(104, "reset")), ADDRESS, None, None)
    assert type(error) is DockerConnectionError
    assert not tls_failed(wrapped(ConnectionResetError(104, "reset")), ADDRESS)
    assert tls_failed(wrapped(ConnectionResetError(104, "reset")), with_tls(TLS))


async def test_tls_alert_through_the_client() -> None:
    def alert(request: httpx.Request) -> httpx.Response:
        error = httpx.ReadError("", request=request)
        error.__cause__ = ssl_error("SSLV3_ALERT_BAD_CERTIFICATE")
        raise error

    async with DockerClient(
        "tcp://engine.example:2376", tls=NO_CERT, transport=httpx.MockTransport(alert)
    ) as docker:
        with pytest.raises(EngineTLSError) as caught:
            await docker.system.ping()
    assert caught.value.reason == "client-certificate-missing"


async def test_plain_http_to_a_tls_port_is_a_tls_error() -> None:
    def go_tls_server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, text="Client sent an HTTP request to an HTTPS server.\n")

    async with DockerClient(
        "tcp://engine.example:2376", transport=httpx.MockTransport(go_tls_server)
    ) as docker:
        with pytest.raises(EngineTLSError) as caught:
            await docker.system.ping()
    assert caught.value.reason == "tls-required"
    assert "DOCKER_TLS_VERIFY" in str(caught.value)


async def test_a_400_from_a_unix_socket_stays_a_bad_request() -> None:
    from lightshuttle_runtime import BadRequestError

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, text="Client sent an HTTP request to an HTTPS server.\n")

    async with DockerClient("unix:///x.sock", transport=httpx.MockTransport(answer)) as docker:
        with pytest.raises(BadRequestError):
            await docker.system.ping()
