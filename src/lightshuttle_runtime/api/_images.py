"""Image endpoints: list, inspect, history, pull, import (``POST /images/create``), tag,
remove, prune."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterable, Awaitable, Callable, Mapping, Sequence
from typing import Literal, overload

import httpx
import msgspec

from .._credentials import RegistryAuth, registry_of
from .._reference import parse_reference
from .._session import EngineSession, JSONObject, QueryValue, answer_type
from .._stream import EngineStream, open_stream
from .._streams import JSONLinesDecoder
from .._streams._progress import raise_for_progress_error
from .._validate import Filters, check_identifier, normalize_filters
from ..models import (
    ImageHistoryItem,
    ImageInspect,
    ImagePruneResponse,
    ImageSummary,
    ProgressMessage,
)

__all__ = ["AuthArgument", "ImagesAPI", "encode_registry_auth", "registry_auth_header"]

ImageList = list[ImageSummary]
ImageHistory = list[ImageHistoryItem]


#: Credentials a call may be given: a :class:`RegistryAuth`, or the API's ``AuthConfig`` as a
#: mapping (``username``/``password``/``serveraddress``, or ``identitytoken``).
AuthArgument = RegistryAuth | Mapping[str, str]


def encode_registry_auth(auth: AuthArgument) -> str:
    """The ``X-Registry-Auth`` header value: URL-safe base64 of the auth JSON.

    ``auth`` holds ``username``/``password``/``serveraddress``, or ``identitytoken``.
    """
    plain = auth.to_dict() if isinstance(auth, RegistryAuth) else dict(auth)
    return base64.urlsafe_b64encode(msgspec.json.encode(plain)).decode("ascii")


async def registry_auth_header(
    session: EngineSession, repository: str, auth: AuthArgument | None
) -> dict[str, str]:
    """``{"X-Registry-Auth": ...}`` for an image of ``repository``: ``auth`` when given, else
    what the session's credential store has for its registry; ``{}`` when neither has any.

    Raises:
        CredentialsError: the store could not be read (a broken config, a failing helper).
    """
    if auth is None:
        auth = await session.credentials.get(registry_of(repository))
        if auth is None:
            return {}
    return {"X-Registry-Auth": encode_registry_auth(auth)}


class ImagesAPI:
    """``/images/...`` endpoints. Reached as ``client.images``."""

    def __init__(self, session: EngineSession) -> None:
        self._session = session

    @overload
    async def inspect(self, name: str, *, raw: Literal[False] = False) -> ImageInspect: ...
    @overload
    async def inspect(self, name: str, *, raw: Literal[True]) -> JSONObject: ...
    async def inspect(self, name: str, *, raw: bool = False) -> ImageInspect | JSONObject:
        """``GET /images/{name}/json``.

        Args:
            raw: return the engine's JSON as a ``dict`` instead of the model.

        Raises:
            NotFoundError: no such image on the engine.
            DecodeError: the answer does not match :class:`ImageInspect`.
        """
        return await self._session.request_json(
            "GET",
            f"/images/{check_identifier(name, what='image name')}/json",
            answer_type(ImageInspect, raw),
        )

    def pull(
        self,
        reference: str,
        *,
        platform: str | None = None,
        auth: AuthArgument | None = None,
    ) -> EngineStream[ProgressMessage]:
        """``POST /images/create?fromImage=...``: pull an image, as a progress stream.

        A reference without tag or digest pulls ``latest`` (never every tag). Iterate the
        stream to the end: the pull is complete only then. No read timeout applies.

        Args:
            reference: ``[registry[:port]/]name[:tag][@digest]``.
            platform: ``os[/arch[/variant]]`` (API 1.32).
            auth: registry credentials, sent base64url-encoded in ``X-Registry-Auth``; when
                not given, the client's :class:`CredentialStore` is asked for the registry's
                (``DOCKER_AUTH_CONFIG``, ``config.json``, credential helpers).

        Raises:
            InvalidArgumentError: a malformed reference (before any request).
            CredentialsError: the credentials could not be looked up (when the stream opens).
            NotFoundError: the repository does not exist or may not be read (Docker).
            ServerError: the registry could not be reached (Docker answers 500 at once).
            StreamError: the pull failed after it started (Podman reports every failure so).
        """
        ref = parse_reference(reference)
        params: dict[str, QueryValue] = {
            "fromImage": ref.repository,
            "tag": ref.pull_tag,
            "platform": platform,
        }
        return self._progress_stream(
            "/images/create",
            params,
            more_headers=lambda: registry_auth_header(self._session, ref.repository, auth),
        )

    def import_image(
        self,
        source: bytes | AsyncIterable[bytes],
        *,
        repo: str,
        tag: str | None = None,
        changes: Sequence[str] = (),
        message: str | None = None,
    ) -> EngineStream[ProgressMessage]:
        """``POST /images/create?fromSrc=-``: make an image from a root filesystem tar.

        Args:
            source: the tar, as bytes or an async iterable of chunks (sent chunked).
            repo, tag: the new image's name (Podman ignores ``tag`` and uses ``latest``).
            changes: Dockerfile instructions to apply, e.g. ``['CMD ["/bin/sh"]']``.
            message: the commit message.

        Raises:
            StreamError: the engine could not import the tar (in-band error).
            EngineError: an error status before the stream.
        """
        params: dict[str, QueryValue] = {
            "fromSrc": "-",
            "repo": repo,
            "tag": tag,
            "message": message,
            "changes": list(changes) or None,
        }
        return self._progress_stream(
            "/images/create", params, body=source, content_type="application/x-tar"
        )

    async def tag(self, name: str, *, repo: str, tag: str | None = None) -> None:
        """``POST /images/{name}/tag``: give image ``name`` the name ``repo:tag``.

        Raises:
            NotFoundError: no such image.
            ConflictError: the target name is in use.
        """
        await self._session.send(
            "POST",
            f"/images/{check_identifier(name, what='image name')}/tag",
            params={"repo": repo, "tag": tag},
        )

    async def remove(
        self, name: str, *, force: bool = False, noprune: bool = False, missing_ok: bool = False
    ) -> None:
        """``DELETE /images/{name}``.

        Args:
            missing_ok: an image that does not exist counts as removed.

        Raises:
            NotFoundError: no such image (unless ``missing_ok``).
            ConflictError: a container uses it (without ``force``).
        """
        await self._session.delete(
            f"/images/{check_identifier(name, what='image name')}",
            params={"force": force or None, "noprune": noprune or None},
            missing_ok=missing_ok,
        )

    @overload
    async def list(
        self,
        *,
        all_: bool = ...,
        digests: bool = ...,
        filters: Filters | None = ...,
        raw: Literal[False] = False,
    ) -> ImageList: ...
    @overload
    async def list(
        self,
        *,
        all_: bool = ...,
        digests: bool = ...,
        filters: Filters | None = ...,
        raw: Literal[True],
    ) -> list[JSONObject]: ...
    async def list(
        self,
        *,
        all_: bool = False,
        digests: bool = False,
        filters: Filters | None = None,
        raw: bool = False,
    ) -> ImageList | list[JSONObject]:
        """``GET /images/json``: the images present on the engine.

        Args:
            all_: include intermediate images (the API's ``all``).
            digests: fill ``repo_digests`` (API 1.41 and Podman send them anyway).
            filters: ``reference`` (``"busybox:*"``), ``label`` (``"key"``/``"key=value"``),
                ``dangling`` (``"true"``), ``before``/``since`` (an image), ``until``
                (API 1.50).
            raw: return the engine's JSON as dicts instead of the model.

        Raises:
            InvalidArgumentError: a filter value is not a string or list of strings.
        """
        params: dict[str, QueryValue] = {
            "all": all_ or None,
            "digests": digests or None,
            "filters": normalize_filters(filters),
        }
        return await self._session.request_json(
            "GET", "/images/json", answer_type(ImageList, raw), params=params
        )

    async def history(self, name: str) -> ImageHistory:
        """``GET /images/{name}/history``: the image's layers, newest first; every API version.

        Raises:
            NotFoundError: no such image.
        """
        return await self._session.request_json(
            "GET",
            f"/images/{check_identifier(name, what='image name')}/history",
            ImageHistory,
        )

    async def prune(
        self, *, dangling: bool = True, filters: Filters | None = None
    ) -> ImagePruneResponse:
        """``POST /images/prune``: remove unused images matching ``filters``.

        Since API 1.25. ``dangling=True`` (the engine's default) removes only untagged images;
        ``False`` every image no container uses. ``filters``: ``until``, ``label``,
        ``label!``. Without filters this acts on **every** image of the engine.

        Raises:
            InvalidArgumentError: a filter value is not a string or list of strings.
            ServerError: Podman 4.3 refuses ``dangling=False`` (its compat API always adds
                ``dangling=true``: "specifying dangling filter more than once").
        """
        merged: dict[str, list[str]] = dict(normalize_filters(filters) or {})
        if not dangling:
            merged["dangling"] = ["false"]
        return await self._session.request_json(
            "POST", "/images/prune", ImagePruneResponse, params={"filters": merged or None}
        )

    def _progress_stream(
        self,
        path: str,
        params: Mapping[str, QueryValue],
        *,
        more_headers: Callable[[], Awaitable[Mapping[str, str]]] | None = None,
        body: bytes | AsyncIterable[bytes] | None = None,
        content_type: str | None = None,
    ) -> EngineStream[ProgressMessage]:
        def decoder_for(_response: httpx.Response) -> JSONLinesDecoder[ProgressMessage]:
            return JSONLinesDecoder(ProgressMessage)

        return open_stream(
            self._session,
            "POST",
            path,
            decoder_for,
            params=params,
            more_headers=more_headers,
            body=body,
            content_type=content_type,
            check=raise_for_progress_error,
        )
