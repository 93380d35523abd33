"""The registry commands of ``lightshuttle-runtime``: ``pull``, ``push``, ``login``, ``logout``,
``images``, ``save``, ``load``; and how pull and push show their progress.

Two views of a progress stream (:class:`~lightshuttle_runtime.models.ProgressMessage`):

- :class:`PlainProgressView` (not a terminal, or ``--progress plain``): one line per layer
  event, ``69e97d303cfe: Pushing 1.4 MB / 2.0 MB`` only when a layer's status changes (not at
  each byte count), and the other lines as they come;
- :class:`TtyProgressView` (a terminal): one line per layer, rewritten in place with a bar
  (``69e97d303cfe: Downloading [=====>    ] 1.4 MB / 2.0 MB``), like ``docker pull``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterable, AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final, TextIO

import anyio

from ._errors import DockerError

# The credentials and the image API load when a command needs them (login, logout, load):
# building the parser, or `ps`, does not pay for them.
if TYPE_CHECKING:
    from ._cli import Console, Handler
    from ._client import DockerClient
    from ._stream import EngineStream
    from .models import ProgressMessage

__all__ = [
    "PlainProgressView",
    "ProgressView",
    "TtyProgressView",
    "add_registry_commands",
    "human_size",
]

_CLEAR_LINE: Final = "\r\x1b[K"
_BAR_WIDTH: Final = 30
_CHUNK: Final = 1 << 16


def human_size(size: float) -> str:
    """``1.4 MB``: decimal units, as ``docker`` prints sizes."""
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"  # pragma: no cover


def _bytes(message: ProgressMessage) -> str:
    detail = message.progress_detail
    if detail is None or not detail.current:
        return ""
    if detail.total:
        return f"{human_size(detail.current)} / {human_size(detail.total)}"
    return human_size(detail.current)


class ProgressView:
    """Writes what a pull's or push's messages tell to ``out`` (see the module)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.digest: str | None = None

    def show(self, message: ProgressMessage) -> None:
        self.digest = message.digest or self.digest
        self._show(message)

    def _show(self, message: ProgressMessage) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """The stream ended (or failed): finish any line in progress."""

    def write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()


class PlainProgressView(ProgressView):
    """One line per layer status change, and every other line (see the module)."""

    def __init__(self, out: TextIO, prefix: str = "") -> None:
        super().__init__(out)
        self.prefix = prefix
        self._last: dict[str, str] = {}

    def _show(self, message: ProgressMessage) -> None:
        status = message.status or (message.stream or "").strip()
        if not status:
            return
        if message.id:
            if self._last.get(message.id) == status:
                return
            self._last[message.id] = status
            sized = _bytes(message)
            self.write(f"{self.prefix}{message.id}: {status}{' ' + sized if sized else ''}\n")
        else:
            self.write(f"{self.prefix}{status}\n")


class TtyProgressView(ProgressView):
    """One line per layer, redrawn in place; a line that is not a layer's goes below them."""

    def __init__(self, out: TextIO) -> None:
        super().__init__(out)
        self._layers: dict[str, str] = {}
        self._drawn = 0

    def _show(self, message: ProgressMessage) -> None:
        status = message.status or (message.stream or "").strip()
        if not status:
            return
        if message.id:
            self._layers[message.id] = self._layer_line(message.id, status, message)
            self._redraw()
        else:
            # A line of its own (the first, the digest): the layer lines above stay as they are
            # and later ones start below it, as docker pull shows them.
            self.write(f"{_CLEAR_LINE}{status}\n")
            self._layers.clear()
            self._drawn = 0

    @staticmethod
    def _layer_line(layer: str, status: str, message: ProgressMessage) -> str:
        detail = message.progress_detail
        if detail is not None and detail.total and detail.current is not None:
            done = min(_BAR_WIDTH, _BAR_WIDTH * detail.current // max(detail.total, 1))
            bar = "=" * done + (">" if done < _BAR_WIDTH else "") + " " * (_BAR_WIDTH - done - 1)
            return f"{layer}: {status} [{bar[:_BAR_WIDTH]}] {_bytes(message)}"
        return f"{layer}: {status}"

    def _redraw(self) -> None:
        text = f"\x1b[{self._drawn}A" if self._drawn else ""
        text += "".join(f"{_CLEAR_LINE}{line}\n" for line in self._layers.values())
        self._drawn = len(self._layers)
        self.write(text)


def progress_view(args: argparse.Namespace, console: Console) -> ProgressView:
    tty = args.progress == "tty" or (args.progress == "auto" and console.err.isatty())
    return TtyProgressView(console.err) if tty else PlainProgressView(console.err)


async def _follow(stream: EngineStream[ProgressMessage], view: ProgressView) -> None:
    try:
        async with stream:
            async for message in stream:
                view.show(message)
    finally:
        view.close()


# -- commands ----------------------------------------------------------------------------------


async def cmd_pull(args: argparse.Namespace, docker: DockerClient, console: Console) -> int:
    """Pull IMAGE with progress on stderr; its name (and digest when told) on stdout."""
    view = progress_view(args, console)
    await _follow(docker.images.pull(args.image, platform=args.platform), view)
    pinned = view.digest and "@" not in args.image
    console.print(f"{args.image}@{view.digest}" if pinned else args.image)
    return 0


async def cmd_push(args: argparse.Namespace, docker: DockerClient, console: Console) -> int:
    """Push IMAGE with progress on stderr; the pushed digest on stdout."""
    view = progress_view(args, console)
    await _follow(docker.images.push(args.image), view)
    console.print(view.digest or args.image)
    return 0


def _read_password(args: argparse.Namespace, console: Console) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if args.password is not None:
        console.note(
            "warning: a password on the command line is visible to other users; "
            "prefer --password-stdin"
        )
        return str(args.password)
    if not sys.stdin.isatty():
        raise _usage("no password: give --password-stdin (or run on a terminal to be asked)")
    import getpass

    return getpass.getpass("Password: ")


def _usage(text: str) -> Exception:
    from ._cli import UsageError  # _cli imports this module

    return UsageError(text)


async def cmd_login(args: argparse.Namespace, docker: DockerClient, console: Console) -> int:
    """``POST /auth`` with the credentials, then keep them as the Docker CLI does."""
    from ._credentials import CredentialStore, RegistryAuth, normalize_registry

    registry = normalize_registry(args.registry or "")
    username = args.username
    if not username:
        if not sys.stdin.isatty() or args.password_stdin:
            raise _usage("no username: give -u USERNAME")
        username = input("Username: ")
    password = _read_password(args, console)
    answer = await docker.system.login(username=username, password=password, registry=registry)
    auth = RegistryAuth(username, password, registry, identity_token=answer.identity_token)
    if answer.identity_token:
        auth = RegistryAuth(username, "", registry, identity_token=answer.identity_token)
    where = await CredentialStore().store(registry, auth)
    console.note(f"credentials for {_shown(registry)} kept in {where}")
    console.print(answer.status or "Login Succeeded")
    return 0


async def cmd_logout(args: argparse.Namespace, docker: DockerClient, console: Console) -> int:
    """Forget a registry's credentials (``config.json`` and its credential helper)."""
    from ._credentials import CredentialStore, normalize_registry

    registry = normalize_registry(args.registry or "")
    removed = await CredentialStore().erase(registry)
    if not removed:
        console.note(f"not logged in to {_shown(registry)}")
    console.print(f"Removed login credentials for {_shown(registry)}")
    return 0


def _shown(registry: str) -> str:
    from ._credentials import DOCKER_HUB

    return "docker.io" if registry == DOCKER_HUB else registry


async def cmd_images(args: argparse.Namespace, docker: DockerClient, console: Console) -> int:
    """``GET /images/json`` as a table: repository, tag, id, created, size."""
    filters: dict[str, list[str]] = {}
    for key, value in args.filter:
        filters.setdefault(key, []).append(value)
    images = await docker.images.list(all_=args.all, filters=filters or None)
    rows = [("REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE")]
    now = datetime.now(UTC)
    for image in sorted(images, key=lambda i: -i.created_unix):
        short = image.id.removeprefix("sha256:")[:12]
        created = _ago(now - image.created)
        # Podman lists digest references among RepoTags too: those are not tags.
        tags = [name for name in image.repo_tags or [] if "@" not in name]
        for name in tags or ["<none>:<none>"]:
            repo, _, tag = name.rpartition(":")
            rows.append((repo, tag, short, created, human_size(image.size)))
    widths = [max(len(row[col]) for row in rows) for col in range(4)]
    for row in rows:
        cells = "   ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4]))
        console.print(f"{cells}   {row[4]}")
    return 0


async def cmd_tag(args: argparse.Namespace, docker: DockerClient, console: Console) -> int:
    """``POST /images/{name}/tag``: give SOURCE the name TARGET (tag ``latest`` if none)."""
    from ._reference import parse_reference

    target = parse_reference(args.target)
    if target.digest is not None:
        raise _usage(f"a tag cannot carry a digest: {args.target!r}")
    await docker.images.tag(args.source, repo=target.repository, tag=target.tag or "latest")
    return 0


async def cmd_rmi(args: argparse.Namespace, docker: DockerClient, console: Console) -> int:
    """``DELETE /images/{name}`` for each IMAGE; each removed name on stdout."""
    for name in args.images:
        await docker.images.remove(name, force=args.force)
        console.print(name)
    return 0


def _ago(age: object) -> str:
    seconds = int(getattr(age, "total_seconds", lambda: 0)())
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return "just now"


async def cmd_save(args: argparse.Namespace, docker: DockerClient, console: Console) -> int:
    """Write the images as one tar to ``-o FILE`` (or stdout when it is not a terminal)."""
    if args.output is None and console.out.isatty():
        raise _usage("refusing to write a tar to a terminal: give -o FILE or redirect stdout")
    async with docker.images.save(*args.images) as chunks:
        if args.output is None:
            out = console.out.buffer if hasattr(console.out, "buffer") else None
            if out is None:
                raise _usage("stdout takes no bytes here: give -o FILE")
            async for chunk in chunks:
                out.write(chunk)
            out.flush()
        else:
            path = anyio.Path(args.output)
            async with await path.open("wb") as file:
                async for chunk in chunks:
                    await file.write(chunk)
            console.note(f"saved {', '.join(args.images)} to {args.output}")
    return 0


async def cmd_load(args: argparse.Namespace, docker: DockerClient, console: Console) -> int:
    """Load the images of a tar from ``-i FILE`` (or stdin); print their names."""
    from .api._images import loaded_images

    if args.input is None and sys.stdin.isatty():
        raise _usage("no tar on stdin: give -i FILE or redirect stdin")
    source = _file_chunks(Path(args.input)) if args.input else _stdin_chunks()
    async with docker.images.load(source, quiet=True) as answer:
        messages = [message async for message in answer]
    names = loaded_images(messages)
    if not names:
        raise DockerError("the engine loaded the tar but named no image")
    for name in names:
        console.print(name)
    return 0


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    async with await anyio.Path(path).open("rb") as file:
        while chunk := await file.read(_CHUNK):
            yield chunk


async def _stdin_chunks() -> AsyncIterable[bytes]:
    stdin = sys.stdin.buffer
    while chunk := await anyio.to_thread.run_sync(stdin.read, _CHUNK):
        yield chunk


# -- parsing -----------------------------------------------------------------------------------


def add_registry_commands(
    command: Callable[[str, Handler, str], argparse.ArgumentParser],
    pair: Callable[[str], tuple[str, str]],
) -> None:
    """Add the commands through ``command(name, handler, help)`` (``_cli.build_parser``'s),
    with ``pair`` the ``K=V`` argument type."""
    progress_help = "auto (bars on a terminal, else one line per layer event)"
    choices = ["auto", "plain", "tty"]

    pull = command("pull", cmd_pull, "pull an image, with per-layer progress on stderr")
    pull.add_argument("--platform", help="os[/arch[/variant]]")
    pull.add_argument("--progress", choices=choices, default="auto", help=progress_help)
    pull.add_argument("image", metavar="IMAGE")

    push = command("push", cmd_push, "push an image to its registry; prints the digest")
    push.add_argument("--progress", choices=choices, default="auto", help=progress_help)
    push.add_argument("image", metavar="IMAGE")

    login = command(
        "login",
        cmd_login,
        "log in to a registry (POST /auth) and keep the credentials as docker login does",
    )
    login.add_argument("-u", "--username")
    login.add_argument("-p", "--password", help="visible to other users: prefer --password-stdin")
    login.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    login.add_argument("registry", nargs="?", metavar="REGISTRY", help="default docker.io")

    logout = command("logout", cmd_logout, "forget a registry's credentials")
    logout.add_argument("registry", nargs="?", metavar="REGISTRY", help="default docker.io")

    images = command("images", cmd_images, "list the engine's images")
    images.add_argument("-a", "--all", action="store_true", help="include intermediate images")
    images.add_argument("--filter", type=pair, action="append", default=[], metavar="K=V")

    tag = command("tag", cmd_tag, "give an image another name (TARGET, tag latest if none)")
    tag.add_argument("source", metavar="SOURCE")
    tag.add_argument("target", metavar="TARGET")

    rmi = command("rmi", cmd_rmi, "remove images (an image no longer tagged is deleted)")
    rmi.add_argument("-f", "--force", action="store_true", help="also if a container uses it")
    rmi.add_argument("images", nargs="+", metavar="IMAGE")

    save = command("save", cmd_save, "write images (tags and layers) as one tar")
    save.add_argument("-o", "--output", metavar="FILE", help="default stdout (not a terminal)")
    save.add_argument("images", nargs="+", metavar="IMAGE")

    load = command("load", cmd_load, "load the images of a tar (from save or docker save)")
    load.add_argument("-i", "--input", metavar="FILE", help="default stdin")
