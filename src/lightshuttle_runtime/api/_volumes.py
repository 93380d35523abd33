"""Volume endpoints: create, inspect, list, remove."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, overload

from .._config import parse_version
from .._session import EngineSession, JSONObject, answer_type
from .._validate import (
    Filters,
    check_identifier,
    check_name,
    normalize_filters,
    only_the_request,
)
from ..models import Volume, VolumeCreateRequest, VolumeListResponse, VolumePruneResponse

__all__ = ["VolumesAPI"]


class VolumesAPI:
    """``/volumes/...`` endpoints. Reached as ``client.volumes``."""

    def __init__(self, session: EngineSession) -> None:
        self._session = session

    async def create(
        self,
        name: str | VolumeCreateRequest | None = None,
        *,
        driver: str = "local",
        driver_opts: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> Volume:
        """``POST /volumes/create``.

        Creating a name that exists returns the existing volume unchanged (its labels are
        not updated) on both Docker and Podman: compare :attr:`Volume.labels` if it matters.

        Like every ``create``, it takes the API's request model
        (``create(VolumeCreateRequest(name="data"))``), or keywords that build it.

        Args:
            name: ``[a-zA-Z0-9][a-zA-Z0-9_.-]+``; the engine picks a random one when omitted.
                Or the whole :class:`VolumeCreateRequest` (then no other keyword).
            driver: the volume driver.
            driver_opts: options for the driver (``type``, ``device``, ``o`` for ``local``).
            labels: metadata, e.g. ``{"lightshuttle.project": "web"}``.

        Raises:
            InvalidArgumentError: the name would be rejected (checked before sending), or
                keywords were given beside a request model.
            ServerError: the driver failed.
        """
        if isinstance(name, VolumeCreateRequest):
            only_the_request(
                name,
                {
                    "driver": (driver, "local"),
                    "driver_opts": (driver_opts, None),
                    "labels": (labels, None),
                },
            )
            if name.name is not None:
                check_name(name.name, what="volume name")
            return await self._session.request_json("POST", "/volumes/create", Volume, json=name)
        request = VolumeCreateRequest(
            name=None if name is None else check_name(name, what="volume name"),
            driver=driver,
            driver_opts=dict(driver_opts) if driver_opts else None,
            labels=dict(labels) if labels else None,
        )
        return await self._session.request_json("POST", "/volumes/create", Volume, json=request)

    @overload
    async def inspect(self, name: str, *, raw: Literal[False] = False) -> Volume: ...
    @overload
    async def inspect(self, name: str, *, raw: Literal[True]) -> JSONObject: ...
    async def inspect(self, name: str, *, raw: bool = False) -> Volume | JSONObject:
        """``GET /volumes/{name}``.

        Args:
            raw: return the engine's JSON as a ``dict`` instead of the model.

        Raises:
            NotFoundError: no such volume.
            DecodeError: the answer does not match :class:`Volume`.
        """
        return await self._session.request_json(
            "GET", f"/volumes/{_volume(name)}", answer_type(Volume, raw)
        )

    @overload
    async def list(
        self, *, filters: Filters | None = ..., raw: Literal[False] = False
    ) -> VolumeListResponse: ...
    @overload
    async def list(self, *, filters: Filters | None = ..., raw: Literal[True]) -> JSONObject: ...
    async def list(
        self, *, filters: Filters | None = None, raw: bool = False
    ) -> VolumeListResponse | JSONObject:
        """``GET /volumes``.

        Args:
            filters: e.g. ``{"label": ["lightshuttle.project=web"]}``, ``{"dangling": "true"}``,
                ``{"driver": "local"}``. ``name`` matches a *part* of the name.
            raw: return the engine's JSON as a ``dict`` (``Volumes``, ``Warnings``) instead of
                the model.

        Returns:
            ``volumes`` (empty when there are none: every engine sends a list) and the
            engine's ``warnings`` (``None`` on Docker when there are none).

        Raises:
            InvalidArgumentError: a filter value is not a string or list of strings.
        """
        return await self._session.request_json(
            "GET",
            "/volumes",
            answer_type(VolumeListResponse, raw),
            params={"filters": normalize_filters(filters)},
        )

    async def remove(self, name: str, *, force: bool = False, missing_ok: bool = False) -> None:
        """``DELETE /volumes/{name}``.

        Args:
            force: remove it even if the driver reports an error (not when it is in use).
            missing_ok: a volume that does not exist counts as removed.

        Raises:
            NotFoundError: no such volume (unless ``missing_ok``).
            ConflictError: a container uses it (409 on both engines).
        """
        await self._session.delete(
            f"/volumes/{_volume(name)}", params={"force": force or None}, missing_ok=missing_ok
        )

    async def prune(
        self, *, filters: Filters | None = None, all_: bool = False
    ) -> VolumePruneResponse:
        """``POST /volumes/prune``: remove every unused volume matching ``filters``.

        Since API 1.25. ``filters``: ``label`` (``"key"``/``"key=value"``), ``label!``.
        Since API 1.42 Docker prunes only *anonymous* volumes unless ``all_`` (sent as the
        filter ``all=true`` on API 1.42+ only: Docker 20.10 and Podman 4.3 refuse that filter,
        and prune named volumes too). Without filters this removes every unused volume of the
        engine.

        Raises:
            InvalidArgumentError: a filter value is not a string or list of strings.
        """
        merged: dict[str, list[str]] = dict(normalize_filters(filters) or {})
        if all_ and parse_version(await self._session.api_version()) >= (1, 42):
            merged["all"] = ["true"]  # older engines and Podman refuse the filter
        return await self._session.request_json(
            "POST", "/volumes/prune", VolumePruneResponse, params={"filters": merged or None}
        )


def _volume(value: str) -> str:
    return check_identifier(value, what="volume name")
