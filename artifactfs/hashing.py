"""Digests that carry their algorithm, and hashing of bytes and streams (no I/O of its own)."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from typing import IO, Protocol

import blake3

from .errors import FormatError

__all__ = [
    "ALGORITHMS",
    "BLOCK_SIZE",
    "DEFAULT_ALGORITHM",
    "Digest",
    "Hasher",
    "hash_blocks",
    "hash_bytes",
    "hash_file",
    "hash_file_blocks",
    "hash_stream",
    "matches",
    "new_file_hasher",
    "new_hasher",
]

DEFAULT_ALGORITHM = "blake3"
ALGORITHMS = ("blake3", "sha256")
CHUNK_SIZE = 4 << 20
BLOCK_SIZE = 1 << 20  # granularity of verified range reads (see hash_blocks)
DIGEST_BYTES = 32

_HEX = re.compile(r"^[0-9a-f]{64}$")


class Hasher(Protocol):
    def update(self, data: bytes | memoryview, /) -> object: ...
    def hexdigest(self) -> str: ...
    def digest(self) -> bytes: ...


def new_hasher(algorithm: str = DEFAULT_ALGORITHM) -> Hasher:
    """Return an incremental hasher for ``algorithm`` (``blake3`` or ``sha256``)."""
    if algorithm == "blake3":
        return blake3.blake3()
    if algorithm == "sha256":
        return hashlib.sha256()
    raise FormatError(f"unknown digest algorithm {algorithm!r}; known: {', '.join(ALGORITHMS)}")


@dataclass(frozen=True, slots=True, order=True)
class Digest:
    """A content digest such as ``blake3:9f3c…``; the algorithm is part of its identity."""

    algorithm: str
    hex: str

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS or not _HEX.fullmatch(self.hex):
            raise FormatError(f"malformed digest {self.algorithm}:{self.hex}")

    @classmethod
    def parse(cls, text: str) -> Digest:
        """Parse ``"algorithm:hex"``; raise :class:`FormatError` when malformed."""
        algorithm, sep, hexpart = text.partition(":")
        if not sep:
            raise FormatError(f"malformed digest {text!r}: expected 'algorithm:hex'")
        return cls(algorithm, hexpart)

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"

    @property
    def short(self) -> str:
        """The first 12 hex characters, for display."""
        return self.hex[:12]


def hash_bytes(data: bytes | memoryview, algorithm: str = DEFAULT_ALGORITHM) -> Digest:
    """Digest of an in-memory buffer."""
    h = new_hasher(algorithm)
    h.update(data)
    return Digest(algorithm, h.hexdigest())


def hash_stream(stream: IO[bytes], algorithm: str = DEFAULT_ALGORITHM, limit: int | None = None) -> tuple[Digest, int]:
    """Digest and length of everything left in a binary stream, or of its first ``limit``
    bytes: callers expecting ``n`` bytes pass ``n + 1``, so an endless or oversized source
    (``/dev/zero``, a blob larger than recorded) costs no more than that to refuse."""
    h = new_hasher(algorithm)
    size = 0
    # read() sized by what is there: a preallocated 4 MiB buffer would be zeroed for every
    # small file, which dominated verifying thousands of them.
    while (limit is None or size < limit) and (
        chunk := stream.read(CHUNK_SIZE if limit is None else min(CHUNK_SIZE, limit - size))
    ):
        h.update(chunk)
        size += len(chunk)
    return Digest(algorithm, h.hexdigest()), size


def matches(src: bytes | memoryview | IO[bytes], digest: Digest, size: int) -> bool:
    """Whether ``src`` (bytes, or a stream read from where it stands) is exactly the ``size``
    bytes that hash to ``digest``: the one test of a whole blob. A stream is read for at most
    ``size + 1`` bytes, so an oversized one costs no more than that to refuse."""
    if isinstance(src, bytes | memoryview):
        return len(src) == size and hash_bytes(src, digest.algorithm) == digest
    return hash_stream(src, digest.algorithm, limit=size + 1) == (digest, size)


def hash_blocks(stream: IO[bytes], algorithm: str = DEFAULT_ALGORITHM, block_size: int = BLOCK_SIZE) -> bytes:
    """Raw digests of each ``block_size`` block of a stream, concatenated (32 bytes each).

    Stored beside a blob's digest, they let a reader verify a byte range by reading only the
    blocks that hold it, instead of the whole blob.
    """
    out = bytearray()
    while block := stream.read(block_size):
        h = new_hasher(algorithm)
        h.update(block)
        out += h.digest()
    return bytes(out)


def hash_file_blocks(
    path: str | os.PathLike[str], algorithm: str = DEFAULT_ALGORITHM, block_size: int = BLOCK_SIZE
) -> tuple[Digest, int, bytes]:
    """Digest, size and block digests (as :func:`hash_blocks`) of a local file, in one read."""
    whole = new_hasher(algorithm)
    blocks = bytearray()
    size = 0
    with open(path, "rb") as f:
        while block := f.read(block_size):
            whole.update(block)
            h = new_hasher(algorithm)
            h.update(block)
            blocks += h.digest()
            size += len(block)
    return Digest(algorithm, whole.hexdigest()), size, bytes(blocks)


def new_file_hasher(algorithm: str = DEFAULT_ALGORITHM) -> Hasher:
    """An incremental hasher for large inputs: blake3 hashes each update on every core."""
    return blake3.blake3(max_threads=blake3.blake3.AUTO) if algorithm == "blake3" else new_hasher(algorithm)


def hash_file(
    path: str | os.PathLike[str], algorithm: str = DEFAULT_ALGORITHM, limit: int | None = None
) -> tuple[Digest, int]:
    """Digest and size of a local file (of its first ``limit`` bytes, as :func:`hash_stream`),
    read in 16 MiB blocks, so memory stays bounded whatever the size."""
    h = new_file_hasher(algorithm)
    size = 0
    buf = bytearray(16 << 20)
    view = memoryview(buf)
    with open(path, "rb") as f:
        while (limit is None or size < limit) and (n := f.readinto(buf if limit is None else view[: limit - size])):
            h.update(view[:n])
            size += n
    return Digest(algorithm, h.hexdigest()), size
