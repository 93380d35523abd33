"""The .dockerignore matcher, against the examples of Docker's documentation and Go's rules."""

from __future__ import annotations

import fnmatch
import posixpath
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lightshuttle_runtime import InvalidArgumentError
from lightshuttle_runtime._dockerignore import (
    DockerignoreMatcher,
    clean_path,
    load_dockerignore,
    parse_dockerignore,
)


def excluded(dockerignore: str, paths: list[str]) -> list[str]:
    matcher = DockerignoreMatcher(parse_dockerignore(dockerignore))
    return [path for path in paths if matcher.matches(path)]


# -- the documented examples ------------------------------------------------------------------


def test_documented_example_temp_patterns() -> None:
    text = "# comment\n*/temp*\n*/*/temp*\ntemp?\n"
    paths = [
        "somedir/temporary.txt",  # */temp*
        "somedir/temp",  # */temp*
        "somedir/temp/inner.txt",  # below an excluded directory
        "somedir/subdir/temporary.txt",  # */*/temp*
        "tempa",  # temp?
        "tempb",
        "temporary.txt",  # root level: none of the patterns
        "temp",  # ? needs one character
        "a/b/c/temp1",  # three levels: none
        "# comment",  # the comment is no pattern
    ]
    assert excluded(text, paths) == [
        "somedir/temporary.txt",
        "somedir/temp",
        "somedir/temp/inner.txt",
        "somedir/subdir/temporary.txt",
        "tempa",
        "tempb",
    ]


def test_double_star_matches_any_number_of_directories() -> None:
    paths = ["main.go", "a/util.go", "a/b/c/deep.go", "a/notgo.gox", "go"]
    assert excluded("**/*.go", paths) == ["main.go", "a/util.go", "a/b/c/deep.go"]


def test_exception_then_later_exclusion_wins() -> None:
    text = "*.md\n!README*.md\nREADME-secret.md\n"
    paths = ["notes.md", "README.md", "README-public.md", "README-secret.md", "sub/notes.md"]
    # Only root-level markdown is matched by *.md; README files except the secret one stay.
    assert excluded(text, paths) == ["notes.md", "README-secret.md"]


def test_exception_last_includes_everything_it_matches() -> None:
    text = "*.md\nREADME-secret.md\n!README*.md\n"
    paths = ["notes.md", "README.md", "README-secret.md"]
    assert excluded(text, paths) == ["notes.md"]


def test_leading_slash_and_dot_slash_are_the_root() -> None:
    paths = ["foo/bar", "foo/bar/x", "foo/baz", "x/foo/bar", "bar"]
    expected = ["foo/bar", "foo/bar/x"]
    for pattern in ("foo/bar", "/foo/bar", "./foo/bar", "foo//bar/", "foo/./bar", "x/../foo/bar"):
        assert excluded(pattern, paths) == expected, pattern


def test_star_then_exceptions_is_an_allow_list() -> None:
    text = "*\n!src\n!Dockerfile\n"
    paths = ["Dockerfile", "src", "src/main.py", "src/pkg/mod.py", "docs/index.md", "README"]
    assert excluded(text, paths) == ["docs/index.md", "README"]


def test_the_dot_pattern_excludes_nothing() -> None:
    assert excluded(".\n./\n", ["a", "b/c", ".hidden"]) == []


def test_directory_pattern_excludes_its_contents_but_not_namesakes() -> None:
    paths = ["node_modules", "node_modules/x/y.js", "lib/node_modules", "node_modules_old"]
    assert excluded("node_modules\n", paths) == ["node_modules", "node_modules/x/y.js"]


def test_trailing_double_star_matches_contents_not_the_directory() -> None:
    paths = ["build", "build/a", "build/a/b.o", "buildx"]
    assert excluded("build/**\n", paths) == ["build/a", "build/a/b.o"]


def test_lone_double_star_matches_everything() -> None:
    assert excluded("**\n", ["a", "a/b", ".x"]) == ["a", "a/b", ".x"]


def test_double_star_in_the_middle() -> None:
    paths = ["a/b", "a/x/b", "a/x/y/b", "ab", "a/bb", "c/a/b"]
    assert excluded("a/**/b\n", paths) == ["a/b", "a/x/b", "a/x/y/b"]


def test_star_and_question_mark_do_not_cross_slashes() -> None:
    assert excluded("a*c\n", ["abc", "ab/c", "a/c"]) == ["abc"]
    # "a*" does match the directory "a", and so what is below it.
    assert excluded("a*\n", ["abc", "a/b", "x/ab"]) == ["abc", "a/b"]
    assert excluded("a?c\n", ["abc", "a/c"]) == ["abc"]


def test_character_classes() -> None:
    paths = ["file1", "file5", "filea", "file-", "file!"]
    assert excluded("file[0-4]\n", paths) == ["file1"]
    assert excluded("file[^0-4]\n", paths) == ["file5", "filea", "file-", "file!"]
    # ! does not negate in Go's filepath.Match: it is a plain member of the class.
    assert excluded("file[!a]\n", paths) == ["filea", "file!"]
    assert excluded("file[\\-]\n", paths) == ["file-"]


def test_backslash_escapes_the_next_character() -> None:
    assert excluded("\\*.txt\n", ["*.txt", "a.txt"]) == ["*.txt"]
    assert excluded("a\\?\n", ["a?", "ab"]) == ["a?"]


def test_regex_metacharacters_are_literal() -> None:
    paths = ["a+b(1).{x}$^|", "aab(1).{x}$^|"]
    assert excluded("a+b(1).{x}$^|\n", paths) == ["a+b(1).{x}$^|"]


def test_an_exception_reaches_below_an_excluded_parent() -> None:
    text = "docs\n!docs/keep.md\n"
    assert excluded(text, ["docs", "docs/a.md", "docs/keep.md"]) == ["docs", "docs/a.md"]


# -- parsing ------------------------------------------------------------------------------------


def test_parse_trims_comments_blanks_and_bom() -> None:
    text = "\ufeff# first line comment after the BOM\n\n  spaced  \n #not-a-comment\n! keep\n/abs\n"
    assert parse_dockerignore(text) == ["spaced", "#not-a-comment", "!keep", "abs"]


def test_parse_handles_crlf_line_ends() -> None:
    assert parse_dockerignore("a\r\n!b\r\n") == ["a", "!b"]


def test_load_dockerignore_reads_the_context_root(tmp_path: Path) -> None:
    root = tmp_path
    assert load_dockerignore(root) == []
    (root / ".dockerignore").write_text("*.log\n!keep.log\n")
    assert load_dockerignore(root) == ["*.log", "!keep.log"]
    (root / ".dockerignore").write_bytes(b"\xff\xfe bad")
    with pytest.raises(InvalidArgumentError, match="cannot read"):
        load_dockerignore(root)


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("[", "not closed"),
        ("a[b", "not closed"),
        ("[]", "misplaced"),
        ("[]a]", "misplaced"),
        ("[-a]", "misplaced"),
        ("[a-]", "misplaced"),
        ("[z-a]", "reversed"),
        ("a\\", "unescaped"),
        ("!", "exclusion pattern"),
    ],
)
def test_malformed_patterns_are_refused(pattern: str, why: str) -> None:
    with pytest.raises(InvalidArgumentError, match=why):
        DockerignoreMatcher([pattern])


def test_matcher_reports_cleaned_patterns() -> None:
    matcher = DockerignoreMatcher(["./a/", " !b//c ", ""])
    assert matcher.patterns == ["a", "!b/c"]
    assert matcher.has_exceptions
    assert not DockerignoreMatcher(["a"]).has_exceptions


@pytest.mark.parametrize(
    ("path", "cleaned"),
    [
        ("", "."),
        (".", "."),
        ("a/", "a"),
        ("./a//b/.", "a/b"),
        ("a/../..", ".."),
        ("../a", "../a"),
        ("/..", "/"),
        ("//a", "/a"),
        ("/a/../b", "/b"),
    ],
)
def test_clean_path_follows_go(path: str, cleaned: str) -> None:
    assert clean_path(path) == cleaned


def test_may_include_below() -> None:
    matcher = DockerignoreMatcher(["*", "!src/app/keep", "!**/*.md"])
    assert matcher.may_include_below("src")
    assert matcher.may_include_below("src/app")
    assert matcher.may_include_below("other")  # because of **
    plain = DockerignoreMatcher(["*", "!src/keep"])
    assert plain.may_include_below("src")
    assert not plain.may_include_below("docs")
    assert not DockerignoreMatcher(["*"]).may_include_below("src")


# -- properties ----------------------------------------------------------------------------------

_NAME = st.text(alphabet="abcxyz.-_", min_size=1, max_size=4).filter(lambda s: s not in (".", ".."))
_PATH = st.lists(_NAME, min_size=1, max_size=4).map("/".join)
_GLOB_PART = st.text(alphabet="abcxyz.-_*?", min_size=1, max_size=4).filter(
    lambda s: s not in (".", "..") and "**" not in s
)
_GLOB = st.lists(_GLOB_PART, min_size=1, max_size=3).map("/".join)


def _oracle(pattern: str, path: str) -> bool:
    """A pattern without ** or classes, matched component by component with fnmatch."""

    def whole(candidate: str) -> bool:
        pat_parts, parts = pattern.split("/"), candidate.split("/")
        return len(pat_parts) == len(parts) and all(
            fnmatch.fnmatchcase(part, pat) for part, pat in zip(parts, pat_parts, strict=True)
        )

    parts = path.split("/")
    return any(whole("/".join(parts[:i])) for i in range(1, len(parts) + 1))


@given(_GLOB, _PATH)
def test_simple_globs_match_like_fnmatch_per_component(pattern: str, path: str) -> None:
    assert DockerignoreMatcher([pattern]).matches(path) == _oracle(pattern, path)


@given(_PATH, _PATH)
def test_literal_pattern_excludes_itself_and_what_is_below(pattern: str, path: str) -> None:
    expected = path == pattern or path.startswith(pattern + "/")
    assert DockerignoreMatcher([pattern]).matches(path) == expected


@given(_GLOB, _PATH)
def test_the_last_matching_line_wins(pattern: str, path: str) -> None:
    assert not DockerignoreMatcher([pattern, "!" + pattern]).matches(path)
    alone = DockerignoreMatcher([pattern]).matches(path)
    assert DockerignoreMatcher(["!" + pattern, pattern]).matches(path) == alone


# Without "#" (cleaning "/#" gives "#", a comment when read again), inner blanks ("/ /a"
# gives " /a", then "/a") or "!" inside ("/!/a" gives "!/a", an exception when read again):
# Docker's cleaning is not idempotent for those either.
_LINE = st.tuples(st.booleans(), st.text(alphabet="ab/.*", max_size=8)).filter(
    lambda line: not line[0] or line[1].strip()
)


@given(st.lists(_LINE.map(lambda line: ("!" if line[0] else "") + line[1]), max_size=6))
def test_parsing_is_idempotent(lines: list[str]) -> None:
    once = DockerignoreMatcher(parse_dockerignore("\n".join(lines))).patterns
    assert DockerignoreMatcher(parse_dockerignore("\n".join(once))).patterns == once


@given(st.text(alphabet="ab./", max_size=12).filter(lambda s: not s.startswith("//")))
def test_clean_path_agrees_with_normpath(path: str) -> None:
    assert clean_path(path) == posixpath.normpath(path)
    assert clean_path(clean_path(path)) == clean_path(path)
