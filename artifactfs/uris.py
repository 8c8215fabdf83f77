"""External references: entries that point at objects outside the store (``add_reference``).

An entry records the object's URI, its size and what verifies it later: a strong validator
the object's backend gives (an ETag, a content hash, a generation), or, where there is none,
the digest of its bytes, read once when it is logged. A folder or prefix is one entry per
object below it, from one listing. Downloads check an entry before its bytes are used, and
``verify(references=True)`` checks them all (:func:`reference_problem`).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import IO, Any

import fsspec
from fsspec.implementations.local import LocalFileSystem
from fsspec.implementations.memory import MemoryFileSystem

from .errors import (
    ArtifactFSError,
    IntegrityError,
    InvalidInputError,
    LocalPathNotFoundError,
    MissingReferenceError,
    SourceChangedError,
    StoreError,
)
from .hashing import CHUNK_SIZE, Digest, hash_stream, matches, new_hasher
from .manifest import Entry
from .refs import check_entry_path
from .settings import storage_options_for

__all__ = [
    "DEFAULT_MAX_OBJECTS",
    "SourceFiles",
    "describe_reference",
    "describe_uri",
    "open_uri",
    "read_reference",
    "reference_problem",
]

DEFAULT_MAX_OBJECTS = 10_000  # objects a folder or prefix reference records at most, unless told (as W&B)

# Fields of an fsspec info dict that change whenever an object's bytes do (strong validators).
# A modification time is not one: a rewrite within the same second, or a copy that keeps it,
# leaves it unchanged.
_VALIDATORS = ("ETag", "etag", "md5Hash", "crc32c", "Content-MD5", "content_md5", "Digest", "generation")


def _uri_fs(
    uri: str, options: dict[str, Any] | None = None, what: str = "reference"
) -> tuple[fsspec.AbstractFileSystem, str]:
    """The filesystem of ``uri`` and its path there (``options`` over $ARTIFACTFS_STORAGE_OPTIONS)."""
    if uri.startswith(("gs://", "gcs://")):
        os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    try:
        return fsspec.core.url_to_fs(uri, **{**storage_options_for(uri), **(options or {})})  # type: ignore[no-any-return]
    except (ImportError, ValueError, TypeError, OSError) as e:
        raise StoreError(f"cannot open {what} {uri}: {e}") from e


def _validator(info: dict[str, Any]) -> str | None:
    """``"<field>=<value>"`` of the first strong validator in ``info`` (a weak ETag is not one)."""
    for k in _VALIDATORS:
        v = info.get(k)
        if v in (None, "") or (k in ("ETag", "etag") and str(v).startswith("W/")):
            continue
        return f"{k}={v}"
    return None


def _recorded_validator(info: dict[str, Any], recorded: str) -> str | None:
    """The same field as ``recorded`` (``"<field>=<value>"``, as any release wrote it), now."""
    field_name = recorded.partition("=")[0]
    v = info.get(field_name)
    return None if v in (None, "") else f"{field_name}={v}"


def describe_uri(uri: str, entry_path: str, *, checksum: bool = True) -> Entry:
    """An external reference entry for the single object ``uri``: its size and what verifies it
    later (see :func:`describe_reference`, which also takes folders and prefixes)."""
    fs, path = _uri_fs(uri)
    with _reading(uri):
        return _describe(fs, path, uri, entry_path, _fresh_info(fs, path), checksum)


def describe_reference(
    uri: str, name: str | None, *, checksum: bool = True, max_objects: int | None = None
) -> list[Entry]:
    """The reference entries ``add_reference(uri, name)`` records, in path order.

    One object is one entry, at ``name`` (default: the last segment of ``uri``). A folder or
    prefix (a URI ending in ``/``, or one naming a folder) is listed once, recursively, and
    each object below it becomes the entry ``name/<path below the prefix>`` (default: the
    path below the prefix, as W&B does); more than ``max_objects`` objects (default
    :data:`DEFAULT_MAX_OBJECTS`) are refused before any is described.

    Remote objects whose backend gives a strong validator (an ETag, a content hash, a
    generation) record it, and nothing is downloaded. Local and in-memory files, and objects
    with no strong validator (a web server that sends no ETag), are read once and their digest
    recorded, so changed bytes of the same length are caught on download. ``checksum=False``
    records the URI (and the size, if known) only: such an entry is fetched unverified.
    """
    limit = DEFAULT_MAX_OBJECTS if max_objects is None else max_objects
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidInputError(f"max_objects must be a positive integer, got {max_objects!r}")
    fs, path = _uri_fs(uri)
    # A web server's "folder" is a page of links, not a listing: an http(s) URL is one object.
    listable = not {"http", "https"} & set(fs.protocol if isinstance(fs.protocol, tuple) else [fs.protocol])
    with _reading(uri):
        info = None if uri.endswith("/") and listable else _fresh_info(fs, path)
        if info is not None and (info.get("type") != "directory" or not listable):
            entry_path = name if name is not None else uri.rstrip("/").rsplit("/", 1)[-1]
            return [_describe(fs, path, uri, check_entry_path(entry_path), info, checksum)]
        objects = _listed(fs, path, uri, limit)
        prefix = check_entry_path(name.strip("/")) + "/" if name and name.strip("/") else ""
        paths = [check_entry_path(prefix + rel) for rel, _, _ in objects]  # all named before any is read
        base = uri.rstrip("/")
        return [
            _describe(fs, p, f"{base}/{rel}", e, i, checksum) for e, (rel, p, i) in zip(paths, objects, strict=True)
        ]


def _listed(fs: fsspec.AbstractFileSystem, path: str, uri: str, limit: int) -> list[tuple[str, str, dict[str, Any]]]:
    """``(path below the prefix, path, info)`` of every object below ``path``: one listing."""
    root = path.rstrip("/")
    fs.invalidate_cache(root)
    found = fs.find(root, detail=True)
    objects = []
    for p, info in sorted(found.items()):
        # Folder markers (empty keys ending in "/", "directory" entries) hold no data.
        if p.endswith("/") or info.get("type") == "directory" or not p.startswith(root + "/"):
            continue
        objects.append((p[len(root) + 1 :], p, info))
    if not objects:
        raise InvalidInputError(f"reference {uri} holds no objects (an empty folder or prefix): nothing to record")
    if len(objects) > limit:
        raise InvalidInputError(
            f"reference {uri} holds {len(objects):,} objects, more than max_objects={limit:,}: "
            "nothing was recorded (pass a larger max_objects, or reference a narrower prefix)"
        )
    return objects


def _describe(
    fs: fsspec.AbstractFileSystem, path: str, uri: str, entry_path: str, info: dict[str, Any], checksum: bool
) -> Entry:
    """The entry of one object whose ``info`` was just read (by itself, or in a listing)."""
    local = isinstance(fs, LocalFileSystem | MemoryFileSystem)
    if info.get("type") == "directory":
        raise InvalidInputError(f"reference {uri} is a folder; reference a single object")
    if local and info.get("type") not in (None, "file"):
        raise InvalidInputError(f"reference {uri} is not a regular file (a device, FIFO or socket)")
    announced = info.get("size")
    size = int(announced) if isinstance(announced, int | float) and announced >= 0 else None
    extra: dict[str, Any] = {"uri": uri}
    if not checksum:
        extra["checksum"] = False
        return Entry(entry_path, None, size or 0, "reference", extra)
    validator = None if local else _validator(info)
    if validator is not None:
        extra["etag"] = validator
        return Entry(entry_path, None, size or 0, "reference", extra)
    with fs.open(path, "rb") as f:  # read once: at most one byte more than announced
        digest, n = hash_stream(f, limit=None if size is None else size + 1)
    if size is not None and n != size:
        raise SourceChangedError(f"reference {uri} changed while it was read ({n} bytes, not {size})")
    return Entry(entry_path, digest, n, "reference", extra)


@contextlib.contextmanager
def _reading(uri: str) -> Iterator[None]:
    """Errors of reading ``uri`` to record it, as artifactfs errors."""
    try:
        yield
    except ArtifactFSError:
        raise
    except FileNotFoundError as e:
        raise LocalPathNotFoundError(f"cannot add reference {uri}: it does not exist") from e
    except Exception as e:
        raise StoreError(f"cannot read reference {uri}: {type(e).__name__}: {e}") from e


def _fresh_info(fs: fsspec.AbstractFileSystem, path: str) -> dict[str, Any]:
    """``fs.info(path)`` asked of the backend now: s3fs, gcsfs and adlfs answer from listings
    they cached, which would hide a change made since (by another process, too)."""
    fs.invalidate_cache(path)
    return fs.info(path)  # type: ignore[no-any-return]


def _unchanged(entry: Entry, info: dict[str, Any], what: str) -> None:
    """Raise :class:`IntegrityError` if the object ``info`` describes is not the one recorded
    by its validator and size (entries with a digest are checked by their bytes instead)."""
    if entry.digest is not None or entry.extra.get("checksum") is False:
        return
    # (Releases before strong validators were required recorded None where the server gave
    # none: the size is all such an entry can be checked by.)
    recorded = entry.extra.get("etag")
    now = _recorded_validator(info, recorded) if isinstance(recorded, str) else None
    if now != recorded or int(info.get("size") or 0) != entry.size:
        raise IntegrityError(f"{what}: {entry.extra['uri']} changed since it was logged (was {recorded}, now {now})")


def open_uri(entry: Entry, what: str) -> IO[bytes]:
    """Open an external reference for reading, after checking its validator still matches
    (entries with a digest are checked byte by byte by the reader instead)."""
    uri = str(entry.extra["uri"])
    fs, path = _uri_fs(uri)
    try:
        if entry.digest is None and entry.extra.get("checksum") is not False:
            _unchanged(entry, _fresh_info(fs, path), what)
        return fs.open(path, "rb")  # type: ignore[no-any-return]
    except ArtifactFSError:
        raise
    except FileNotFoundError as e:
        raise MissingReferenceError(f"{what}: referenced object {uri} no longer exists") from e
    except Exception as e:
        raise StoreError(f"{what}: cannot read {uri}: {type(e).__name__}: {e}") from e


def reference_problem(entry: Entry, what: str) -> tuple[str, str] | None:
    """What is wrong with an external reference now, as ``(kind, message)``: ``missing`` (its
    object is gone), ``changed`` (another validator, size or digest than recorded) or
    ``unreachable`` (it could not be asked); None when it is as recorded. One request for a
    recorded validator; an entry recorded by digest is read whole and hashed."""
    uri = str(entry.extra["uri"])
    try:
        fs, path = _uri_fs(uri)
        info = _fresh_info(fs, path)
        if entry.extra.get("checksum") is False:
            return None  # logged with checksum=False: nothing to compare but its presence
        _unchanged(entry, info, what)
        if entry.digest is not None:
            with fs.open(path, "rb") as f:
                if not matches(f, entry.digest, entry.size):
                    return "changed", f"{what}: {uri} changed since it was logged (its bytes differ)"
    except IntegrityError as e:
        return "changed", str(e)
    except FileNotFoundError:
        return "missing", f"{what}: referenced object {uri} no longer exists"
    except Exception as e:
        return "unreachable", f"{what}: cannot read {uri}: {type(e).__name__}: {e}"
    return None


def read_reference(entry: Entry, what: str) -> IO[bytes]:
    """An external reference's bytes as a temporary file, checked as a download checks them
    before the first is returned: digest and size (only the size where a validator was checked
    on opening). One logged with ``checksum=False`` is read as it is, as it is downloaded."""
    src = open_uri(entry, what)
    if entry.extra.get("checksum") is False:
        return src
    out = tempfile.TemporaryFile()  # noqa: SIM115 (the caller closes it)
    try:
        h = new_hasher(entry.digest.algorithm) if entry.digest is not None else None
        n = 0
        with src:
            # At most size + 1 bytes: an object that grew is refused without reading all of it.
            while n <= entry.size and (chunk := src.read(min(CHUNK_SIZE, entry.size + 1 - n))):
                n += len(chunk)
                out.write(chunk)
                if h is not None:
                    h.update(chunk)
        got = Digest(entry.digest.algorithm, h.hexdigest()) if entry.digest is not None and h is not None else None
        if n != entry.size or got != entry.digest:
            raise IntegrityError(f"{what}: {entry.extra['uri']} no longer holds the {entry.size} bytes logged")
        out.seek(0)
        return out
    except BaseException:
        out.close()
        raise


class SourceFiles:
    """Files outside the store to log, at a local path or any fsspec URL: every file below a
    folder ending in ``suffix``, the files a glob matches, or one file."""

    def __init__(self, source: str, storage_options: dict[str, Any], suffix: str) -> None:
        try:
            self.fs, root = _uri_fs(source, storage_options, "files at")
            if self.fs.isdir(root):
                found = [p for p in self.fs.find(root) if p.endswith(suffix)]
            else:
                found = self.fs.glob(root) if any(c in root for c in "*?[") else [root]
        except (OSError, ValueError) as e:  # (a StoreError is an OSError: refused as input too)
            raise InvalidInputError(f"cannot list the files at {source!r}: {e}") from e
        self.files: list[str] = sorted(found)
        self.local = isinstance(self.fs, LocalFileSystem)

    def local_copy(self, path: str, dest: str) -> str:
        """``path`` as a file on this machine: itself if local, else fetched to ``dest``."""
        if self.local:
            return path
        try:
            self.fs.get_file(path, dest)
        except Exception as e:
            raise StoreError(f"cannot read {path}: {type(e).__name__}: {e}") from e
        return dest
