"""6. wait_healthy reaction: from the engine's ``health_status: healthy`` event to
``DockerRuntime.wait_healthy`` returning.

Per run: a fresh busybox container with a fast health check (``true`` every 500 ms) is
started and ``wait_healthy`` is called at once. A separate observer thread (a blocking
socket on ``GET /events``) records each health event's ``timeNano`` and when it arrived.
The reaction is ``return time - timeNano`` (same machine, same clock); the observer's
own delay (``arrival - timeNano``) is the floor any event-driven wait pays. Runs in
which ``wait_healthy`` was called after the event are not counted.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from lightshuttle_runtime import DockerClient
from lightshuttle_runtime.runtime import ContainerId, DockerRuntime

from ._common import Settings, median
from ._engine import API, LABEL, Engine, UnixHTTPConnection
from ._report import Section, Target, fmt

GOAL_MS = 50.0
ROLE = f"{LABEL}.role=health"


class EventObserver(threading.Thread):
    """Reads the engine's container events on its own connection; keeps health events."""

    def __init__(self, socket_path: str) -> None:
        super().__init__(daemon=True)
        self.socket_path = socket_path
        self.events: list[tuple[int, dict[str, Any]]] = []  # (arrival ns, event)
        self.ready = threading.Event()
        self.lock = threading.Lock()
        self.conn: UnixHTTPConnection | None = None

    def run(self) -> None:
        filters = json.dumps({"type": ["container"], "label": [ROLE]})
        conn = self.conn = UnixHTTPConnection(self.socket_path, timeout=None)  # type: ignore[arg-type]
        conn.request("GET", f"{API}/events?{urlencode({'filters': filters})}")
        response = conn.getresponse()
        self.ready.set()
        pending = b""
        try:
            while chunk := response.read1(65536):
                arrival = time.time_ns()
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.strip():
                        event = json.loads(line)
                        if str(event.get("Action", "")).startswith("health_status"):
                            with self.lock:
                                self.events.append((arrival, event))
        except Exception:  # closed by stop() (or the engine went away): nothing to keep
            return

    def healthy_event(self, container_id: str, timeout: float) -> tuple[int, dict[str, Any]] | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for arrival, event in self.events:
                    if event.get("Actor", {}).get("ID") == container_id and _healthy(event):
                        return arrival, event
            time.sleep(0.01)
        return None

    def stop(self) -> None:
        if self.conn is not None and self.conn.sock is not None:
            with contextlib.suppress(OSError):
                self.conn.sock.shutdown(socket.SHUT_RDWR)


def _healthy(event: dict[str, Any]) -> bool:
    action = str(event.get("Action", ""))
    attrs = event.get("Actor", {}).get("Attributes", {}) or {}
    return action.endswith(": healthy") or attrs.get("health_status") == "healthy"


async def run(settings: Settings) -> Section:
    section = Section("health", "6. wait_healthy reaction")
    started = time.perf_counter()
    engine = Engine(settings.socket_path)
    observer = EventObserver(settings.socket_path)
    observer.start()
    observer.ready.wait(10)
    name = f"{settings.prefix}-health"
    config = {
        "Cmd": ["sleep", "300"],
        "Labels": {f"{LABEL}.role": "health"},
        "Healthcheck": {
            "Test": ["CMD", "true"],
            "Interval": 500_000_000,
            "Timeout": 2_000_000_000,
            "Retries": 1,
        },
    }
    reactions: list[float] = []
    deliveries: list[float] = []
    skipped = 0
    client = DockerClient(f"unix://{settings.socket_path}")
    runtime = DockerRuntime(client)
    try:
        for _ in range(settings.health_runs):
            engine.remove(name)
            cid = engine.create(name, config)
            engine.start(name)
            called = time.time_ns()
            await runtime.wait_healthy(ContainerId(cid), timedelta(seconds=30))
            returned = time.time_ns()
            found = observer.healthy_event(cid, timeout=10)
            engine.remove(name)
            if found is None:
                skipped += 1
                continue
            arrival, event = found
            event_ns = int(event.get("timeNano") or event["time"] * 1_000_000_000)
            if called > event_ns:
                skipped += 1
                continue
            reactions.append((returned - event_ns) / 1e6)
            deliveries.append((arrival - event_ns) / 1e6)
    finally:
        await client.aclose()
        observer.stop()
    section.columns = ["what", "median ms", "min ms", "max ms", "runs"]
    for label, values in (
        ("wait_healthy return - event timeNano", reactions),
        ("observer arrival - event timeNano (floor)", deliveries),
    ):
        section.rows.append(
            [
                label,
                fmt(median(values), 1),
                fmt(min(values) if values else None, 1),
                fmt(max(values) if values else None, 1),
                str(len(values)),
            ]
        )
    section.data = {"reaction_ms": reactions, "delivery_ms": deliveries, "skipped": skipped}
    value = median(reactions)
    section.targets.append(
        Target(
            "wait_healthy reaction (median)",
            f"<= {GOAL_MS:.0f} ms",
            f"{value:.1f} ms",
            value <= GOAL_MS if value == value else None,
        )
    )
    if skipped:
        section.notes.append(
            f"{skipped} run(s) not counted (no event seen, or the wait began after it)."
        )
    section.seconds = time.perf_counter() - started
    return section
