"""The ``afs://`` filesystem: a store's versions read through fsspec, every byte verified.

``fsspec.open("afs://project/name:v3/data/train.csv")``, ``pd.read_csv("afs://...")``,
``pyarrow.dataset.dataset("project/events:latest/events/", filesystem=ArtifactFileSystem())``
and DuckDB (``duckdb.register_filesystem(ArtifactFileSystem())``) read versions as folders of
files. fsspec finds the class through the ``fsspec.specs`` entry point of the installed
package (and :func:`register` on ``import artifactfs``).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import IO, Any, NoReturn, TypeVar

import fsspec
from fsspec.spec import AbstractFileSystem

from .artifact import Artifact
from .codec import timestamp
from .errors import InvalidInputError, NotFoundError, PathNotFoundError, ReadOnlyError
from .manifest import Entry, path_after
from .refs import StorePath, parse_store_path
from .store import Store, open_store
from .uris import read_reference

__all__ = ["PROTOCOL", "ArtifactFileSystem", "VersionFile", "register"]

PROTOCOL = "afs"
T = TypeVar("T")
Pin = tuple[str, str, str]  # (project, name, tag as written)


class ArtifactFileSystem(AbstractFileSystem):  # type: ignore[misc]  # (fsspec has no types)
    """A read-only fsspec filesystem over the versions of one store.

    Paths are ``project/name:ref/path/in/version``: ``""`` lists the projects, ``project`` its
    artifacts, ``project/name`` its versions (``name:v0``, ``name:v1``, ...), and
    ``project/name:ref`` the folders and files of a version. ``ref`` is ``v3``, ``latest`` or
    an alias; the registry's ``registry/collection:production`` is an ordinary reference.

    The store is ``store=`` (a URL, a path or an open :class:`~artifactfs.Store`; further
    options go to :func:`~artifactfs.open_store`), else ``$ARTIFACTFS_STORE``, else the
    default store.

    **A reference is resolved once per instance, then pinned**: ``name:latest`` names the same
    version for the life of the instance, whatever is logged meanwhile, so a dataset read
    through one instance never mixes versions. Instances are not shared (``fsspec.open(url)``
    makes a new one, which resolves anew); a pickled instance keeps its pins; and
    :meth:`invalidate_cache` forgets them. Listings of projects, artifacts and versions are
    read afresh each time.

    Every byte is verified as ``download()`` verifies it: a table with block digests is read
    by verified blocks (a seek and a read fetch only the blocks they touch); any other file is
    hashed whole before its first byte is returned (on a remote store, from the blob cache,
    fetched into it once). Writing is refused with :class:`~artifactfs.errors.ReadOnlyError`.
    """

    protocol = PROTOCOL
    root_marker = ""
    cachable = False  # an instance is a pinned view: sharing one would pin references for every caller

    def __init__(self, store: Store | str | os.PathLike[str] | None = None, **options: Any) -> None:
        super().__init__()
        if isinstance(store, Store):
            if options:
                raise InvalidInputError(f"options {sorted(options)} go with a store URL, not with an open Store")
            self.store = store
        else:
            self.store = open_store(store, **options)
        self._pins: dict[Pin, Artifact] = {}
        self._pinned_numbers: dict[Pin, int] = {}  # pins an unpickled instance inherited
        self._lock = threading.Lock()
        self._uid = uuid.uuid4().hex

    # ------------------------------------------------------------------ identity
    # Two instances with the same options may pin a reference to different versions: each is
    # only ever equal to itself (fsspec would compare their options).
    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return hash(self._uid)

    def __dask_tokenize__(self) -> str:
        return self._uid

    def __reduce__(self) -> tuple[Any, ...]:
        with self._lock:
            pins = {key: art.version_number for key, art in self._pins.items()} | self._pinned_numbers
        backend = self.store.backend
        return _reopened, (backend.url, dict(backend.storage_options), backend.concurrency, pins)

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        return super()._strip_protocol(path).strip("/")

    # ------------------------------------------------------------------ resolving
    def _parse(self, path: str) -> StorePath:
        try:
            return parse_store_path(self._strip_protocol(path))
        except InvalidInputError as e:
            raise PathNotFoundError(str(e)) from e

    def _found(self, call: Callable[..., T], *args: Any) -> T:
        """``call(*args)``, with "no such project, artifact or version" as a FileNotFoundError."""
        try:
            return call(*args)
        except (NotFoundError, InvalidInputError) as e:
            if isinstance(e, FileNotFoundError):
                raise
            raise PathNotFoundError(str(e)) from e

    def _version(self, where: StorePath) -> Artifact:
        """The version ``where`` names, resolved the first time and pinned for this instance."""
        assert where.project is not None and where.name is not None and where.tag is not None
        key = (where.project, where.name, where.tag)
        with self._lock:
            art = self._pins.get(key)
            number = self._pinned_numbers.get(key)
        if art is not None:
            return art
        tag = where.tag if number is None else f"v{number}"
        art = self._found(self.store.artifact, f"{where.project}/{where.name}:{tag}")
        with self._lock:  # two threads may resolve at once: the first pin wins, for both
            return self._pins.setdefault(key, art)

    def pinned(self) -> dict[str, str]:
        """The references resolved so far and the versions they are pinned to
        (``{"p/data:latest": "p/data:v3"}``)."""
        with self._lock:
            out = {f"{p}/{n}:{t}": f"{p}/{n}:v{v}" for (p, n, t), v in self._pinned_numbers.items()}
            return out | {f"{p}/{n}:{t}": art.qualified_name for (p, n, t), art in self._pins.items()}

    def invalidate_cache(self, path: str | None = None) -> None:
        """Forget the pinned references (those of ``path``'s artifact, or all): the next read
        resolves them again."""
        where = self._parse(path) if path else StorePath()
        with self._lock:
            for pins in (self._pins, self._pinned_numbers):
                for key in [k for k in pins if where.name is None or k[:2] == (where.project, where.name)]:
                    del pins[key]
        super().invalidate_cache(path)

    # ------------------------------------------------------------------ listing
    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        where = self._parse(path)
        infos = self._list(where)
        return infos if detail else [i["name"] for i in infos]

    def _list(self, where: StorePath) -> list[dict[str, Any]]:
        if where.project is None:
            return [_folder(p) for p in self.store.projects()]
        if where.name is None:
            names = self.store.catalog.artifact_names(where.project)
            if not names and not self.store.catalog.has_project(where.project):
                raise PathNotFoundError(f"no project {where.project!r} in store {self.store.url}")
            return [_folder(f"{where.project}/{n}") for n in names]
        if where.tag is None:
            versions = self._found(self.store.versions, where.project, where.name)
            return [_version_info(a.qualified_name, a, aliases=a.aliases) for a in versions]
        art = self._version(where)
        if where.inner and (entry := art.manifest.entry(where.inner)) is not None:
            return [self._file(where, art, entry)]
        out = list(self._children(where, art))
        if not out and where.inner:
            raise PathNotFoundError(f"{art.qualified_name} has no file or folder {where.inner!r}")
        return out

    def _children(self, where: StorePath, art: Artifact) -> Iterator[dict[str, Any]]:
        """The files and folders right under ``where``: one entry looked up per child (a
        folder's contents are skipped over), reading only the shards that hold them."""
        man = art.manifest
        prefix = f"{where.inner}/" if where.inner else ""
        base = _root(where)
        start: str | None = prefix
        while start is not None and (found := man.page(start, prefix, 1)):
            entry = found[0]
            head, slash, _ = entry.path[len(prefix) :].partition("/")
            if slash:
                yield _folder(f"{base}/{prefix}{head}")
                start = path_after(f"{prefix}{head}/")
            else:
                yield self._file(where, art, entry)
                start = entry.path + "\0"

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        where = self._parse(path)
        if where.project is None:
            return _folder("")
        if where.name is None:
            if not self.store.catalog.has_project(where.project):
                raise PathNotFoundError(f"no project {where.project!r} in store {self.store.url}")
            return _folder(where.project)
        if where.tag is None:
            if where.name not in self.store.catalog.artifact_names(where.project):
                raise PathNotFoundError(f"no artifact {where.project}/{where.name} in store {self.store.url}")
            return _folder(str(where))
        art = self._version(where)
        if not where.inner:
            return _version_info(str(where), art)
        entry = art.manifest.entry(where.inner)
        if entry is not None:
            return self._file(where, art, entry)
        if art.manifest.page(f"{where.inner}/", f"{where.inner}/", 1):
            return _folder(str(where))
        raise PathNotFoundError(f"{art.qualified_name} has no file or folder {where.inner!r}")

    def find(
        self, path: str, maxdepth: int | None = None, withdirs: bool = False, detail: bool = False, **kwargs: Any
    ) -> Any:
        """As fsspec's, but the files below a folder of a version are read in one range of its
        manifest, not folder by folder. A path that names nothing has nothing below it."""
        try:
            where = self._parse(path)
            art = self._version(where) if where.tag is not None and maxdepth is None else None
        except PathNotFoundError:
            return {} if detail else []
        if art is None:
            return super().find(path, maxdepth=maxdepth, withdirs=withdirs, detail=detail, **kwargs)
        out: dict[str, dict[str, Any]] = {}
        if where.inner and (entry := art.manifest.entry(where.inner)) is not None:
            out[str(where)] = self._file(where, art, entry)
        else:
            base = _root(where)
            for entry in art.files(where.inner):
                out[f"{base}/{entry.path}"] = self._file(where, art, entry)
                if withdirs:
                    folder = entry.path.rpartition("/")[0]
                    while len(folder) > len(where.inner) and f"{base}/{folder}" not in out:
                        out[f"{base}/{folder}"] = _folder(f"{base}/{folder}")
                        folder = folder.rpartition("/")[0]
            if withdirs and out:
                out[str(where)] = _version_info(str(where), art) if not where.inner else _folder(str(where))
        names = sorted(out)
        return {n: out[n] for n in names} if detail else names

    def _file(self, where: StorePath, art: Artifact, entry: Entry) -> dict[str, Any]:
        return {
            "name": f"{_root(where)}/{entry.path}",
            "size": entry.size,
            "type": "file",
            "kind": entry.kind,
            "digest": str(entry.digest) if entry.digest is not None else None,
            "version": art.qualified_name,
            "mtime": timestamp(art.created_at),
        }

    def modified(self, path: str) -> dt.datetime:
        """When the version holding ``path`` was logged (a version's files never change after)."""
        where = self._parse(path)
        if where.tag is None:
            raise PathNotFoundError(f"{str(where)!r} is not in a version: only versions have a time")
        return dt.datetime.fromtimestamp(timestamp(self._version(where).created_at), dt.UTC)

    created = modified

    # ------------------------------------------------------------------ reading
    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> VersionFile:
        if mode != "rb":
            raise _refused(f" (opening {self.unstrip_protocol(path)} with mode {mode!r})")
        where = self._parse(path)
        if where.tag is None or not where.inner:
            raise PathNotFoundError(f"no file at afs://{where}: a path to a file is project/name:ref/path")
        art = self._version(where)
        entry = art.manifest.entry(where.inner)
        if entry is None:
            folder = art.manifest.page(f"{where.inner}/", f"{where.inner}/", 1)
            raise PathNotFoundError(
                f"{art.qualified_name}: {where.inner!r} is a folder, not a file"
                if folder
                else f"{art.qualified_name} has no file {where.inner!r}"
            )
        if entry.kind == "reference":
            handle = read_reference(entry, f"{art.qualified_name} reference {entry.path!r}")
        else:
            handle = self.store.blobs.entry(art.qualified_name, entry).open()
        return VersionFile(handle, self, str(where), entry.size)

    # ------------------------------------------------------------------ writing: refused
    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise _refused()

    mkdir = makedirs = rmdir = rm = rm_file = _rm = touch = _read_only
    pipe_file = put_file = put = cp_file = copy = mv = _read_only


def _refused(what: str = "") -> ReadOnlyError:
    return ReadOnlyError(
        f"afs:// is read-only{what}: a logged version never changes; log a new version (run.log_artifact) instead"
    )


class VersionFile(io.BufferedIOBase):
    """A file of a version opened through ``afs://``, reading its verified handle; dropped
    unclosed, it closes the handle (pyarrow and DuckDB leave closing to the garbage collector)."""

    def __init__(self, handle: IO[bytes], fs: ArtifactFileSystem, path: str, size: int) -> None:
        super().__init__()
        self._handle = handle
        self.fs, self.path, self.size = fs, path, size  # (what fsspec's files have)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        return self._handle.read(-1 if size is None else size)

    def read1(self, size: int = -1) -> bytes:
        read1 = getattr(self._handle, "read1", self._handle.read)
        return read1(size)

    def readinto(self, buffer: Any) -> int:
        data = self._handle.read(len(memoryview(buffer)))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        return self._handle.readline(-1 if size is None else size)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._handle.seek(offset, whence)

    def tell(self) -> int:
        return self._handle.tell()

    def close(self) -> None:
        if not self.closed:
            self._handle.close()
        super().close()

    def __repr__(self) -> str:
        return f"<VersionFile afs://{self.path}>"


def _root(where: StorePath) -> str:
    return f"{where.project}/{where.name}:{where.tag}"


def _folder(name: str) -> dict[str, Any]:
    return {"name": name, "size": 0, "type": "directory"}


def _version_info(name: str, art: Artifact, aliases: list[str] | None = None) -> dict[str, Any]:
    """A version as a folder, with what names it (its aliases only when they were read anyway)."""
    info = _folder(name) | {
        "version": art.qualified_name,
        "digest": art.digest,
        "mtime": timestamp(art.created_at),
        "artifact_type": art.type,
        "file_count": art.file_count,
        "total_size": art.size,
    }
    return info | ({"aliases": aliases} if aliases is not None else {})


def _reopened(url: str, options: dict[str, Any], concurrency: int, pins: dict[Pin, int]) -> ArtifactFileSystem:
    """An unpickled filesystem: the same store, each reference pinned to the same version."""
    fs = ArtifactFileSystem(url, concurrency=concurrency, **options)
    fs._pinned_numbers.update(pins)
    return fs


def register() -> None:
    """Make ``afs://`` known to fsspec in this process, unless something already claims it
    (the package's entry point does, once installed)."""
    from fsspec.registry import known_implementations, registry

    if PROTOCOL not in registry and PROTOCOL not in known_implementations:
        fsspec.register_implementation(PROTOCOL, ArtifactFileSystem)
