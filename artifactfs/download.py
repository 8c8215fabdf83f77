"""Materialising artifact entries in a local folder, through the machine's blob cache.

Each blob is written to this machine once. A download places it in the local cache (a
remote store's single blobs are fetched there; a local store's, and packed ones read by
range, are written into the download folder and the new file linked into the cache) and gives
the download folder a hard link to it, so the next download of anything holding that blob is
a link: no byte copied, none read.

Cached blobs are read-only and dated a few seconds into the past, and their stat is
remembered (statcache). A cached blob whose stat still matches is trusted without reading
it; one that was changed in place (through a link, by a user who could write it anyway)
no longer matches, and is verified, found corrupt, evicted and fetched again. A blob is
linked once per download, so two files of one download never share an inode. Where links
are impossible (the cache on another filesystem) or unwanted (``copy=True``), files are
copied, and every byte not trusted by stat is hashed on the way.

Paths are plain strings here: a download of thousands of small files is dominated by
per-file overhead, which pathlib objects would double.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

from fsspec.callbacks import Callback

from . import layout
from .blobs import BlobReader
from .errors import (
    ArtifactFSError,
    IntegrityError,
    InvalidNameError,
    KeyNotFoundError,
    MissingReferenceError,
)
from .hashing import Digest
from .manifest import Entry
from .packing import read_packed
from .places import READ_ONLY, copy_into_place, copy_stream_into_place, copy_verified, link
from .refs import check_entry_path
from .statcache import StatKey, settled_ns, stat_key
from .transfer import SMALL_BLOB, ChunkedProgress, fetch_to_cache
from .uris import open_uri

__all__ = ["materialize"]


Placed = Digest | tuple[str, StatKey, Digest] | None


BATCH = 65_536  # entries placed at a time: a download of millions of files holds a batch of them


def materialize(
    blobs: BlobReader,
    qualified: str,
    entries: Iterable[Entry],
    dest: Path,
    callback: Callback | None = None,
    *,
    copy: bool = False,
    missing: list[str] | None = None,
) -> tuple[int, int]:
    """Write ``entries`` of version ``qualified`` under ``dest``; see the module docstring.
    Returns how many files, of how many bytes.

    An external reference whose object is gone raises :class:`MissingReferenceError`, or,
    given a ``missing`` list, is skipped and named there (``path (uri)``).

    Entries are taken :data:`BATCH` at a time (a sharded version's are read a shard at a
    time), so memory stays bounded however many there are. A local file or folder that
    cannot be written (a full disk, a file too large for its filesystem, a read-only or
    forbidden folder, the cache's or the download's) is a :class:`LocalFileError` naming it
    and what to do.
    """
    progress = ChunkedProgress(callback) if callback is not None else None
    linked: set[int] = set()  # blobs an earlier batch linked (a short key each: see _placed_key)
    it = iter(entries)
    files = size = 0
    with _local_errors(blobs, dest):
        while batch := list(itertools.islice(it, BATCH)):
            if progress is not None:
                progress.next_chunk()
            _place_all(blobs, qualified, batch, dest, progress, copy, linked, missing)
            files, size = files + len(batch), size + sum(e.size for e in batch)
    blobs.cache.make_room(0)  # copies of a version larger than the cap: its oldest blobs go again
    return files, size


@contextlib.contextmanager
def _local_errors(blobs: BlobReader, dest: Path) -> Iterator[None]:
    try:
        yield
    except ArtifactFSError:
        raise
    except OSError as e:
        raise blobs.local_error(e, dest) from e


def _placed_key(d: Digest) -> int:
    """64 bits of a digest: what a download remembers of the blobs it linked (a collision
    only makes a file a copy where it could have been a link)."""
    return int(d.hex[:16], 16)


def _place_all(
    blobs: BlobReader,
    qualified: str,
    entries: list[Entry],
    dest: Path,
    callback: Callback | None,
    copy: bool,
    linked: set[int],
    gone: list[str] | None = None,
) -> None:
    by_digest: dict[Digest, list[Entry]] = {}
    references: list[Entry] = []
    for e in entries:
        if e.kind == "reference":
            references.append(e)
        else:
            assert e.digest is not None
            by_digest.setdefault(e.digest, []).append(e)
    targets = _Targets(os.fspath(dest))
    where = {e.path: targets.check(e.path, f"{qualified} entry {e.path!r}") for e in entries}
    targets.make_folders()

    trusted = _trusted(blobs, list(by_digest))
    packed = {d: at for d, es in by_digest.items() if (at := es[0].where) is not None}
    done: set[Digest] = set()
    if packed.keys() - trusted:
        fetch = {d: by_digest[d] for d in packed if d not in trusted}
        done = _place_packed(blobs, qualified, fetch, where, copy, callback)
    if not blobs.backend.local_files or packed.keys() - trusted - done:
        # Through the cache: every blob of a remote store not in a pack, and packed ones found
        # in no pack (read as single blobs).
        wanted = {
            d: (es[0].size, f"{qualified} entry {es[0].path!r}")
            for d, es in by_digest.items()
            if d not in trusted and d not in done and (d in packed or not blobs.backend.local_files)
        }
        if isinstance(callback, ChunkedProgress) and done:
            callback.next_chunk()
        blobs.cache.make_room(sum(size for size, _ in wanted.values()), keep=by_digest.keys())
        try:
            fresh = fetch_to_cache(blobs.backend, blobs.cache, wanted, callback, packed, blobs.packs)
        except KeyNotFoundError as missing:
            raise IntegrityError(f"{qualified}: a blob is missing from store {blobs.url}: {missing}") from None
        trusted |= _settle(blobs, fresh)

    # A blob an earlier batch linked is copied here: two files of one download never share an inode.
    again = {d for d in by_digest if _placed_key(d) in linked}
    linked.update(_placed_key(d) for d in by_digest)
    rest = []
    for digest, es in by_digest.items():
        if digest in done:
            continue
        # A trusted cached blob is one link: cheaper here than a hand-off to a thread.
        if digest in trusted and not copy and digest not in again and link(blobs.cache.file(digest), where[es[0].path]):
            for more in es[1:]:
                copy_into_place(where[es[0].path], where[more.path])
        else:
            rest.append((digest, es))

    def blob(item: tuple[Digest, list[Entry]]) -> Placed:
        d, es = item
        return _place_blob(blobs, qualified, d, es[0], [where[e.path] for e in es], d in trusted, copy or d in again)

    # Small blobs in this thread alone (threads contending for the GIL over many short system
    # calls were slower: 1.1 s with 8 threads against 0.8 s with one for 10,000 files); large
    # ones, and references (fetched from elsewhere), in the pool.
    small = [item for item in rest if item[1][0].size <= SMALL_BLOB]
    large = [item for item in rest if item[1][0].size > SMALL_BLOB]
    placed = [blob(item) for item in small]
    with ThreadPoolExecutor(blobs.workers) as pool:
        placed += pool.map(blob, large)
        list(pool.map(lambda e: _place_reference(e, where[e.path], f"{qualified} entry {e.path!r}", gone), references))
    placed = [p for p in placed if p is not None]
    _settle(blobs, {p for p in placed if isinstance(p, Digest)})
    blobs.stat_cache.record([p for p in placed if isinstance(p, tuple)], hashed_ns=time.time_ns())
    blobs.cache.used(((d, es[0].size) for d, es in by_digest.items()), held=not copy)


def _place_packed(
    blobs: BlobReader,
    qualified: str,
    todo: dict[Digest, list[Entry]],
    where: dict[str, str],
    copy: bool,
    callback: Callback | None,
) -> set[Digest]:
    """Write packed blobs, read by merged ranges, straight to their targets, each checked
    against its digest on the way, and link each into the cache (one write per blob, as a
    local store's single blobs are placed). Returns the digests placed: those in no pack are
    left to be read as single blobs."""
    wanted = {}
    for d, es in todo.items():
        assert es[0].where is not None
        wanted[d] = (es[0].where, f"{qualified} entry {es[0].path!r} (in pack {layout.pack(es[0].where.pack)})")
    if callback is not None:
        callback.set_size(len(wanted))
    done, rows = set(), []
    for d, data in read_packed(blobs.backend, wanted, packs=blobs.packs):
        if data is None:
            continue
        es = todo[d]
        first = where[es[0].path]
        if (row := _write_new(blobs, io.BytesIO(data), first, d, es[0].size, wanted[d][1], copy)) is not None:
            rows.append(row)
        for more in es[1:]:  # the same bytes again: a copy, never a second link to one inode
            copy_into_place(first, where[more.path])
        done.add(d)
        if callback is not None:
            callback.relative_update(1)
    blobs.stat_cache.record(rows, hashed_ns=time.time_ns())
    return done


def _write_new(
    blobs: BlobReader, src: IO[bytes], target: str, digest: Digest, size: int, what: str, copy: bool
) -> tuple[str, StatKey, Digest] | None:
    """Write ``src`` (checked against ``digest``) as the new file ``target`` and, unless
    ``copy``, link it into the cache: then the stat-cache row that remembers it."""
    key = copy_verified(src, target, digest, size, what, settle=not copy, make_parent=False)
    if key is None:
        return None
    if blobs.cache.link_in(target, digest):
        return (blobs.cache.file(digest), key, digest)
    os.chmod(target, 0o644)  # not linked to the cache after all: an ordinary private file
    return None


class _Targets:
    """Target paths under a download folder, refusing any that would land outside it."""

    def __init__(self, dest: str) -> None:
        self.dest = dest
        self.root = os.path.realpath(dest)
        self.parents: dict[str, bool] = {}

    def check(self, path: str, what: str) -> str:
        """``dest/path``, refusing ``..``, absolute paths, drive letters, and links that leave ``dest``."""
        try:
            check_entry_path(path)
        except InvalidNameError as e:
            raise IntegrityError(f"{what}: refusing to write outside the download folder: {e}") from None
        target = f"{self.dest}/{path}"
        parent = os.path.dirname(target)
        inside = self.parents.get(parent)
        if inside is None:
            real = os.path.realpath(parent)
            inside = self.parents[parent] = real == self.root or real.startswith(self.root + os.sep)
        if not inside:
            raise IntegrityError(f"{what}: refusing to write through a link that leaves {self.dest}")
        if os.path.islink(target):
            raise IntegrityError(f"{what}: refusing to overwrite the symlink {target}")
        return target

    def make_folders(self) -> None:
        for parent in self.parents:
            os.makedirs(parent, exist_ok=True)


def _trusted(blobs: BlobReader, digests: list[Digest]) -> set[Digest]:
    """The digests whose cached copy is unchanged since it was last verified (by its stat)."""
    stats = []
    for d in digests:
        path = blobs.cache.file(d)
        with contextlib.suppress(OSError):
            stats.append((path, stat_key(os.stat(path))))
    known = blobs.stat_cache.lookup(stats, digests[0].algorithm) if stats else {}
    return {d for d in digests if known.get(blobs.cache.file(d)) == d}


def _settle(blobs: BlobReader, digests: set[Digest]) -> set[Digest]:
    """Mark cached blobs verified just now: read-only, dated past the racy window, remembered.

    Returns the digests settled (a blob another process evicted meanwhile is left out).
    """
    done, rows = set(), []
    past = settled_ns()
    for d in digests:
        path = blobs.cache.file(d)
        try:
            os.chmod(path, READ_ONLY)
            os.utime(path, ns=(past, past))
            rows.append((path, stat_key(os.stat(path)), d))
            done.add(d)
        except OSError:
            continue
    blobs.stat_cache.record(rows, hashed_ns=time.time_ns())
    return done


def _place_blob(
    blobs: BlobReader, qualified: str, digest: Digest, entry: Entry, targets: list[str], trusted: bool, copy: bool
) -> Placed:
    """Write one blob at every target path.

    Returns what the cache learnt: a remote store's cached blob verified now (to settle), or
    a local store's blob copied, settled and linked into the cache (a stat-cache row).
    """
    cached = blobs.cache.file(digest)
    what = f"{qualified} entry {entry.path!r} (store key {layout.blob(digest)})"
    first = targets[0]
    placed: Placed = None
    if (trusted and not copy and link(cached, first)) or (trusted and _copied(cached, first)):
        pass
    elif blobs.backend.local_files and entry.where is None:
        try:
            with blobs.backend.open(layout.blob(digest)) as src:
                placed = _write_new(blobs, src, first, digest, entry.size, what, copy)
        except KeyNotFoundError:
            raise IntegrityError(f"{what}: blob is missing from store {blobs.url}") from None
    else:
        blobs.verified_file(digest, entry.size, what, entry.where)
        placed = digest
        if not ((not copy and link(cached, first)) or _copied(cached, first)):
            # Another process evicted it between fetching and placing: fetched again, straight
            # into place (and linked into the cache after), so no eviction can starve this download.
            placed = _fetched_into(blobs, digest, entry, first, what, copy)
    for t in targets[1:]:  # the same bytes again: a copy, never a second link to one inode
        copy_into_place(first, t)
    return placed


def _fetched_into(blobs: BlobReader, digest: Digest, entry: Entry, target: str, what: str, copy: bool) -> Placed:
    """Fetch a blob from the store straight to ``target`` (checked on the way), not through
    the cache; returns the stat-cache row of its link into the cache, if it got one."""
    if entry.where is not None:
        got = dict(read_packed(blobs.backend, {digest: (entry.where, what)}, packs=blobs.packs)).get(digest)
        if got is not None:
            return _write_new(blobs, io.BytesIO(got), target, digest, entry.size, what, copy)
    try:
        with blobs.backend.open_sized(layout.blob(digest), entry.size) as src:
            return _write_new(blobs, src, target, digest, entry.size, what, copy)
    except KeyNotFoundError:
        raise IntegrityError(f"{what}: blob is missing from store {blobs.url}") from None


def _copied(cached: str, target: str) -> bool:
    """Copy a cached blob into place; False if it was evicted meanwhile (then it is fetched
    again: eviction never leaves a broken file, only an absent one)."""
    try:
        copy_into_place(cached, target)
    except FileNotFoundError:
        if os.path.exists(cached):
            raise  # something else is missing (the target's folder): a real error
        return False
    return True


def _place_reference(entry: Entry, target: str, what: str, gone: list[str] | None) -> None:
    """Fetch an external reference into a new file renamed over ``target``: a file already
    there may be a hard link into the cache, and is never opened for writing. One whose object
    is gone is named in ``gone``, if given (else the error stands)."""
    try:
        src = open_uri(entry, what)
    except MissingReferenceError:
        if gone is None:
            raise
        gone.append(f"{entry.path} ({entry.extra['uri']})")  # (list.append: safe from threads)
        return
    with src:
        if entry.extra.get("checksum") is False:  # logged with checksum=False: fetched as it is
            copy_stream_into_place(src, target)
        else:
            copy_verified(src, target, entry.digest, entry.size, what)
