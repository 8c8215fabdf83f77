"""The user's local files being logged: read again after they were hashed, and checked.

A file can change between its hashing and its upload (a checkpoint still being written, a
log appended to); what is stored under a digest must be exactly what was hashed, so every
re-read is checked and a change is a :class:`SourceChangedError` naming the file.
"""

from __future__ import annotations

from typing import IO, Any

from .errors import LocalFileError, LocalPathNotFoundError, SourceChangedError
from .hashing import Digest, hash_bytes, new_file_hasher

__all__ = ["check_source", "copy_checked", "open_source", "read_at_most", "read_source", "source_changed"]


def open_source(local: str) -> IO[bytes]:
    """Open a file being logged; a missing or unreadable one is named as the user's file."""
    try:
        return open(local, "rb")
    except FileNotFoundError as e:
        raise LocalPathNotFoundError(f"{local} was removed before it could be logged") from e
    except OSError as e:
        raise LocalFileError(f"cannot read {local}: {e.strerror or e}") from e


def read_at_most(src: IO[bytes], local: str, n: int) -> bytes:
    try:
        return src.read(n)
    except OSError as e:
        raise LocalFileError(f"cannot read {local}: {e.strerror or e}") from e


def source_changed(local: str, digest: Digest, size: int, got: Digest, sent: int) -> SourceChangedError:
    now = f"{sent} bytes" if sent != size else f"digest {got.short}"
    return SourceChangedError(
        f"{local} changed while it was being logged (hashed as {digest.short}, {size} bytes; "
        f"read again: {now}); nothing was stored for it: log it again once it is complete"
    )


def check_source(local: str, data: bytes, digest: Digest, size: int) -> None:
    """Refuse ``data``, read again from ``local``, unless it is what was hashed."""
    got = hash_bytes(data, digest.algorithm)
    if len(data) != size or got != digest:
        raise source_changed(local, digest, size, got, len(data))


def read_source(local: str, digest: Digest, size: int) -> bytes:
    """The bytes of a local file hashed earlier as ``digest`` (``size`` bytes), read again and
    checked: :class:`SourceChangedError` if the file changed since."""
    with open_source(local) as src:
        data = read_at_most(src, local, size + 1)
    check_source(local, data, digest, size)
    return data


def copy_checked(src: IO[bytes], local: str, out: Any, digest: Digest, size: int, block: int) -> None:
    """Copy ``src`` (the file ``local``, hashed earlier as ``digest``) to ``out`` in blocks,
    hashing every byte on the way; :class:`SourceChangedError` if it is not what was hashed
    (the caller then throws ``out`` away). At most ``size + 1`` bytes are read."""
    h = new_file_hasher(digest.algorithm)
    sent = 0
    while sent <= size and (chunk := read_at_most(src, local, min(block, size + 1 - sent))):
        h.update(chunk)
        sent += len(chunk)
        if sent <= size:
            out.write(chunk)
    got = Digest(digest.algorithm, h.hexdigest())
    if sent != size or got != digest:
        raise source_changed(local, digest, size, got, sent)
