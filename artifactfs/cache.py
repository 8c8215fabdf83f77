"""The local blob cache: content-addressed files shared by every store on this machine."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import IO

from . import layout
from .hashing import Digest
from .places import copy_verified, link

__all__ = ["BlobCache"]


class BlobCache:
    """Blobs by digest under ``root``; written atomically so concurrent processes can share it."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._root = os.fspath(root)
        self._folders: set[str] = set()  # folders known to exist

    def file(self, digest: Digest) -> str:
        """The cached blob's path as a string (cheaper than :meth:`path` for many blobs).

        One level of 256 folders: a second level would make a folder for nearly every blob of
        a download of thousands.
        """
        return f"{self._root}/{layout.place(layout.blob(digest), 1)}"

    def path(self, digest: Digest) -> Path:
        return Path(self.file(digest))

    def has(self, digest: Digest) -> bool:
        return os.path.isfile(self.file(digest))

    def add(self, src: IO[bytes], digest: Digest, size: int, what: str) -> Path:
        """Store the bytes of ``src`` under ``digest``, verifying them; return the cached path."""
        dest = self.path(digest)
        copy_verified(src, dest, digest, size, what)
        return dest

    def link_in(self, verified: str, digest: Digest) -> bool:
        """Make a verified local file the cached copy of ``digest`` too (a hard link: no byte
        written); False where links are impossible (another filesystem)."""
        cached = self.file(digest)
        folder = os.path.dirname(cached)
        if folder not in self._folders:
            try:
                os.makedirs(folder, exist_ok=True)
            except OSError:
                return False
            self._folders.add(folder)
        if link(verified, cached):
            return True
        self._folders.discard(folder)  # (removed meanwhile, or another filesystem: asked again next time)
        return False

    def evict(self, digest: Digest) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(digest).unlink()

    def clear(self) -> None:
        shutil.rmtree(self.root / "blobs", ignore_errors=True)
