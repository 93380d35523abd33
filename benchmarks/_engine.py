"""Setting up the benchmark's engine resources with a plain blocking client (stdlib only).

Everything the suite creates is labelled ``lightshuttle.bench`` and named ``ls-bench-*`` so
that ``python -m benchmarks --cleanup`` can find and remove it. The set-up deliberately
does not use the client under test.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote, urlencode

LABEL = "lightshuttle.bench"
API = "/v1.41"
IMAGE = "busybox:local"


class UnixHTTPConnection(http.client.HTTPConnection):
    """``http.client`` over a Unix socket."""

    def __init__(self, path: str, timeout: float = 60.0) -> None:
        super().__init__("docker", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


class EngineError(RuntimeError):
    """The engine answered a set-up request with an error status."""


class Engine:
    """A minimal blocking engine client for set-up and clean-up (one connection per call)."""

    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        timeout: float = 120.0,
        ok: Iterable[int] = (200, 201, 204, 304),
    ) -> Any:
        """Send one request; return the decoded JSON answer (or None for an empty body)."""
        target = API + path
        if params:
            target += "?" + urlencode(params)
        conn = UnixHTTPConnection(self.socket_path, timeout=timeout)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            data = json.dumps(body).encode() if body is not None else None
            conn.request(method, target, body=data, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        if response.status not in tuple(ok):
            raise EngineError(f"{method} {target}: {response.status} {raw[:300]!r}")
        return json.loads(raw) if raw.strip() else None

    def body(self, path: str, params: Mapping[str, Any] | None = None) -> bytes:
        """GET ``path`` and return the raw (de-chunked) body."""
        target = API + path + ("?" + urlencode(params) if params else "")
        conn = UnixHTTPConnection(self.socket_path)
        try:
            conn.request("GET", target)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        if response.status != 200:
            raise EngineError(f"GET {target}: {response.status} {data[:300]!r}")
        return data

    def ping_headers(self) -> dict[str, str]:
        conn = UnixHTTPConnection(self.socket_path, timeout=5)
        try:
            conn.request("GET", "/_ping")
            response = conn.getresponse()
            response.read()
            return {k.lower(): v for k, v in response.getheaders()}
        finally:
            conn.close()

    def version(self) -> dict[str, Any]:
        return dict(self.request("GET", "/version"))

    # -- containers ----------------------------------------------------------------------

    def inspect(self, name: str) -> dict[str, Any] | None:
        try:
            return dict(self.request("GET", f"/containers/{quote(name)}/json"))
        except EngineError as exc:
            if " 404 " in str(exc):
                return None
            raise

    def create(self, name: str, config: Mapping[str, Any]) -> str:
        body = {"Image": IMAGE, **config}
        body["Labels"] = {LABEL: "1", **config.get("Labels", {})}
        created = self.request("POST", "/containers/create", params={"name": name}, body=body)
        return str(created["Id"])

    def start(self, name: str) -> None:
        self.request("POST", f"/containers/{quote(name)}/start")

    def kill(self, name: str) -> None:
        self.request("POST", f"/containers/{quote(name)}/kill", ok=(204, 304, 409, 500))

    def remove(self, name: str) -> None:
        self.request(
            "DELETE", f"/containers/{quote(name)}", params={"force": "1", "v": "1"}, ok=(204, 404)
        )

    def wait(self, name: str, timeout: float = 600.0) -> int:
        answer = self.request("POST", f"/containers/{quote(name)}/wait", timeout=timeout)
        return int(answer["StatusCode"])

    def ensure(self, name: str, config: Mapping[str, Any], *, fingerprint: str) -> tuple[str, bool]:
        """The container ``name`` made from ``config``, created unless one with the same
        ``fingerprint`` label exists. Returns ``(id, created_now)``."""
        found = self.inspect(name)
        if found is not None:
            labels = found["Config"].get("Labels") or {}
            if labels.get(f"{LABEL}.fingerprint") == fingerprint:
                return str(found["Id"]), False
            self.remove(name)
        labels = {**config.get("Labels", {}), f"{LABEL}.fingerprint": fingerprint}
        return self.create(name, {**config, "Labels": labels}), True

    def list_bench(self) -> list[dict[str, Any]]:
        filters = json.dumps({"label": [LABEL]})
        return list(
            self.request("GET", "/containers/json", params={"all": "1", "filters": filters})
        )

    def remove_many(self, names: Iterable[str], workers: int = 8) -> None:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(self.remove, names))

    def cleanup(self) -> int:
        """Remove every container the suite made; return how many."""
        names = [c["Id"] for c in self.list_bench()]
        self.remove_many(names)
        return len(names)

    def wait_running(self, name: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = self.inspect(name)
            if info and info["State"]["Running"]:
                return
            time.sleep(0.05)
        raise EngineError(f"container {name} did not start within {timeout} s")

    def ensure_running(self, name: str, config: Mapping[str, Any], *, fingerprint: str) -> str:
        """The container ``name`` (see :meth:`ensure`), started if it is not running."""
        cid, _ = self.ensure(name, config, fingerprint=fingerprint)
        info = self.inspect(name)
        if not (info and info["State"]["Running"]):
            self.start(name)
            self.wait_running(name)
        return cid
