"""The backend of a store in a folder on this machine, with plain ``os`` calls.

Create-if-absent is atomic (a temp file, then ``link(2)``, which fails if the key exists);
every other write is a temp file renamed into place, so no reader ever sees a partial file.
Blobs are written into the store's ``tmp/`` folder and renamed into place (:meth:`adopt`), and
re-used blobs have their age refreshed so a concurrent gc's grace period keeps them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO

import fsspec
from fsspec.implementations.local import LocalFileSystem

from .backend_base import BaseBackend
from .hashing import CHUNK_SIZE, Digest
from .places import copy_into_place, temp_suffix
from .sources import copy_checked, open_source

__all__ = ["LocalBackend"]


class LocalBackend(BaseBackend):
    """A store root in a folder on this machine."""

    local_files = True

    def __init__(self, root: str, *, url: str, concurrency: int = 64) -> None:
        super().__init__(root, url=url, concurrency=concurrency)
        self.fs: fsspec.AbstractFileSystem = LocalFileSystem()  # for tools that read the store in place
        self._dirs: set[str] = set()  # folders known to exist

    # ------------------------------------------------------------------ helpers
    def _makedirs(self, path: str) -> None:
        if path not in self._dirs:
            os.makedirs(path, exist_ok=True)
            self._dirs.add(path)

    def _open_tmp(self, tmp: str, folder: str) -> IO[bytes]:
        try:
            return open(tmp, "wb")
        except FileNotFoundError:  # the folder was removed since we last made it
            self._dirs.discard(folder)
            self._makedirs(folder)
            return open(tmp, "wb")

    def _write(self, path: str, data: bytes, place: Callable[[str, str], None], sync: bool = False) -> None:
        """Write a temp file beside ``path``, then ``place(tmp, path)`` (os.replace or os.link)."""
        folder = os.path.dirname(path)
        self._makedirs(folder)
        tmp = f"{path}{temp_suffix()}"
        try:
            with self._open_tmp(tmp, folder) as f:
                f.write(data)
                if sync:
                    os.fsync(f.fileno())
            place(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        if place is not os.replace:  # a link leaves the temp file behind
            os.unlink(tmp)

    # ------------------------------------------------------------------ reads
    def read(self, key: str) -> bytes:
        with self.errors(key, "reading"):
            return Path(self.path(key)).read_bytes()

    def sizes(self, keys: list[str]) -> dict[str, int]:
        out = {}
        for k in keys:
            with self.errors(k, "checking"), contextlib.suppress(FileNotFoundError):
                out[k] = os.path.getsize(self.path(k))
        return out

    def exists(self, key: str) -> bool:
        with self.errors(key, "checking"):
            return os.path.exists(self.path(key))

    def listdir(self, prefix: str) -> list[str]:
        with self.errors(prefix, "listing"):
            try:
                names = os.listdir(self.path(prefix))
            except (FileNotFoundError, NotADirectoryError):
                return []
        return sorted(n for n in names if ".tmp-" not in n)

    def walk(self, prefix: str) -> dict[str, tuple[int, float]]:
        out: dict[str, tuple[int, float]] = {}
        with self.errors(prefix, "listing"):
            for dirpath, _, filenames in os.walk(self.path(prefix)):
                rel = os.path.relpath(dirpath, self.root).replace(os.sep, "/")
                rel = "" if rel == "." else rel + "/"
                for f in filenames:
                    try:
                        st = os.stat(os.path.join(dirpath, f))
                    except FileNotFoundError:
                        continue
                    out[self.key_of(f"{rel}{f}")] = (st.st_size, st.st_mtime)
        return out

    def open(self, key: str, *, exact_ranges: bool = False) -> IO[bytes]:
        with self.errors(key, "opening"):
            return open(self.path(key), "rb")

    # ------------------------------------------------------------------ writes
    def write(self, key: str, data: bytes) -> None:
        with self.errors(key, "writing"):
            self._write(self.path(key), data, os.replace)

    def create(self, key: str, data: bytes) -> bool:
        with self.errors(key, "creating"):
            try:
                # link(2) fails atomically if the path exists, and the file is never partly visible.
                self._write(self.path(key), data, os.link, sync=True)
                return True
            except FileExistsError:
                return False

    def put_file(self, local: str | os.PathLike[str], key: str) -> None:
        path = self.path(key)
        open_source(os.fspath(local)).close()  # a missing or unreadable file is named as the user's
        with self.errors(key, "uploading"):
            self._makedirs(os.path.dirname(path))
            copy_into_place(local, path)

    def upload_verified(self, local: str, key: str, digest: Digest, size: int) -> None:
        with self.errors(key, "uploading"):
            tmp = self._temp_path()
        try:
            with open_source(local) as src, self.errors(key, "uploading"), open(tmp, "wb") as out:
                copy_checked(src, local, out, digest, size, CHUNK_SIZE)
            self.adopt(tmp, key)
        finally:
            self.discard(tmp)

    def delete(self, key: str) -> None:
        with self.errors(key, "deleting"), contextlib.suppress(FileNotFoundError):
            os.unlink(self.path(key))

    # ------------------------------------------------------------------ files on this machine
    def refresh(self, key: str, size: int, *, touch: bool = True) -> bool:
        path = self.path(key)
        with self.errors(key, "touching"):
            try:
                if os.stat(path).st_size != size:
                    return False
                if touch:
                    os.utime(path)
                return True
            except FileNotFoundError:
                return False

    def modified(self, key: str) -> float | None:
        try:
            return os.stat(self.path(key)).st_mtime
        except FileNotFoundError:
            return None

    def temp_path(self) -> str:
        with self.errors("tmp", "making a temp file in"):
            return self._temp_path()

    def _temp_path(self) -> str:
        d = self.path("tmp")
        self._makedirs(d)
        return os.path.join(d, f"blob{temp_suffix()}")

    def adopt(self, tmp: str, key: str) -> None:
        path = self.path(key)
        with self.errors(key, "writing"):
            if self.refresh(key, os.path.getsize(tmp)):
                return
            self._makedirs(os.path.dirname(path))
            os.replace(tmp, path)

    def discard(self, tmp: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
