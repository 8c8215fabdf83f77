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
from .statcache import StatKey, settled_ns, stat_key

__all__ = ["READ_ONLY", "BlobCache", "copy_into_place", "copy_stream_into_place", "copy_verified"]


READ_ONLY = 0o444


def copy_verified(
    src: IO[bytes],
    dest: str | os.PathLike[str],
    digest: Digest | None,
    size: int,
    what: str,
    *,
    settle: bool = False,
    make_parent: bool = True,
) -> StatKey | None:
    """Copy ``src`` to ``dest`` while hashing; ``dest`` appears only if digest and size match.

    The copy goes to a new temp file renamed over ``dest``, so a file already at ``dest`` (a
    hard link into the cache, perhaps) is replaced, never written through. At most ``size + 1``
    bytes are read: a source longer than declared is refused without filling the disk.
    ``digest`` None (an external reference recorded without one) checks the size only.
    ``what`` names the bytes in the :class:`IntegrityError` raised on a mismatch. ``settle``
    makes the new file read-only and dates it past the racy window (see statcache), through its
    open descriptor (no path lookups), ready to be linked into the cache; its stat key is then
    returned.
    """
    dest = os.fspath(dest)
    if make_parent and os.path.dirname(dest):
        os.makedirs(os.path.dirname(dest), exist_ok=True)
    tmp = f"{dest}.tmp-{uuid.uuid4().hex}"
    algorithm = digest.algorithm if digest is not None else "blake3"
    h = new_hasher(algorithm)
    n = 0
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, READ_ONLY if settle else 0o666)
    try:
        with open(fd, "wb", closefd=False) as out:
            while n <= size and (chunk := src.read(min(CHUNK_SIZE, size + 1 - n))):
                n += len(chunk)
                if n > size:
                    break
                h.update(chunk)
                out.write(chunk)
        if n > size:
            raise IntegrityError(f"{what}: holds more than the {size} bytes recorded; stopped reading there")
        if n < size:
            raise IntegrityError(f"{what}: expected {size} bytes, got {n}")
        got = Digest(algorithm, h.hexdigest())
        if digest is not None and got != digest:
            raise IntegrityError(f"{what}: expected {digest} ({size} bytes), got {got} ({n} bytes)")
        key = None
        if settle:
            past = settled_ns()
            os.utime(fd, ns=(past, past))
            key = stat_key(os.fstat(fd))
        os.close(fd)
        fd = -1
        os.replace(tmp, dest)
        return key
    finally:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def copy_stream_into_place(src: IO[bytes], dest: str | os.PathLike[str]) -> None:
    """Copy a stream to a new file renamed over ``dest`` (never writing through a file there)."""
    tmp = f"{os.fspath(dest)}.tmp-{uuid.uuid4().hex}"
    try:
        with open(tmp, "xb") as out:
            shutil.copyfileobj(src, out, CHUNK_SIZE)
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def copy_into_place(src: str | os.PathLike[str], dest: str | os.PathLike[str]) -> None:
    """Copy a file (the kernel copies where it can) so that ``dest`` is never seen half written."""
    tmp = f"{os.fspath(dest)}.tmp-{uuid.uuid4().hex}"
    try:
        shutil.copyfile(src, tmp)
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
