"""Placing files on this machine: each appears whole or not at all.

Every copy goes to a new temp file renamed over its target, so a file already there (a hard
link into the blob cache, perhaps) is replaced, never written through; a link replaces what
is there the same way. :func:`copy_verified` hashes what it copies and keeps it only if it
matches; :func:`copy_and_hash` names a copy by the very bytes it holds.
"""

from __future__ import annotations

import contextlib
import itertools
import mmap
import os
import queue
import shutil
import threading
import uuid
from typing import IO

from .errors import IntegrityError
from .hashing import CHUNK_SIZE, Digest, new_file_hasher, new_hasher
from .statcache import StatKey, settled_ns, stat_key

__all__ = [
    "COPY_CHUNK",
    "READ_ONLY",
    "copy_and_hash",
    "copy_into_place",
    "copy_stream_into_place",
    "copy_verified",
    "link",
    "temp_suffix",
]

READ_ONLY = 0o444


class _Temps:
    """Unique temp-file suffixes: a random token per process (new after a fork) and a counter,
    so a suffix costs no system call (a uuid4 each read the kernel's random source)."""

    def __init__(self) -> None:
        self.renew()
        os.register_at_fork(after_in_child=self.renew)

    def renew(self) -> None:
        self.token = uuid.uuid4().hex
        self.counter = itertools.count()

    def suffix(self) -> str:
        return f".tmp-{self.token}-{next(self.counter)}"


_temps = _Temps()


def temp_suffix() -> str:
    """A suffix no other temp file (of any process, on any machine) has: ``.tmp-<token>-<n>``."""
    return _temps.suffix()


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
    tmp = f"{dest}{temp_suffix()}"
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
    tmp = f"{os.fspath(dest)}{temp_suffix()}"
    try:
        with open(tmp, "xb") as out:
            shutil.copyfileobj(src, out, CHUNK_SIZE)
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def copy_into_place(src: str | os.PathLike[str], dest: str | os.PathLike[str]) -> None:
    """Copy a file (the kernel copies where it can) so that ``dest`` is never seen half written."""
    tmp = f"{os.fspath(dest)}{temp_suffix()}"
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def link(src: str, target: str) -> bool:
    """Hard-link ``src`` at ``target``, replacing what is there; False where links are impossible."""
    try:
        os.link(src, target)
        return True
    except FileExistsError:
        pass
    except OSError:  # another filesystem, or no links there
        return False
    tmp = f"{target}{temp_suffix()}"
    try:
        os.link(src, tmp)
        # rename(2) onto another link to the same inode does nothing and leaves tmp: removed below.
        os.replace(tmp, target)
        return True
    except OSError:
        return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


COPY_CHUNK = 64 << 20  # bytes the kernel copies per call (a valid mapping offset everywhere)


def copy_and_hash(src: IO[bytes], out: IO[bytes], algorithm: str) -> tuple[Digest, int]:
    """Copy ``src`` to ``out`` (opened for reading too) and hash the copy, overlapping the two.

    The kernel copies (copy_file_range, as cp does: no round trip through Python) in a thread
    while this one hashes each copied chunk through a mapping of ``out``, whose pages the copy
    has just put in the cache. Hashing the copy rather than the source names the blob by the
    very bytes it holds, and the mapping never outruns the file (the source, mapped, could
    shrink under us and fault). Where the kernel cannot copy between these files, one pass
    through user space reads, hashes and writes each chunk.
    """
    size = os.fstat(src.fileno()).st_size
    if not hasattr(os, "copy_file_range"):  # Linux only
        return _copy_and_hash_user_space(src, out, algorithm)
    try:
        first = os.copy_file_range(src.fileno(), out.fileno(), min(COPY_CHUNK, size), 0, 0) if size else 0
    except OSError:
        return _copy_and_hash_user_space(src, out, algorithm)
    h = new_file_hasher(algorithm)
    copied: queue.SimpleQueue[int | BaseException] = queue.SimpleQueue()
    copied.put(first)

    def copier() -> None:
        off = first
        try:
            while 0 < off < size:
                n = os.copy_file_range(src.fileno(), out.fileno(), min(COPY_CHUNK, size - off), off, off)
                if n == 0:  # the source shrank: the caller's identity check notices
                    break
                off += n
                copied.put(off)
        except BaseException as e:  # handed to the hashing thread, which raises it
            copied.put(e)
        copied.put(-1)

    thread = threading.Thread(target=copier, name="artifactfs-copy", daemon=True)
    thread.start()
    hashed = 0
    try:
        while (item := copied.get()) != -1:
            if isinstance(item, BaseException):
                raise item
            if item > hashed:
                # Chunks start at multiples of 64 MiB, a valid mapping offset on every platform.
                with (
                    mmap.mmap(out.fileno(), item - hashed, offset=hashed, access=mmap.ACCESS_READ) as m,
                    memoryview(m) as view,
                ):
                    h.update(view)
                hashed = item
    finally:
        thread.join()
    return Digest(algorithm, h.hexdigest()), hashed


def _copy_and_hash_user_space(src: IO[bytes], out: IO[bytes], algorithm: str) -> tuple[Digest, int]:
    src.seek(0)
    out.seek(0)
    out.truncate()
    h = new_file_hasher(algorithm)
    size = 0
    while chunk := src.read(CHUNK_SIZE):
        h.update(chunk)
        out.write(chunk)
        size += len(chunk)
    return Digest(algorithm, h.hexdigest()), size
