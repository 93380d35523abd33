"""Models of the exec endpoints (``/containers/{id}/exec``, ``/exec/{id}/...``), API 1.41 on."""

from __future__ import annotations

import msgspec

from ._base import Model

__all__ = [
    "ExecConfig",
    "ExecCreateResponse",
    "ExecInspect",
    "ExecProcessConfig",
    "ExecStartConfig",
]


class ExecConfig(Model):
    """The ``POST /containers/{id}/exec`` body.

    ``env`` holds ``"KEY=value"`` strings; ``user`` is ``user``, ``user:group``, ``uid`` or
    ``uid:gid``; ``console_size`` is ``[height, width]`` in characters (API 1.42).
    """

    cmd: list[str]
    attach_stdin: bool | None = None
    attach_stdout: bool | None = None
    attach_stderr: bool | None = None
    detach_keys: str | None = None
    tty: bool | None = None
    console_size: list[int] | None = None
    env: list[str] | None = None
    privileged: bool | None = None
    user: str | None = None
    working_dir: str | None = None


class ExecCreateResponse(Model):
    """``201`` answer of ``POST /containers/{id}/exec``: the new exec instance's id."""

    id: str


class ExecStartConfig(Model):
    """The ``POST /exec/{id}/start`` body; ``console_size`` is ``[height, width]`` (API 1.42)."""

    detach: bool = False
    tty: bool = False
    console_size: list[int] | None = None


class ExecProcessConfig(Model, rename=None):
    """``ProcessConfig`` of an exec inspect answer (the API spells these in lower case):
    ``entrypoint`` the executable, ``arguments`` the rest (Podman: ``None`` for none)."""

    entrypoint: str = ""
    arguments: list[str] | None = None
    privileged: bool = False
    tty: bool = False
    user: str = ""


class ExecInspect(Model):
    """``GET /exec/{id}/json``.

    ``exit_code`` is ``None`` while the process runs (Docker) — Podman reports 0 until then;
    read it once ``running`` is false. ``pid`` is the process id on the host (Podman: 0 once
    it has exited).
    """

    id: str = msgspec.field(name="ID")
    container_id: str = msgspec.field(default="", name="ContainerID")
    running: bool = False
    exit_code: int | None = None
    pid: int = 0
    can_remove: bool = False
    detach_keys: str = ""
    open_stdin: bool = False
    open_stdout: bool = False
    open_stderr: bool = False
    process_config: ExecProcessConfig = msgspec.field(default_factory=ExecProcessConfig)
