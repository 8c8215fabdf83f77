"""The local blob cache: content-addressed files shared by every store on this machine."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path
from typing import IO

from .errors import IntegrityError
from .hashing import CHUNK_SIZE, Digest, new_hasher

__all__ = ["BlobCache", "copy_verified"]


def copy_verified(src: IO[bytes], dest: Path, digest: Digest, size: int, what: str) -> None:
    """Copy ``src`` to ``dest`` while hashing; ``dest`` appears only if digest and size match.

    ``what`` names the bytes in the :class:`IntegrityError` raised on a mismatch.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f"{dest.name}.tmp-{uuid.uuid4().hex}")
    h = new_hasher(digest.algorithm)
    n = 0
    try:
        with open(tmp, "wb") as out:
            while chunk := src.read(CHUNK_SIZE):
                h.update(chunk)
                out.write(chunk)
                n += len(chunk)
        got = Digest(digest.algorithm, h.hexdigest())
        if got != digest or n != size:
            raise IntegrityError(f"{what}: expected {digest} ({size} bytes), got {got} ({n} bytes)")
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


class BlobCache:
    """Blobs by digest under ``root``; written atomically so concurrent processes can share it."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._blobs = os.path.join(os.fspath(root), "blobs")

    def file(self, digest: Digest) -> str:
        """The cached blob's path as a string (cheaper than :meth:`path` for many blobs).

        One level of 256 folders: a second level would make a folder for nearly every blob of
        a download of thousands.
        """
        h = digest.hex
        return f"{self._blobs}/{digest.algorithm}/{h[:2]}/{h}"

    def path(self, digest: Digest) -> Path:
        return Path(self.file(digest))

    def has(self, digest: Digest) -> bool:
        return os.path.isfile(self.file(digest))

    def add(self, src: IO[bytes], digest: Digest, size: int, what: str) -> Path:
        """Store the bytes of ``src`` under ``digest``, verifying them; return the cached path."""
        dest = self.path(digest)
        copy_verified(src, dest, digest, size, what)
        return dest

    def adopt(self, tmp: str | os.PathLike[str], digest: Digest) -> Path:
        """Move an already verified file into the cache under ``digest``."""
        dest = self.path(digest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, dest)
        return dest

    def evict(self, digest: Digest) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(digest).unlink()

    def clear(self) -> None:
        shutil.rmtree(self.root / "blobs", ignore_errors=True)
