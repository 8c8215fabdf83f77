"""Validation of names and parsing of artifact references (``project/name:alias``)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import InvalidNameError, InvalidReferenceError

__all__ = [
    "did_you_mean",
    "LATEST",
    "REGISTRY",
    "ArtifactRef",
    "StorePath",
    "check_alias",
    "check_entry_path",
    "check_name",
    "check_project",
    "parse_ref",
    "parse_store_path",
]

LATEST = "latest"
# The project that holds the registry's collections (``store.link``): reserved, so no ordinary
# version is ever logged into it and ``registry/collection:production`` cannot mean two things.
REGISTRY = "registry"
MAX_NAME = 128
MAX_PATH = 1024
MAX_SEGMENT = 255  # bytes of one file or folder name: the limit of ext4, XFS, APFS and NTFS

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_VERSION = re.compile(r"^v(0|[1-9][0-9]*)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE = re.compile(r"^[A-Za-z]:")  # C:foo is absolute on Windows


def check_name(name: object, what: str = "name") -> str:
    """Return ``name`` if it is a safe project, artifact or run name, else raise.

    Names start with a letter or digit and hold only letters, digits, ``.``, ``_`` and ``-``,
    so they are safe as one path segment on every backend.
    """
    if not isinstance(name, str) or not name:
        raise InvalidNameError(f"{what} must be a non-empty string, got {name!r}")
    if len(name) > MAX_NAME:
        raise InvalidNameError(f"{what} {name[:40]!r}... is longer than {MAX_NAME} characters")
    if not _NAME.fullmatch(name) or ".." in name:
        raise InvalidNameError(
            f"invalid {what} {name!r}: use letters, digits, '.', '_' and '-', "
            "starting with a letter or digit (no '/', ':', '..' or spaces)"
        )
    return name


def check_alias(alias: object) -> str:
    """Return ``alias`` if it can name a custom alias, else raise :class:`InvalidNameError`.

    ``latest`` is managed by the store, ``v<N>`` names a version, and an alias may not start
    with ``v`` followed by anything but a lowercase letter, so a mistyped version such as
    ``vX`` or ``v1a`` is never taken for an alias.
    """
    check_name(alias, "alias")
    assert isinstance(alias, str)
    if alias == LATEST:
        raise InvalidNameError("'latest' is managed by the store and cannot be set or removed")
    if alias.startswith("v") and len(alias) > 1 and not ("a" <= alias[1] <= "z"):
        raise InvalidNameError(
            f"invalid alias {alias!r}: aliases that start with 'v' must continue with a "
            "lowercase letter, so they cannot be confused with versions (v0, v1, ...)"
        )
    if alias == "v":
        raise InvalidNameError("invalid alias 'v'")
    return alias


def check_entry_path(path: object) -> str:
    """Return a normalised relative POSIX path for an artifact entry, or raise."""
    if not isinstance(path, str) or not path:
        raise InvalidNameError(f"entry path must be a non-empty string, got {path!r}")
    if len(path) > MAX_PATH:
        raise InvalidNameError(f"entry path {path[:40]!r}... is longer than {MAX_PATH} characters")
    if _CONTROL.search(path) or "\\" in path:
        raise InvalidNameError(f"invalid entry path {path!r}: control characters and '\\' are not allowed")
    if path.startswith("/") or _DRIVE.match(path):
        raise InvalidNameError(f"invalid entry path {path!r}: must be relative")
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise InvalidNameError(f"invalid entry path {path!r}: empty, '.' or '..' segments are not allowed")
    for p in parts:
        if len(p.encode("utf-8", "surrogatepass")) > MAX_SEGMENT:
            raise InvalidNameError(
                f"invalid entry path {path[:60]!r}...: the name {p[:40]!r}... is longer than {MAX_SEGMENT} bytes, "
                "which no common filesystem can hold (ext4, APFS, NTFS): it could never be downloaded"
            )
    return path


@dataclass(frozen=True, slots=True)
class ArtifactRef:
    """A parsed reference: ``project`` may be None (meaning the caller's project)."""

    project: str | None
    name: str
    tag: str  # "latest", "v<N>" or a custom alias

    @property
    def version(self) -> int | None:
        """The version number when the tag is ``v<N>``, else None."""
        m = _VERSION.fullmatch(self.tag)
        return int(m.group(1)) if m else None

    def __str__(self) -> str:
        prefix = f"{self.project}/" if self.project else ""
        return f"{prefix}{self.name}:{self.tag}"


def parse_ref(text: object, default_project: str | None = None) -> ArtifactRef:
    """Parse ``[project/]name[:tag]``; the tag defaults to ``latest``.

    Raises :class:`InvalidReferenceError` naming the reference when it does not parse.
    """
    if not isinstance(text, str) or not text:
        raise InvalidReferenceError(f"artifact reference must be a non-empty string, got {text!r}")
    body, sep, tag = text.partition(":")
    if sep and not tag:
        raise InvalidReferenceError(f"invalid reference {text!r}: empty version or alias after ':'")
    if ":" in tag:
        raise InvalidReferenceError(f"invalid reference {text!r}: more than one ':'")
    tag = tag or LATEST
    project, slash, name = body.rpartition("/")
    try:
        if slash:
            check_name(project, "project")
        check_name(name, "artifact name")
        if tag != LATEST and not _VERSION.fullmatch(tag):
            check_alias(tag)
    except InvalidNameError as e:
        raise InvalidReferenceError(f"invalid reference {text!r}: {e}") from None
    return ArtifactRef(project if slash else default_project, name, tag)


@dataclass(frozen=True, slots=True)
class StorePath:
    """A path of the ``afs://`` filesystem, ``project/name:tag/path/in/version``, or a prefix
    of one: ``""`` (the store), ``project``, ``project/name`` (its versions), ``project/name:tag``
    (a version's root, ``inner`` empty). ``tag`` is kept as written (``v3``, ``latest``, an alias)."""

    project: str | None = None
    name: str | None = None
    tag: str | None = None
    inner: str = ""

    def __str__(self) -> str:
        parts = [self.project, self.name if self.tag is None else f"{self.name}:{self.tag}", self.inner]
        return "/".join(p for p in parts if p)


def parse_store_path(path: str) -> StorePath:
    """Parse a path of the ``afs://`` filesystem (protocol and outer slashes already removed).

    Raises :class:`InvalidReferenceError` (or :class:`InvalidNameError`) naming the path when
    it names nothing a store could hold.
    """
    if not path:
        return StorePath()
    project, _, rest = path.partition("/")
    check_name(project, "project")
    if not rest:
        return StorePath(project)
    version, slash, inner = rest.partition("/")
    if ":" not in version:
        if slash:
            raise InvalidReferenceError(
                f"invalid path {path!r}: name a version of {project}/{version} before a path in it "
                f"({project}/{version}:latest/{inner}, or :v0, or :<alias>)"
            )
        return StorePath(project, check_name(version, "artifact name"))
    ref = parse_ref(f"{project}/{version}")
    if slash:
        check_entry_path(inner)
    return StorePath(project, ref.name, ref.tag, inner)


def did_you_mean(word: str, choices: Iterable[str], note: str = "") -> str:
    """`` ({note}did you mean 'x'?)`` naming the choices closest to a mistyped ``word``, or
    ``""``. Case is ignored (``V0`` is ``v0``), then near misses are looked for (``lastest``)."""
    pool = sorted(set(choices))
    same_case = [c for c in pool if c.lower() == word.lower() and c != word]
    close = same_case or difflib.get_close_matches(word, pool, n=3, cutoff=0.6)
    if not close:
        return ""
    return f" ({note}did you mean " + " or ".join(repr(c) for c in close) + "?)"


def check_project(project: object) -> str:
    """``check_name`` for a project versions are logged into: the registry's is refused."""
    name = check_name(project, "project")
    if name == REGISTRY:
        raise InvalidNameError(
            f"the project name {REGISTRY!r} is reserved for the registry: link a logged version into it "
            "with store.link(ref, collection) (artifactfs link REF COLLECTION)"
        )
    return name
