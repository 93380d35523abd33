"""Image endpoints: list, inspect, history, pull, import (``POST /images/create``), tag,
remove, prune."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterable, Mapping, Sequence
from typing import Literal, overload

import httpx
import msgspec

from .._credentials import RegistryAuth, raise_for_registry_auth, registry_of
from .._errors import DockerError, InvalidArgumentError, StreamError
from .._reference import parse_reference
from .._session import EngineSession, JSONObject, QueryValue, answer_type
from .._stream import EngineStream, open_stream
from .._streams import JSONLinesDecoder
from .._streams._progress import raise_for_progress_error
from .._streams._raw import ChunkDecoder
from .._validate import Filters, check_identifier, normalize_filters
from ..models import (
    ImageHistoryItem,
    ImageInspect,
    ImagePruneResponse,
    ImageSummary,
    ProgressMessage,
)

__all__ = [
    "AuthArgument",
    "ImagesAPI",
    "encode_registry_auth",
    "loaded_images",
    "registry_auth_header",
]

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


class _RegistryCall:
    """The credentials of one pull or push, and the translation of its auth errors."""

    def __init__(
        self,
        session: EngineSession,
        repository: str,
        auth: AuthArgument | None,
        *,
        always: bool = False,
    ) -> None:
        self._session = session
        self._repository = repository
        self._auth = auth
        self._always = always
        self.registry = registry_of(repository)
        self.sent = False

    async def headers(self) -> Mapping[str, str]:
        found = await registry_auth_header(self._session, self._repository, self._auth)
        self.sent = bool(found)
        if not found and self._always:
            # The API documents the header as required on a push: an empty AuthConfig.
            return {"X-Registry-Auth": encode_registry_auth({})}
        return found

    def on_error(self, exc: DockerError) -> None:
        raise_for_registry_auth(exc, self.registry, sent=self.sent, passed=self._auth is not None)

    def check(self, message: ProgressMessage) -> None:
        try:
            raise_for_progress_error(message)
        except StreamError as exc:
            self.on_error(exc)
            raise


_LOADED = re.compile(r"^Loaded image(?: ID)?s?: (.+)$")


def loaded_images(messages: Sequence[ProgressMessage]) -> list[str]:
    """The names (or ids, for untagged images) that a :meth:`ImagesAPI.load` answer
    announces: Docker's one ``Loaded image: NAME`` line per image and Podman's one line for
    all (``Loaded image: a, b`` in 4.3; qualified, ``docker.io/library/...``)."""
    names: list[str] = []
    for message in messages:
        for line in (message.stream or "").splitlines():
            found = _LOADED.match(line.strip())
            if found:
                names += [part.strip() for part in found.group(1).split(",") if part.strip()]
    return names


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
        call = _RegistryCall(self._session, ref.repository, auth)
        return self._progress_stream("/images/create", params, call=call)

    def push(
        self,
        name: str,
        *,
        tag: str | None = None,
        auth: AuthArgument | None = None,
    ) -> EngineStream[ProgressMessage]:
        """``POST /images/{name}/push``: push an image to its registry, as a progress stream.

        Every API version. Iterate to the end: the push is complete only then. Docker sends
        per-layer ``Preparing``/``Pushing`` (``progress_detail`` current/total bytes)/
        ``Pushed``/``Layer already exists`` lines; Podman 4.3 sends none of those, only the
        first and last lines. The last lines carry the manifest digest on every engine:
        :attr:`ProgressMessage.digest` (``aux.Digest`` on Docker, ``"TAG: digest: ..."``
        on both).

        Args:
            name: ``[registry[:port]/]name[:tag]``; the local image of that name is pushed.
            tag: the tag to push (default: the one in ``name``, else ``latest``; Docker
                pushes every tag of the repository when neither is given, so one is always
                sent).
            auth: registry credentials (``X-Registry-Auth``); when not given, the client's
                :class:`CredentialStore` is asked for the registry's.

        Raises:
            InvalidArgumentError: a malformed name (before any request).
            CredentialsError: the credentials could not be looked up.
            RegistryAuthError: the registry refused the credentials, or wanted some (in-band
                on every engine).
            NotFoundError: no such local image (Docker: before the stream).
            StreamError: another failure reported inside the stream (registry unreachable;
                Podman reports a missing image so too).
        """
        ref = parse_reference(name)
        if ref.digest:
            raise InvalidArgumentError(f"cannot push by digest: {name!r}; push a tag")
        call = _RegistryCall(self._session, ref.repository, auth, always=True)
        params: dict[str, QueryValue] = {"tag": tag or ref.tag or "latest"}
        path = f"/images/{check_identifier(ref.repository, what='image name')}/push"
        return self._progress_stream(path, params, call=call)

    def save(self, *names: str) -> EngineStream[bytes]:
        """``GET /images/get?names=...``: images (with their tags and layers) as one tar stream.

        Every API version; what ``docker save`` writes and :meth:`load` reads back (also on
        another engine). Use as ``async with client.images.save("app:1") as tar:`` then
        ``async for chunk in tar``. Docker writes a ``manifest.json`` with ``RepoTags``;
        Podman 4.3 the same ``docker-archive`` layout.

        Args:
            names: image names or ids (at least one).

        Raises:
            InvalidArgumentError: no name, or a malformed one (before any request).
            NotFoundError: an image does not exist (when the stream opens).
            StreamInterruptedError: the engine went away mid-stream.
        """
        if not names:
            raise InvalidArgumentError("images.save needs at least one image name")
        checked = [check_identifier(n, what="image name") for n in names]
        return open_stream(
            self._session,
            "GET",
            "/images/get",
            lambda _response: ChunkDecoder(),
            params={"names": checked},
        )

    def load(
        self, source: bytes | AsyncIterable[bytes], *, quiet: bool = False
    ) -> EngineStream[ProgressMessage]:
        """``POST /images/load``: load the images of a tar (as :meth:`save` or ``docker save``
        writes it), as a stream of its answer.

        Every API version. Each loaded image is announced by a line whose ``stream`` is
        ``"Loaded image: NAME\\n"`` (``"Loaded image ID: sha256:..."`` for an untagged one);
        Docker adds progress lines unless ``quiet``; Podman answers one line for all of them
        (``"Loaded image: a, b"``... see :func:`loaded_images`).

        Args:
            source: the tar, as bytes or an async iterable of chunks (sent chunked).
            quiet: suppress progress lines (``quiet=1``).

        Raises:
            StreamError: the engine could not load the tar (in-band).
            EngineError: an error status before the stream (Docker: a tar it cannot read).
        """
        return self._progress_stream(
            "/images/load",
            {"quiet": quiet or None},
            body=source,
            content_type="application/x-tar",
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
        call: _RegistryCall | None = None,
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
            more_headers=call.headers if call is not None else None,
            on_error=call.on_error if call is not None else None,
            body=body,
            content_type=content_type,
            check=call.check if call is not None else raise_for_progress_error,
        )
