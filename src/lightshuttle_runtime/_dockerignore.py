""".dockerignore: which files of a build context are left out of the tar sent to ``POST /build``.

The rules are those of the Docker CLI (documented under "Dockerignore files"):

- one pattern a line; a line whose first column is ``#`` is a comment; blank lines are skipped;
  surrounding whitespace is trimmed; a UTF-8 BOM on the first line is dropped;
- each pattern is cleaned like Go's ``filepath.Clean`` (``./a//b/`` → ``a/b``, ``a/../b`` → ``b``)
  and a leading ``/`` is dropped: the context root is both the working and the root directory;
- patterns are matched against the whole slash-separated path relative to the context root
  with Go's ``filepath.Match`` rules: ``*`` is any run of characters but ``/``, ``?`` one
  character but ``/``, ``[a-z]`` / ``[^a-z]`` a class, ``\\`` escapes the next character;
  plus ``**``, any number of directories (including none): ``**/*.go`` is every ``.go`` file;
- a pattern that matches a directory excludes everything below it;
- ``!`` makes a pattern an exception (re-include); the last pattern that matches a path wins.

An exception can re-include a path below an excluded directory (``*`` then ``!src/keep``):
like BuildKit, the walk then enters the excluded directory without sending the directory's
own entry. (The classic CLI only entered it when an exception's text started with the
directory's path, so ``!*/keep`` behind ``*`` sent nothing there; we send ``a/keep``.)
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from ._errors import InvalidArgumentError

__all__ = [
    "DOCKERIGNORE",
    "DockerignoreMatcher",
    "clean_path",
    "load_dockerignore",
    "parse_dockerignore",
]

#: The name of the ignore file, looked up at the root of the context.
DOCKERIGNORE: Final = ".dockerignore"
_BOM: Final = "\ufeff"


def clean_path(path: str) -> str:
    """Go's ``path.Clean`` on a slash-separated path: the shortest equivalent path.

    Removes empty and ``.`` elements and resolves ``..`` against the element before it
    (``..`` at the start of a relative path stays; above ``/`` it is dropped). The empty
    path becomes ``"."``.
    """
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append(part)
            continue
        parts.append(part)
    text = "/".join(parts)
    if rooted:
        return "/" + text
    return text or "."


def parse_dockerignore(text: str) -> list[str]:
    """The patterns of a ``.dockerignore`` file's text, cleaned as the Docker CLI cleans them.

    Exceptions keep their ``!`` prefix: ``"# c\\n./a/\\n !/b\\n"`` gives ``["a", "!b"]``.
    The patterns are checked when a :class:`DockerignoreMatcher` is made from them.
    """
    patterns: list[str] = []
    for number, raw in enumerate(text.splitlines()):
        line = raw.removeprefix(_BOM) if number == 0 else raw
        if line.startswith("#"):
            continue
        line = line.strip()
        if not line:
            continue
        exception = line.startswith("!")
        if exception:
            line = line[1:].strip()
        if line:
            line = clean_path(line)
            if len(line) > 1 and line.startswith("/"):
                line = line[1:]
        patterns.append("!" + line if exception else line)
    return patterns


def load_dockerignore(context_dir: str | os.PathLike[str]) -> list[str]:
    """The patterns of ``<context_dir>/.dockerignore``; ``[]`` when there is no such file.

    Raises:
        InvalidArgumentError: the file exists but cannot be read or is not UTF-8.
    """
    path = os.path.join(context_dir, DOCKERIGNORE)
    try:
        with open(path, encoding="utf-8") as file:
            return parse_dockerignore(file.read())
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidArgumentError(f"cannot read {path}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class _Pattern:
    text: str  # cleaned, without the "!"
    exception: bool
    regex: re.Pattern[str]
    parts: tuple[str, ...]


class DockerignoreMatcher:
    """Decides which context paths a list of ``.dockerignore`` patterns excludes.

    Args:
        patterns: as :func:`parse_dockerignore` returns them (``"!"`` marks an exception).
            Whitespace around each pattern is trimmed and it is cleaned again; empty
            patterns are skipped.

    Raises:
        InvalidArgumentError: a malformed pattern (an unclosed ``[``, an empty class, a
            trailing ``\\``, a bare ``!``), naming it.
    """

    __slots__ = ("_patterns",)

    def __init__(self, patterns: Iterable[str]) -> None:
        self._patterns: tuple[_Pattern, ...] = tuple(
            _compile(text) for text in (p.strip() for p in patterns) if text
        )

    @property
    def patterns(self) -> list[str]:
        """The cleaned patterns, exceptions with their ``!``."""
        return [("!" if p.exception else "") + p.text for p in self._patterns]

    @property
    def has_exceptions(self) -> bool:
        """Whether any pattern starts with ``!``."""
        return any(p.exception for p in self._patterns)

    def matches(self, path: str) -> bool:
        """Whether ``path`` (slash-separated, relative to the context root) is excluded.

        A pattern matches a path when it matches the path itself or one of its parent
        directories; the last matching pattern decides.
        """
        path = clean_path(path)
        parents = _parents(path)
        excluded = False
        for pattern in self._patterns:
            if pattern.exception != excluded:
                continue  # it could not change the verdict
            if pattern.regex.fullmatch(path) or any(pattern.regex.fullmatch(p) for p in parents):
                excluded = not pattern.exception
        return excluded

    def may_include_below(self, directory: str) -> bool:
        """Whether an exception could re-include something below the excluded ``directory``.

        Conservative: ``True`` whenever it cannot rule it out (``**``, a class or an escape
        in the exception), so an excluded directory is walked only when an exception may apply.
        """
        dir_parts = clean_path(directory).split("/")
        return any(
            _could_reach(pattern, dir_parts) for pattern in self._patterns if pattern.exception
        )


def _parents(path: str) -> list[str]:
    """``a/b/c`` → ``["a", "a/b"]``."""
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _could_reach(pattern: _Pattern, dir_parts: Sequence[str]) -> bool:
    if any(special in pattern.text for special in ("**", "[", "\\")):
        return True
    for pat_part, dir_part in zip(pattern.parts, dir_parts, strict=False):
        if not re.fullmatch(_translate(pat_part, pattern.text), dir_part):
            return False
    return True


def _compile(text: str) -> _Pattern:
    exception = text.startswith("!")
    if exception:
        text = text[1:].strip()
        if not text:
            raise InvalidArgumentError('illegal .dockerignore exclusion pattern: "!"')
    text = clean_path(text)
    regex = re.compile(_translate(text, text))
    return _Pattern(text, exception, regex, tuple(text.split("/")))


def _translate(pattern: str, whole: str) -> str:
    """The regular expression (for ``fullmatch``) of one cleaned pattern."""
    out: list[str] = []
    i, size = 0, len(pattern)
    while i < size:
        char = pattern[i]
        i += 1
        if char == "*":
            if i < size and pattern[i] == "*":
                i += 1
                if i < size and pattern[i] == "/":
                    i += 1  # "**/" is "**"
                out.append(".*" if i == size else "(?:.*/)?")
            else:
                out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            text, i = _translate_class(pattern, i, whole)
            out.append(text)
        elif char == "\\":
            if i == size:
                raise _bad(whole, "it ends with an unescaped '\\'")
            out.append(re.escape(pattern[i]))
            i += 1
        else:
            out.append(re.escape(char))
    return "".join(out)


def _translate_class(pattern: str, i: int, whole: str) -> tuple[str, int]:
    """Translate the class whose ``[`` is just before ``pattern[i]``; return it and the index
    after its ``]``. Grammar (Go's filepath.Match): ``[`` [``^``] {char | lo``-``hi} ``]``."""
    negated = i < len(pattern) and pattern[i] == "^"
    if negated:
        i += 1
    ranges: list[str] = []
    while True:
        if i < len(pattern) and pattern[i] == "]" and ranges:
            return ("[^" if negated else "[") + "".join(ranges) + "]", i + 1
        low, i = _class_char(pattern, i, whole)
        if i < len(pattern) and pattern[i] == "-":
            high, i = _class_char(pattern, i + 1, whole)
            if high < low:
                raise _bad(whole, f"the class range {low}-{high} is reversed")
            ranges.append(f"{re.escape(low)}-{re.escape(high)}")
        else:
            ranges.append(re.escape(low))


def _class_char(pattern: str, i: int, whole: str) -> tuple[str, int]:
    if i >= len(pattern):
        raise _bad(whole, "a '[' class is not closed")
    char = pattern[i]
    if char in "-]":
        raise _bad(whole, f"a '[' class has a misplaced {char!r}")
    if char == "\\":
        i += 1
        if i >= len(pattern):
            raise _bad(whole, "a '[' class is not closed")
        char = pattern[i]
    return char, i + 1


def _bad(pattern: str, why: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"malformed .dockerignore pattern {pattern!r}: {why}")
