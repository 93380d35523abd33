"""Finding the engine as the Docker CLI does (``find_engine``): offline, on temporary config
directories and sockets."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lightshuttle_runtime import (
    ContextNotFoundError,
    DockerClient,
    EngineConfigError,
    EngineNotFoundError,
    InvalidArgumentError,
    SocketNotFoundError,
    TLSConfig,
    TLSConfigError,
    UnsupportedHostError,
    _discovery,
    find_engine,
)
from lightshuttle_runtime._discovery import DEFAULT_HOST, parse_host, usual_sockets

TLS_DIR = Path("/etc/lightshuttle-tls")

ENV_NAMES = (
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_CONFIG",
    "DOCKER_TLS_VERIFY",
    "DOCKER_TLS",
    "DOCKER_CERT_PATH",
    "CONTAINER_HOST",
)


@pytest.fixture(autouse=True)
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Docker config directory as ``DOCKER_CONFIG``, and no other engine variable."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    directory = tmp_path / "docker-config"
    directory.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(directory))
    return directory


def make_context(
    config: Path,
    name: str,
    host: str,
    *,
    skip_verify: bool = False,
    tls_files: tuple[str, ...] = (),
) -> str:
    """Write a context as ``docker context create`` does; returns its digest."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = config / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    document = {
        "Name": name,
        "Metadata": {"Description": "test"},
        "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": skip_verify}},
    }
    (meta / "meta.json").write_text(json.dumps(document))
    if tls_files:
        tls = config / "contexts" / "tls" / digest / "docker"
        tls.mkdir(parents=True)
        for kind in tls_files:
            (tls / f"{kind}.pem").write_text(f"{kind} of {name}")
    return digest


def set_current(config: Path, name: str) -> None:
    (config / "config.json").write_text(json.dumps({"auths": {}, "currentContext": name}))


# -- host parsing (opts/hosts.go) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("unix:///run/podman/podman.sock", "unix:///run/podman/podman.sock"),
        ("/run/podman/podman.sock", "unix:///run/podman/podman.sock"),
        ("./engine.sock", "unix://./engine.sock"),
        ("unix://", DEFAULT_HOST),
        ("tcp://127.0.0.1:2376", "tcp://127.0.0.1:2376"),
        ("tcp://127.0.0.1", "tcp://127.0.0.1:2375"),
        ("tcp://127.0.0.1:", "tcp://127.0.0.1:2375"),
        ("tcp://", "tcp://localhost:2375"),
        ("tcp://:2376", "tcp://localhost:2376"),
        ("127.0.0.1:2376", "tcp://127.0.0.1:2376"),
        ("docker", "tcp://docker:2375"),
        ("tcp://[::1]:2376", "tcp://[::1]:2376"),
        ("tcp://[::1]", "tcp://[::1]:2375"),
        ("tcp://host:2376/prefix", "tcp://host:2376/prefix"),
        ("ssh://me@example.com", "ssh://me@example.com"),
        (
            "ssh://example.com:2222/run/podman/podman.sock",
            "ssh://example.com:2222/run/podman/podman.sock",
        ),
        ("  tcp://127.0.0.1:2376  ", "tcp://127.0.0.1:2376"),
    ],
)
def test_hosts_parse_as_the_cli_parses_them(text: str, url: str) -> None:
    assert parse_host(text).url == url


def test_tcp_parts() -> None:
    address = parse_host("tcp://[::1]:2376")
    assert (address.scheme, address.host, address.port, address.socket_path) == (
        "tcp",
        "::1",
        2376,
        None,
    )


def test_ssh_parts() -> None:
    address = parse_host("ssh://root@127.0.0.1:2222/run/podman/podman.sock")
    assert (address.scheme, address.user, address.host, address.port, address.path) == (
        "ssh",
        "root",
        "127.0.0.1",
        2222,
        "/run/podman/podman.sock",
    )
    bare = parse_host("ssh://host")
    assert (bare.user, bare.port, bare.path) == (None, None, None)


def test_an_empty_host_with_tls_is_the_tls_default() -> None:
    assert parse_host("", tls=True).url == "tcp://localhost:2376"
    assert parse_host("").url == DEFAULT_HOST


@pytest.mark.parametrize(
    "text",
    [
        "gopher://x",
        "tcp://host:port",
        "tcp://host:99999",
        "tcp://a b:1",
        "tcp://::1:2375",
        "unix://tcp://x",
        "tcp://tcp://x",
        "ssh://",
        "ssh://host:notaport",
    ],
)
def test_malformed_hosts_are_refused_and_named(text: str) -> None:
    with pytest.raises(UnsupportedHostError) as caught:
        parse_host(text, source="DOCKER_HOST")
    assert text.strip() in str(caught.value)
    assert "DOCKER_HOST" in str(caught.value)


def test_a_password_in_an_ssh_url_is_refused_and_not_shown() -> None:
    with pytest.raises(UnsupportedHostError, match="password") as caught:
        parse_host("ssh://me:hunter2@example.com")
    assert "hunter2" not in str(caught.value)
    # the message keeps the port (and an IPv6 host's brackets), only the password hidden
    for raw, shown in [
        ("ssh://root:pw@127.0.0.1:2222", "ssh://root:***@127.0.0.1:2222 "),
        ("ssh://root:pw@[::1]:2222", "ssh://root:***@[::1]:2222 "),
    ]:
        with pytest.raises(UnsupportedHostError) as caught:
            parse_host(raw)
        assert shown in str(caught.value) and ":pw@" not in str(caught.value)


# -- precedence ------------------------------------------------------------------------------


def test_default_is_the_docker_socket() -> None:
    address = find_engine(search=False)
    assert (address.url, address.source, address.context) == (DEFAULT_HOST, "default", None)
    assert any("default socket" in line for line in address.why)


def test_an_existing_default_socket_is_used_without_a_search(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    present = tmp_path / "docker.sock"
    present.touch()
    monkeypatch.setattr(_discovery, "DEFAULT_SOCKET", str(present))
    monkeypatch.setattr(_discovery, "usual_sockets", pytest.fail)
    assert find_engine().socket_path == str(present)


def test_argument_wins_over_everything_but_a_context(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_context(config, "remote", "tcp://10.0.0.1:2375")
    set_current(config, "remote")
    monkeypatch.setenv("DOCKER_HOST", "unix:///from/env.sock")
    monkeypatch.setenv("DOCKER_CONTEXT", "remote")
    monkeypatch.setenv("CONTAINER_HOST", "unix:///from/podman.sock")
    address = find_engine("tcp://127.0.0.1:2375")
    assert (address.url, address.source) == ("tcp://127.0.0.1:2375", "argument")


def test_explicit_context_wins_over_docker_host(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_context(config, "remote", "tcp://10.0.0.1:2375")
    monkeypatch.setenv("DOCKER_HOST", "unix:///from/env.sock")
    address = find_engine(context="remote")
    assert (address.url, address.source, address.context) == (
        "tcp://10.0.0.1:2375",
        "context",
        "remote",
    )


def test_a_context_and_a_host_together_are_an_error(config: Path) -> None:
    make_context(config, "remote", "tcp://10.0.0.1:2375")
    with pytest.raises(InvalidArgumentError, match="conflicting"):
        find_engine("unix:///x.sock", context="remote")
    with pytest.raises(InvalidArgumentError, match="conflicting"):
        DockerClient("unix:///x.sock", context="remote")


def test_docker_host_wins_over_docker_context(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_context(config, "remote", "tcp://10.0.0.1:2375")
    monkeypatch.setenv("DOCKER_CONTEXT", "remote")
    monkeypatch.setenv("DOCKER_HOST", "unix:///from/env.sock")
    address = find_engine()
    assert (address.url, address.source) == ("unix:///from/env.sock", "DOCKER_HOST")
    assert any("DOCKER_CONTEXT" in line and "ignored" in line for line in address.why)


def test_an_empty_docker_host_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "")
    assert find_engine().source == "default"


def test_docker_context_wins_over_current_context(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_context(config, "one", "tcp://10.0.0.1:2375")
    make_context(config, "two", "tcp://10.0.0.2:2375")
    set_current(config, "one")
    monkeypatch.setenv("DOCKER_CONTEXT", "two")
    address = find_engine()
    assert (address.context, address.url) == ("two", "tcp://10.0.0.2:2375")
    assert any("DOCKER_CONTEXT" in line for line in address.why)


def test_current_context_from_config_json(config: Path) -> None:
    make_context(config, "colima", "unix:///home/me/.colima/default/docker.sock")
    set_current(config, "colima")
    address = find_engine()
    assert address.socket_path == "/home/me/.colima/default/docker.sock"
    assert address.context == "colima"
    assert any("currentContext" in line and "config.json" in line for line in address.why)


def test_config_dir_defaults_to_home_dot_docker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCKER_CONFIG")
    monkeypatch.setenv("HOME", str(tmp_path))
    make_context(tmp_path / ".docker", "home", "tcp://10.0.0.9:2375")
    set_current(tmp_path / ".docker", "home")
    assert find_engine().url == "tcp://10.0.0.9:2375"


def test_the_default_context_is_docker_host_or_the_socket(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_current(config, "default")
    assert find_engine().url == DEFAULT_HOST
    monkeypatch.setenv("DOCKER_CONTEXT", "default")
    assert find_engine().url == DEFAULT_HOST
    assert find_engine(context="default").url == DEFAULT_HOST


def test_container_host_comes_after_the_docker_ones(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTAINER_HOST", "unix:///run/podman/podman.sock")
    address = find_engine()
    assert (address.socket_path, address.source) == ("/run/podman/podman.sock", "CONTAINER_HOST")
    make_context(config, "remote", "tcp://10.0.0.1:2375")
    set_current(config, "remote")
    assert find_engine().source == "context"
    monkeypatch.setenv("DOCKER_HOST", "unix:///docker.sock")
    assert find_engine().source == "DOCKER_HOST"


def test_client_records_the_address_found(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/podman/podman.sock")
    client = DockerClient()
    assert client.address.source == "DOCKER_HOST"


# -- the context store -------------------------------------------------------------------------


def test_an_unknown_context_names_it_and_the_directory(config: Path) -> None:
    set_current(config, "gone")
    with pytest.raises(ContextNotFoundError) as caught:
        find_engine()
    assert caught.value.context == "gone"
    assert "'gone'" in str(caught.value)
    assert str(config / "contexts" / "meta") in str(caught.value)
    assert caught.value.path == str(config / "contexts" / "meta")


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        '["a list"]',
        '{"Name": "bad", "Endpoints": {}}',
        '{"Name": "bad", "Endpoints": {"docker": {"Host": 5}}}',
        '{"Name": "bad", "Endpoints": {"docker": {"Host": "tcp://x:1", "SkipTLSVerify": "yes"}}}',
        '{"Name": "other", "Endpoints": {"docker": {"Host": "tcp://x:1"}}}',
    ],
)
def test_a_malformed_meta_json_names_the_file(config: Path, content: str) -> None:
    digest = make_context(config, "bad", "tcp://x:1")
    meta = config / "contexts" / "meta" / digest / "meta.json"
    meta.write_text(content)
    with pytest.raises(EngineConfigError) as caught:
        find_engine(context="bad")
    assert str(meta) in str(caught.value)
    assert caught.value.path == str(meta)


def test_a_malformed_config_json_names_the_file(config: Path) -> None:
    (config / "config.json").write_text("{")
    with pytest.raises(EngineConfigError, match=str(config / "config.json")):
        find_engine()


def test_a_context_with_a_malformed_host_is_named(config: Path) -> None:
    make_context(config, "bad", "gopher://x")
    with pytest.raises(UnsupportedHostError, match="gopher"):
        find_engine(context="bad")


def test_context_tls_material_is_read_from_the_store(config: Path) -> None:
    digest = make_context(config, "tls", "tcp://127.0.0.1:2376", tls_files=("ca", "cert", "key"))
    address = find_engine(context="tls")
    store = config / "contexts" / "tls" / digest / "docker"
    assert address.tls == TLSConfig(
        ca=str(store / "ca.pem"),
        cert=str(store / "cert.pem"),
        key=str(store / "key.pem"),
        verify=True,
        source="context 'tls'",
    )
    assert "TLS" in address.display


def test_skip_tls_verify_without_material_is_tls_unverified(config: Path) -> None:
    make_context(config, "skip", "tcp://127.0.0.1:2376", skip_verify=True)
    tls = find_engine(context="skip").tls
    assert tls is not None
    assert (tls.verify, tls.ca, tls.cert) == (False, None, None)


def test_a_context_without_tls_is_plain(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_context(config, "plain", "tcp://127.0.0.1:2375")
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")  # the environment's TLS is the default's only
    assert find_engine(context="plain").tls is None


# -- TLS from the environment ------------------------------------------------------------------


def test_tls_verify_reads_the_cert_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    for kind in ("ca", "cert", "key"):
        (certs / f"{kind}.pem").write_text(kind)
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2376")
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(certs))
    tls = find_engine().tls
    assert tls == TLSConfig(
        str(certs / "ca.pem"),
        str(certs / "cert.pem"),
        str(certs / "key.pem"),
        verify=True,
        source="DOCKER_TLS_VERIFY",
    )


def test_tls_verify_zero_is_still_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2376")
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "0")  # non-empty: on, as for the CLI
    tls = find_engine().tls
    assert tls is not None and tls.verify


def test_docker_tls_alone_does_not_verify(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (config / "cert.pem").write_text("c")
    (config / "key.pem").write_text("k")
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2376")
    monkeypatch.setenv("DOCKER_TLS", "1")
    tls = find_engine().tls
    assert tls is not None
    assert (tls.verify, tls.ca, tls.cert, tls.source) == (
        False,
        None,
        str(config / "cert.pem"),
        "DOCKER_TLS",
    )


def test_missing_default_client_files_are_dropped(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2376")
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    tls = find_engine().tls
    assert tls is not None
    assert (tls.ca, tls.cert, tls.key) == (str(config / "ca.pem"), None, None)
    with pytest.raises(TLSConfigError, match=str(config / "ca.pem")) as caught:
        tls.ssl_context()
    assert caught.value.path == str(config / "ca.pem")


def test_tls_on_without_a_host_is_localhost_2376(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    address = find_engine()
    assert address.url == "tcp://localhost:2376" and address.tls is not None


def test_tls_is_ignored_for_unix_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///x.sock")
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    address = find_engine()
    assert address.tls is None
    assert any("ignored" in line for line in address.why)


def test_tls_argument_overrides_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2376")
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    given = TLSConfig(ca="/x/ca.pem")
    assert find_engine(tls=given).tls == given
    assert find_engine(tls=False).tls is None


@pytest.mark.skipif(not (TLS_DIR / "ca.pem").exists(), reason="no test TLS material")
def test_tls_config_builds_an_ssl_context() -> None:
    tls = TLSConfig(str(TLS_DIR / "ca.pem"), str(TLS_DIR / "cert.pem"), str(TLS_DIR / "key.pem"))
    context = tls.ssl_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    unverified = TLSConfig(verify=False).ssl_context()
    assert unverified.verify_mode == ssl.CERT_NONE and not unverified.check_hostname


def test_tls_files_that_are_not_pem_are_named(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not a certificate")
    with pytest.raises(TLSConfigError, match=str(ca)):
        TLSConfig(ca=str(ca)).ssl_context()


def test_a_client_cert_without_its_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TLSConfigError, match="without its key"):
        TLSConfig(cert=str(tmp_path / "cert.pem")).ssl_context()


@pytest.mark.skipif(not (TLS_DIR / "ca.pem").exists(), reason="no test TLS material")
def test_a_missing_client_key_is_named(tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    with pytest.raises(TLSConfigError, match=str(key)):
        TLSConfig(str(TLS_DIR / "ca.pem"), str(TLS_DIR / "cert.pem"), str(key)).ssl_context()


# -- the search of the usual places ------------------------------------------------------------


class PingServer:
    """A Unix socket answering every connection with ``status`` (``None``: close at once)."""

    def __init__(self, path: Path, status: bytes | None = b"200 OK") -> None:
        self.path = path
        self.status = status
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(8)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(1024)
                if self.status is not None:
                    conn.sendall(b"HTTP/1.1 " + self.status + b"\r\nContent-Length: 2\r\n\r\nOK")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def nothing_at_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No default socket; HOME and XDG_RUNTIME_DIR in a temporary directory."""
    monkeypatch.setattr(_discovery, "DEFAULT_SOCKET", str(tmp_path / "no-docker.sock"))
    home = tmp_path / "h"
    runtime = tmp_path / "r"
    home.mkdir()
    runtime.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    yield tmp_path


def test_usual_sockets_order(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"HOME": "/home/me", "XDG_RUNTIME_DIR": "/run/user/1000"}
    assert usual_sockets(env) == [
        "/run/user/1000/docker.sock",
        "/home/me/.docker/run/docker.sock",
        "/home/me/.docker/desktop/docker.sock",
        "/home/me/.colima/default/docker.sock",
        "/run/user/1000/podman/podman.sock",
        "/run/podman/podman.sock",
    ]


def test_the_first_usual_socket_that_answers_is_used(
    nothing_at_the_default: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp = nothing_at_the_default
    (tmp / "h" / ".docker" / "desktop").mkdir(parents=True)
    (tmp / "h" / ".colima" / "default").mkdir(parents=True)
    silent = PingServer(tmp / "r" / "docker.sock", status=None)  # closes without answering
    failing = PingServer(tmp / "h" / ".docker" / "desktop" / "docker.sock", status=b"500 No")
    good = PingServer(tmp / "h" / ".colima" / "default" / "docker.sock")
    try:
        address = find_engine()
    finally:
        for server in (silent, failing, good):
            server.close()
    assert address.socket_path == str(good.path)
    assert address.source == "found"
    assert any("answers GET /_ping" in line for line in address.why)


def test_nothing_found_lists_every_place_tried(
    nothing_at_the_default: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        _discovery,
        "usual_sockets",
        lambda env=None: [str(nothing_at_the_default / "r" / "docker.sock"), "/nonexistent/p.sock"],
    )
    with pytest.raises(EngineNotFoundError) as caught:
        find_engine()
    message = str(caught.value)
    assert isinstance(caught.value, SocketNotFoundError)
    assert caught.value.tried == (
        _discovery.DEFAULT_SOCKET,
        str(nothing_at_the_default / "r" / "docker.sock"),
        "/nonexistent/p.sock",
    )
    for path in caught.value.tried:
        assert path in message
    assert "DOCKER_HOST" in message


def test_no_search_when_something_is_configured(
    nothing_at_the_default: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_CONTEXT", "default")
    assert find_engine().source == "default"  # configured: the CLI's answer, even if absent
    assert os.path.basename(find_engine().url) == "no-docker.sock"
