"""A read-only file that checks every byte it returns against per-block digests."""

from __future__ import annotations

import io
from collections import OrderedDict
from collections.abc import Callable
from typing import IO

from .errors import FormatError, IntegrityError
from .hashing import DIGEST_BYTES, new_hasher

__all__ = ["VerifiedReader"]


class VerifiedReader(io.RawIOBase):
    """Random access to a blob, verifying each block read against its recorded digest.

    ``raw`` is any seekable binary file (a local file, or an fsspec file that reads by byte
    range). Reads fetch whole blocks, check them, and keep the last few in memory, so a reader
    that touches a small part of a large blob reads and verifies only that part.
    """

    def __init__(
        self,
        raw: IO[bytes],
        size: int,
        block_size: int,
        digests: bytes,
        algorithm: str,
        what: str,
        *,
        fallback: Callable[[], IO[bytes]] | None = None,
        keep: int = 16,
    ) -> None:
        """``fallback`` opens a second source (the store, when ``raw`` is a cached copy) that
        replaces ``raw`` once if a block of ``raw`` turns out corrupt."""
        super().__init__()
        nblocks = -(-size // block_size) if size else 0
        if block_size <= 0 or len(digests) != nblocks * DIGEST_BYTES:
            raise FormatError(f"{what}: block digests do not match the blob size")
        self._raw, self._size, self._block, self._digests = raw, size, block_size, digests
        self._algorithm, self._what, self._keep = algorithm, what, keep
        self._pos = 0
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self._fallback = fallback

    def _get_block(self, i: int) -> bytes:
        data = self._cache.get(i)
        if data is not None:
            self._cache.move_to_end(i)
            return data
        start = i * self._block
        want = min(self._block, self._size - start)
        self._raw.seek(start)
        data = self._raw.read(want)
        h = new_hasher(self._algorithm)
        h.update(data)
        if len(data) != want or h.digest() != self._digests[i * DIGEST_BYTES : (i + 1) * DIGEST_BYTES]:
            if self._fallback is not None:
                self._raw.close()
                self._raw, self._fallback = self._fallback(), None
                return self._get_block(i)
            raise IntegrityError(f"{self._what}: bytes {start}-{start + want} do not match their recorded digest")
        self._cache[i] = data
        if len(self._cache) > self._keep:
            self._cache.popitem(last=False)
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        n = 0
        while n < len(view) and self._pos < self._size:
            i, off = divmod(self._pos, self._block)
            block = self._get_block(i)
            take = min(len(view) - n, len(block) - off)
            view[n : n + take] = block[off : off + take]
            n += take
            self._pos += take
        return n

    def close(self) -> None:
        self._raw.close()
        self._cache.clear()
        super().close()

    @property
    def size(self) -> int:
        return self._size
