"""The storage contract: one suite, run against every backend, of every public primitive of
:class:`~artifactfs.backend.Backend`.

Local folders, ``memory://``, and S3, GCS and Azure through their emulators all run the same
tests (as fsspec's ``tests/abstract`` does for filesystems). Each test states a guarantee the
rest of artifactfs relies on and checks it through public methods only: a new backend, or a new
release of a backend library, keeps the contract or fails here.

The guarantees: a key is written whole or not at all, and readers see the old value or the new
one, never half; create-if-absent succeeds exactly once; listings give keys (never filesystem
paths), whatever the store's blob layout; absent keys map to None or are left out of batch
answers; failures are :mod:`artifactfs.errors` types naming the key and the store; bounded
reads read no more than they are asked for; and a verified upload stores the bytes it was told
of or nothing.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fsspec.callbacks import Callback

from artifactfs import backend_base as storage
from artifactfs import codec, layout
from artifactfs.backend import Backend, open_backend
from artifactfs.errors import (
    ArtifactFSError,
    FormatError,
    IntegrityError,
    KeyNotFoundError,
    LocalPathNotFoundError,
    SourceChangedError,
    StoreError,
    UnsupportedBackendError,
)
from artifactfs.hashing import Digest, hash_bytes
from artifactfs.records import StoreDescriptor
from tests.requests import Requests

LOCAL_ONLY = "refresh, modified, temp_path, adopt and discard are local-only primitives (Backend.local_files)"
CLOCK_SLACK = 5.0  # seconds: object stores keep modified times to the second


@pytest.fixture
def backend(store_url: str) -> Backend:
    return open_backend(store_url)


@pytest.fixture
def local(backend: Backend) -> Backend:
    if not backend.local_files:
        pytest.skip(LOCAL_ONLY)
    return backend


def remote(backend: Backend) -> bool:
    """Whether reads of ``backend`` go over HTTP (so the ``requests`` fixture sees them)."""
    return backend.concurrent


def data_of(size: int, seed: int = 0) -> bytes:
    return bytes((i * 31 + seed) % 251 for i in range(size))


def digest_of(data: bytes) -> Digest:
    return hash_bytes(data)


# ---------------------------------------------------------------------- opening
def test_what_opened_a_backend_reopens_it(backend: Backend) -> None:
    """``url`` and ``storage_options`` are all another process (a Dask worker) needs."""
    backend.write("k/x", b"value")
    again = open_backend(backend.url, **backend.storage_options)
    assert again.read("k/x") == b"value"
    assert again.local_files == backend.local_files and again.concurrent == backend.concurrent


def test_an_unknown_protocol_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="nosuchproto"):
        open_backend("nosuchproto://bucket/store")


# ---------------------------------------------------------------------- single keys
def test_write_replaces_the_whole_value(backend: Backend) -> None:
    backend.write("a/b/c", b"a longer first value")
    backend.write("a/b/c", b"short")
    assert backend.read("a/b/c") == b"short"  # nothing of the longer value is left behind
    assert backend.size("a/b/c") == 5
    assert backend.exists("a/b/c")
    backend.write("a/b/empty", b"")
    assert backend.read("a/b/empty") == b"" and backend.size("a/b/empty") == 0


def test_read_first_reads_like_read(backend: Backend) -> None:
    backend.write("first", b"hello")
    assert backend.read_first("first") == b"hello"
    with pytest.raises(KeyNotFoundError, match="not-there"):
        backend.read_first("not-there")


def test_create_succeeds_exactly_once(backend: Backend) -> None:
    assert backend.create("v/0000000000.msgpack", b"first")
    assert not backend.create("v/0000000000.msgpack", b"second")
    assert backend.read("v/0000000000.msgpack") == b"first"
    backend.write("v/written", b"by write")
    assert not backend.create("v/written", b"by create")  # a key written any way counts
    assert backend.read("v/written") == b"by write"


def test_create_has_one_winner_whose_bytes_stay(backend: Backend) -> None:
    keys, racers = 10, 4
    won: dict[int, list[int]] = {k: [] for k in range(keys)}
    barrier = threading.Barrier(racers)

    def race(me: int) -> None:
        barrier.wait()
        for k in range(keys):
            if backend.create(f"race/{k}", f"racer {me}".encode()):
                won[k].append(me)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(len(winners) == 1 for winners in won.values()), won
    for k, (winner,) in won.items():
        assert backend.read(f"race/{k}") == f"racer {winner}".encode()


def test_delete_removes_and_is_idempotent(backend: Backend) -> None:
    backend.write("del/x", b"1")
    backend.delete("del/x")
    assert not backend.exists("del/x")
    backend.delete("del/x")  # already gone: not an error
    backend.delete("never/was")


def test_open_is_seekable_and_exact_ranges_reads_only_what_is_asked(
    backend: Backend, requests: Requests, tmp_path: Path
) -> None:
    data = data_of(200_000)
    backend.write("o/ranged.bin", data)
    with backend.open("o/ranged.bin") as f:
        f.seek(1000)
        assert f.read(10) == data[1000:1010]
        f.seek(0)
        assert f.read() == data
    requests.sent.clear()
    with backend.open("o/ranged.bin", exact_ranges=True) as f:
        f.seek(150_000)
        assert f.read(10) == data[150_000:150_010]
    if remote(backend):
        assert requests.bytes_asked("ranged.bin") == 10  # no read-ahead


# ---------------------------------------------------------------------- absent keys
def test_absent_keys_are_typed_errors_or_left_out(backend: Backend) -> None:
    backend.write("here/x", b"1")
    gone = "here/gone"
    for call in (
        lambda: backend.read(gone),
        lambda: backend.read_first(gone),
        lambda: backend.size(gone),
        lambda: backend.open(gone),
        lambda: backend.open_sized(gone, 1),
    ):
        with pytest.raises(KeyNotFoundError) as info:
            call()
        assert gone in str(info.value) and backend.url in str(info.value)  # names the key and the store
    assert not backend.exists(gone)
    assert backend.read_many([gone, "here/x"]) == {gone: None, "here/x": b"1"}
    assert backend.read_heads({gone: 5, "here/x": 5}) == {gone: None, "here/x": b"1"}
    assert backend.sizes([gone, "here/x"]) == {"here/x": 1}
    assert backend.existing([gone, "here/x"]) == {"here/x"}
    assert backend.listdir("no/such/folder") == []
    assert backend.walk("no/such/folder") == {}
    assert backend.sizes_below(["no/such/folder", "here"]) == {"here/x": 1}


def test_empty_batches_ask_for_nothing(backend: Backend) -> None:
    assert backend.read_many([]) == {}
    assert backend.read_heads({}) == {}
    assert backend.sizes([]) == {}
    assert backend.existing([]) == set()
    assert backend.sizes_below([]) == {}
    backend.write_many({})
    backend.put_files([])
    assert backend.walk("") == {}


# ---------------------------------------------------------------------- batches
def test_write_many_writes_every_key(backend: Backend) -> None:
    items = {f"many/{i:03d}": data_of(i, seed=i) for i in range(1, 81)}  # more than one batch of requests
    backend = open_backend(backend.url, concurrency=8, **backend.storage_options)
    counted = Callback()
    backend.write_many(items, callback=counted)
    assert counted.value == len(items)
    assert backend.read_many(list(items)) == items
    backend.write_many({"many/001": b"replaced"})
    assert backend.read("many/001") == b"replaced"


def test_put_files_uploads_every_pair(backend: Backend, tmp_path: Path) -> None:
    pairs = []
    for i in range(40):
        local = tmp_path / f"f{i}.bin"
        local.write_bytes(data_of(100 + i, seed=i))
        pairs.append((str(local), f"up/{i:02d}.bin"))
    counted = Callback()
    backend.put_files(pairs, callback=counted)
    assert counted.value == len(pairs)
    assert backend.read_many([k for _, k in pairs]) == {k: Path(p).read_bytes() for p, k in pairs}
    single = tmp_path / "single.bin"
    single.write_bytes(b"one file")
    backend.put_file(single, "up/single.bin")
    assert backend.read("up/single.bin") == b"one file"


def test_a_failed_batch_leaves_whole_keys_or_none(backend: Backend, tmp_path: Path) -> None:
    pairs = []
    for i in range(6):
        local = tmp_path / f"f{i}.bin"
        local.write_bytes(data_of(50_000, seed=i))
        pairs.append((str(local), f"batch/{i}.bin"))
    pairs.insert(3, (str(tmp_path / "missing.bin"), "batch/missing.bin"))
    with pytest.raises(ArtifactFSError):
        backend.put_files(pairs)
    expected = {k: Path(p).read_bytes() for p, k in pairs if Path(p).exists()}
    for key, got in backend.read_many([k for _, k in pairs]).items():
        assert got is None or got == expected[key], key  # whole, or not there at all
    assert "batch/missing.bin" not in backend.walk("batch")


def test_readers_never_see_a_partial_value(backend: Backend, tmp_path: Path) -> None:
    """Every writer replaces a key at once: a reader sees one whole value or another."""
    size = 1 << 20
    values = [bytes([i]) * size for i in range(1, 5)]
    local = tmp_path / "value.bin"

    def put_file(v: bytes) -> None:
        local.write_bytes(v)
        backend.put_file(local, "atomic/key")

    def put_files(v: bytes) -> None:
        local.write_bytes(v)
        backend.put_files([(str(local), "atomic/key")])

    writers: list[Callable[[bytes], None]] = [
        lambda v: backend.write("atomic/key", v),
        lambda v: backend.write_many({"atomic/key": v}),
        put_file,
        put_files,
    ]
    backend.write("atomic/key", values[0])
    done = threading.Event()
    seen: list[bytes] = []
    failures: list[BaseException] = []

    def read() -> None:
        while not done.is_set():
            try:
                seen.append(backend.read("atomic/key"))
            except BaseException as e:  # reported below, on the main thread
                failures.append(e)
                return

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(2):
            for write, value in zip(writers, values, strict=True):
                write(value)
    finally:
        done.set()
        reader.join()
    assert failures == []
    assert seen and all(v in values for v in seen)


def test_existing_and_sizes(backend: Backend) -> None:
    backend.write_many({"s/a": b"1", "s/b": b"22", "s/empty": b""})
    keys = ["s/a", "s/b", "s/empty", "s/absent"]
    assert backend.sizes(keys) == {"s/a": 1, "s/b": 2, "s/empty": 0}
    assert backend.existing(keys) == {"s/a", "s/b", "s/empty"}


def test_read_many(backend: Backend) -> None:
    backend.write_many({"r/a": b"A", "r/b": data_of(70_000), "r/empty": b""})
    got = backend.read_many(["r/a", "r/b", "r/empty", "r/absent"])
    assert got == {"r/a": b"A", "r/b": data_of(70_000), "r/empty": b"", "r/absent": None}


def test_read_heads_reads_at_most_n_bytes(backend: Backend, requests: Requests) -> None:
    data = data_of(100_000)
    backend.write_many({"h/head-short.bin": data, "h/head-whole.bin": data, "h/head-over.bin": b"tiny"})
    requests.sent.clear()
    got = backend.read_heads({"h/head-short.bin": 10, "h/head-whole.bin": len(data), "h/head-over.bin": 100})
    assert got == {"h/head-short.bin": data[:10], "h/head-whole.bin": data, "h/head-over.bin": b"tiny"}
    if remote(backend):
        assert requests.bytes_asked("head-short.bin") == 10  # the head only, never the rest
        assert requests.bytes_asked("head-whole.bin") == len(data)
    with pytest.raises(ValueError, match="n >= 1"):
        backend.read_heads({"h/head-short.bin": 0})


def test_read_heads_of_an_empty_key(backend: Backend) -> None:
    """S3 and GCS answer a range read of an empty object with 416: it is still b""."""
    backend.write("h/empty", b"")
    assert backend.read_heads({"h/empty": 1}) == {"h/empty": b""}


def test_open_sized_reads_exactly_size_bytes_in_blocks(
    backend: Backend, requests: Requests, monkeypatch: pytest.MonkeyPatch
) -> None:
    block = 64 << 10
    monkeypatch.setattr(storage, "UPLOAD_BLOCK", block)
    data = data_of(200_000)
    backend.write("sized/blob.bin", data)
    requests.sent.clear()
    with backend.open_sized("sized/blob.bin", len(data)) as f:
        got = b""
        while chunk := f.read(50_000):  # as callers read: in chunks
            got += chunk
    assert got == data
    if remote(backend):
        ranges = [r for method, url, r in requests.sent if method == "GET" and "blob.bin" in url and r is not None]
        assert len(ranges) == math.ceil(len(data) / block)  # one request per block
        assert all(end - start + 1 <= block and end < len(data) for start, end in ranges)  # never past the end
        assert requests.bytes_asked("blob.bin") == len(data)


def test_open_sized_refuses_another_size_before_reading(backend: Backend, requests: Requests) -> None:
    backend.write("sized/other-size.bin", data_of(1000))
    requests.sent.clear()
    for recorded in (999, 1001, 0):
        with pytest.raises(IntegrityError) as info:
            backend.open_sized("sized/other-size.bin", recorded)
        message = str(info.value)
        assert "sized/other-size.bin" in message and backend.url in message
        assert "1000 bytes" in message and str(recorded) in message
    if remote(backend):
        assert requests.bytes_asked("other-size.bin") == 0  # its size was asked; none of its bytes
    with backend.open_sized("sized/other-size.bin", 1000) as f:
        assert f.read() == data_of(1000)


# ---------------------------------------------------------------------- verified uploads
def test_upload_verified_stores_the_bytes_it_was_told_of(
    backend: Backend, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    for size in (0, 1, 70_000):
        data = data_of(size, seed=size)
        local = tmp_path / f"file-{size}.bin"
        local.write_bytes(data)
        backend.upload_verified(str(local), f"uv/{size}", digest_of(data), size)
        assert backend.read(f"uv/{size}") == data


CHANGES: dict[str, Callable[[bytes], bytes]] = {
    "same size, other bytes": lambda b: b[:-1] + bytes([b[-1] ^ 0xFF]),
    "longer": lambda b: b + b"more",
    "shorter": lambda b: b[:-1],
    "emptied": lambda b: b"",
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_upload_verified_refuses_changed_bytes_and_leaves_no_key(backend: Backend, tmp_path: Path, change: str) -> None:
    hashed = data_of(10_000)
    local = tmp_path / "changing.bin"
    local.write_bytes(CHANGES[change](hashed))  # rewritten since it was hashed
    with pytest.raises(SourceChangedError, match=r"changing\.bin"):
        backend.upload_verified(str(local), "uv/changed", digest_of(hashed), len(hashed))
    assert not backend.exists("uv/changed")
    assert backend.walk("uv") == {}


def test_upload_verified_abandons_an_upload_of_several_parts(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """The change is in the last part: the parts before it were sent (a multipart, resumable or
    block upload begun), and the upload is abandoned before the backend commits it."""
    monkeypatch.setattr(storage, "UPLOAD_BLOCK", 5 << 20)  # S3's smallest part; a multiple of 256 KiB
    hashed = os.urandom(11 << 20)
    local = tmp_path / "large.bin"
    local.write_bytes(hashed[:-1] + bytes([hashed[-1] ^ 0xFF]))
    with pytest.raises(SourceChangedError, match=r"large\.bin"):
        backend.upload_verified(str(local), "uv/large", digest_of(hashed), len(hashed))
    assert not backend.exists("uv/large")
    assert backend.walk("uv") == {}
    local.write_bytes(hashed)  # the same upload of the bytes hashed goes through
    backend.upload_verified(str(local), "uv/large", digest_of(hashed), len(hashed))
    assert backend.size("uv/large") == len(hashed) and backend.read("uv/large") == hashed


def test_upload_verified_of_a_missing_file(backend: Backend, tmp_path: Path) -> None:
    with pytest.raises(LocalPathNotFoundError, match=r"gone\.bin"):
        backend.upload_verified(str(tmp_path / "gone.bin"), "uv/gone", digest_of(b""), 0)
    assert not backend.exists("uv/gone")


# ---------------------------------------------------------------------- listings
def test_listdir_gives_sorted_names_one_level_down(backend: Backend) -> None:
    backend.write_many({"d/x.msgpack": b"1", "d/b": b"2", "d/sub/y": b"3", "d/sub/deeper/z": b"4"})
    assert backend.listdir("d") == ["b", "sub", "x.msgpack"]
    assert backend.listdir("d/sub") == ["deeper", "y"]
    assert "d" in backend.listdir("")


def test_walk_gives_every_key_below_with_size_and_modified_time(backend: Backend) -> None:
    before = time.time()
    items = {"w/a": b"1", "w/sub/b": b"22", "w/sub/deeper/c": b"333", "other/d": b"4"}
    backend.write_many(items)
    after = time.time()
    found = backend.walk("w")
    assert set(found) == {"w/a", "w/sub/b", "w/sub/deeper/c"}  # keys, not paths; no folders
    for key, (size, mtime) in found.items():
        assert size == len(items[key])
        assert before - CLOCK_SLACK <= mtime <= after + CLOCK_SLACK, (key, mtime, before)
    assert set(backend.walk("")) == set(items)
    assert set(backend.walk("w/sub")) == {"w/sub/b", "w/sub/deeper/c"}


def test_sizes_below_gives_keys_below_each_prefix(backend: Backend) -> None:
    backend.write_many({"p/1/a": b"1", "p/1/b/c": b"22", "p/2/d": b"333", "p/3/e": b"4444"})
    assert backend.sizes_below(["p/1", "p/2", "p/absent"]) == {"p/1/a": 1, "p/1/b/c": 2, "p/2/d": 3}


# ---------------------------------------------------------------------- blob layouts
def blob_key(ab: str, cd: str, n: int) -> str:
    """A blob key in shard ``ab/cd`` (keys are always the two-level form, whatever the layout)."""
    return layout.blob(Digest("blake3", ab + cd + digest_of(f"{ab}{cd}{n}".encode()).hex[4:]))


BLOBS = [blob_key("ab", "cd", 0), blob_key("ab", "cd", 1), blob_key("ab", "ef", 0), blob_key("12", "34", 0)]


def descriptor(flat: bool) -> bytes:
    if flat:  # format 2: blobs/<alg>/<ab>/<hex>
        return StoreDescriptor(2, "blake3", 1, codec.utcnow()).to_bytes()
    return StoreDescriptor(1, "blake3", 2, codec.utcnow()).to_bytes()  # format 1: blobs/<alg>/<ab>/<cd>/<hex>


@pytest.fixture(params=["flat", "two-level"])
def laid_out(request: pytest.FixtureRequest, backend: Backend) -> Iterator[Backend]:
    """A store whose descriptor names a blob layout, opened afresh (it reads the descriptor)."""
    flat = request.param == "flat"
    assert backend.create(layout.DESCRIPTOR, descriptor(flat))
    opened = open_backend(backend.url, **backend.storage_options)
    assert opened.flat_blobs == flat
    yield opened


def hexes(keys: list[str]) -> list[str]:
    return sorted(k.rsplit("/", 1)[1] for k in keys)


def test_blob_keys_are_placed_as_the_layout_says(laid_out: Backend) -> None:
    key = BLOBS[0]
    hex_ = key.rsplit("/", 1)[1]
    if laid_out.flat_blobs:
        assert laid_out.path(key) == f"{laid_out.root}/blobs/blake3/ab/{hex_}"
    else:
        assert laid_out.path(key) == f"{laid_out.root}/{key}"
    manifest = layout.manifest(Digest.parse("blake3:" + hex_))
    assert laid_out.path(manifest) == f"{laid_out.root}/{manifest}"  # only blobs have a layout
    laid_out.write_many({k: k.encode() for k in BLOBS})
    # One level down from the shard are the blobs (flat) or the second-level folders.
    shard = laid_out.listdir("blobs/blake3/ab")
    assert shard == (hexes(BLOBS[:3]) if laid_out.flat_blobs else ["cd", "ef"])


def test_every_writer_places_blobs_by_the_layout(laid_out: Backend, tmp_path: Path) -> None:
    keys = [blob_key("77", f"{i:02x}", i) for i in range(6)]
    data = {k: f"blob {k}".encode() for k in keys}
    files = {}
    for k in keys:
        files[k] = tmp_path / k.rsplit("/", 1)[1]
        files[k].write_bytes(data[k])
    laid_out.write(keys[0], data[keys[0]])
    assert laid_out.create(keys[1], data[keys[1]])
    laid_out.write_many({keys[2]: data[keys[2]]})
    laid_out.put_file(files[keys[3]], keys[3])
    laid_out.put_files([(str(files[keys[4]]), keys[4])])
    laid_out.upload_verified(str(files[keys[5]]), keys[5], digest_of(data[keys[5]]), len(data[keys[5]]))
    expected = hexes(keys) if laid_out.flat_blobs else [f"{i:02x}" for i in range(6)]
    assert laid_out.listdir("blobs/blake3/77") == expected
    assert laid_out.read_many(keys) == data


def test_listings_and_reads_give_blob_keys_in_either_layout(laid_out: Backend) -> None:
    data = {k: data_of(10 + i, seed=i) for i, k in enumerate(BLOBS)}
    laid_out.write_many(data)
    laid_out.write("manifests/blake3/ab/x.msgpack", b"m")
    sizes = {k: len(v) for k, v in data.items()}
    assert {k: s for k, (s, _) in laid_out.walk("blobs").items()} == sizes
    assert set(laid_out.walk("blobs/blake3/ab")) == set(BLOBS[:3])
    assert laid_out.sizes_below(["blobs/blake3/ab", "blobs/blake3/12", "blobs/blake3/ff"]) == sizes
    assert laid_out.sizes_below(["blobs"]) == sizes
    assert set(laid_out.walk("")) == {*BLOBS, "manifests/blake3/ab/x.msgpack", layout.DESCRIPTOR}
    absent = blob_key("ab", "cd", 99)
    assert laid_out.sizes([*BLOBS, absent]) == sizes
    assert laid_out.existing([*BLOBS, absent]) == set(BLOBS)
    assert laid_out.read_many([BLOBS[0], absent]) == {BLOBS[0]: data[BLOBS[0]], absent: None}
    assert laid_out.read_heads({BLOBS[1]: 3, absent: 3}) == {BLOBS[1]: data[BLOBS[1]][:3], absent: None}
    assert laid_out.exists(BLOBS[2]) and laid_out.size(BLOBS[2]) == len(data[BLOBS[2]])
    with laid_out.open_sized(BLOBS[3], len(data[BLOBS[3]])) as f:
        assert f.read() == data[BLOBS[3]]
    laid_out.delete(BLOBS[3])
    assert set(laid_out.walk("blobs")) == set(BLOBS[:3])


def test_a_store_without_a_descriptor_is_made_flat(backend: Backend) -> None:
    assert backend.flat_blobs


def test_set_layout_takes_the_layout_from_a_descriptor(backend: Backend) -> None:
    got = backend.set_layout(descriptor(flat=False))
    assert isinstance(got, StoreDescriptor) and got.blob_levels == 2 and got.format == 1
    assert not backend.flat_blobs
    assert backend.path(BLOBS[0]) == f"{backend.root}/{BLOBS[0]}"
    assert backend.set_layout(descriptor(flat=True)).blob_levels == 1
    assert backend.flat_blobs


@pytest.mark.parametrize(
    "bad",
    [
        b"not msgpack at all",
        StoreDescriptor(2, "blake3", 3).to_bytes(),  # a layout this release does not know
        StoreDescriptor(1, "blake3", 1).to_bytes(),  # format 1 stores have two levels
        StoreDescriptor(2, "md5", 1).to_bytes(),
        StoreDescriptor(99, "blake3", 1).to_bytes(),  # a newer format
    ],
    ids=["garbage", "three-levels", "format-1-flat", "unknown-algorithm", "newer-format"],
)
def test_an_unknown_layout_is_refused_not_guessed(backend: Backend, bad: bytes) -> None:
    backend.set_layout(descriptor(flat=False))
    with pytest.raises(FormatError):
        backend.set_layout(bad)
    assert not backend.flat_blobs  # unchanged
    backend.write(layout.DESCRIPTOR, bad)
    opened = open_backend(backend.url, **backend.storage_options)
    with pytest.raises(FormatError):
        opened.path(BLOBS[0])  # no blob is placed (or collected) by a guess


# ---------------------------------------------------------------------- failures
class SDKError(Exception):
    """What a backend library raises (botocore, azure.core, gcsfs each have their own)."""


_FS_CALLS = (
    "cat_file",
    "pipe_file",
    "put",
    "put_file",
    "info",
    "size",
    "exists",
    "ls",
    "find",
    "rm_file",
    "open",
)


@pytest.fixture
def failing(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> Backend:
    """An object store whose every call fails with its library's own exception type."""
    if not backend.concurrent:
        pytest.skip("local and memory stores do not go through a backend library's calls")
    _ = backend.flat_blobs  # the layout is read before the store goes down

    def fail(*args: Any, **kw: Any) -> Any:
        raise SDKError("injected: the service is unavailable")

    async def afail(*args: Any, **kw: Any) -> Any:
        raise SDKError("injected: the service is unavailable")

    for name in _FS_CALLS:  # sync methods and the coroutines behind them
        monkeypatch.setattr(backend.fs, name, fail)
        monkeypatch.setattr(backend.fs, f"_{name}", afail, raising=False)
    # The one-request size lookups go below fsspec's info (see FsspecBackend._size_of).
    for name in ("_call_s3", "_get_object", "_lsdir", "_do_list_objects"):
        monkeypatch.setattr(backend.fs, name, afail, raising=False)
    if hasattr(backend.fs, "service_client"):
        monkeypatch.setattr(backend.fs, "service_client", _Failing())
    return backend


class _Failing:
    """An Azure service client whose every call fails."""

    def __getattr__(self, name: str) -> Any:
        raise SDKError("injected: the service is unavailable")


def test_backend_failures_are_store_errors_naming_key_and_store(failing: Backend, tmp_path: Path) -> None:
    local = tmp_path / "f.bin"
    local.write_bytes(b"x")
    digest = digest_of(b"x")
    calls: dict[str, Callable[[], object]] = {
        "read": lambda: failing.read("boom/k"),
        "read_first": lambda: failing.read_first("boom/k"),
        "read_many": lambda: failing.read_many(["boom/k"]),
        "read_heads": lambda: failing.read_heads({"boom/k": 1}),
        "sizes_below": lambda: failing.sizes_below(["boom"]),
        "existing": lambda: failing.existing(["boom/k"]),
        "sizes": lambda: failing.sizes(["boom/k"]),
        "exists": lambda: failing.exists("boom/k"),
        "size": lambda: failing.size("boom/k"),
        "listdir": lambda: failing.listdir("boom"),
        "walk": lambda: failing.walk("boom"),
        "open": lambda: failing.open("boom/k"),
        "open_sized": lambda: failing.open_sized("boom/k", 1),
        "write": lambda: failing.write("boom/k", b"x"),
        "create": lambda: failing.create("boom/k", b"x"),
        "write_many": lambda: failing.write_many({"boom/k": b"x"}),
        "put_file": lambda: failing.put_file(local, "boom/k"),
        "put_files": lambda: failing.put_files([(str(local), "boom/k")]),
        "upload_verified": lambda: failing.upload_verified(str(local), "boom/k", digest, 1),
        "delete": lambda: failing.delete("boom/k"),
    }
    for name, call in calls.items():
        with pytest.raises(StoreError) as info:
            call()
        message = str(info.value)
        assert "boom" in message and failing.url in message and "injected" in message, name


@pytest.fixture
def unusable(backend: Backend, tmp_path: Path) -> Backend:
    """A store whose root lies below a file: no key can be written there."""
    if backend.local_files:
        blocker = tmp_path / "blocker"
        blocker.write_text("a file, not a folder")
        return open_backend(str(blocker / "store"))
    if backend.concurrent:
        pytest.skip(
            "an object store has no path below which keys cannot be written: its failures are tested by "
            "test_backend_failures_are_store_errors_naming_key_and_store"
        )
    backend.write("blocker", b"a file, not a folder")
    return open_backend(f"{backend.url}/blocker/store")


def test_writes_below_an_unusable_root_are_store_errors(unusable: Backend, tmp_path: Path) -> None:
    local = tmp_path / "f.bin"
    local.write_bytes(b"x")
    calls: dict[str, Callable[[], object]] = {
        "write": lambda: unusable.write("k/x", b"x"),
        "create": lambda: unusable.create("k/x", b"x"),
        "write_many": lambda: unusable.write_many({"k/x": b"x"}),
        "put_file": lambda: unusable.put_file(local, "k/x"),
        "put_files": lambda: unusable.put_files([(str(local), "k/x")]),
        "upload_verified": lambda: unusable.upload_verified(str(local), "k/x", digest_of(b"x"), 1),
    }
    for name, call in calls.items():
        with pytest.raises(StoreError) as info:
            call()
        assert "k/x" in str(info.value) and unusable.url in str(info.value), name


# ---------------------------------------------------------------------- local-only primitives
def test_modified_is_the_files_modified_time(local: Backend) -> None:
    assert local.modified("m/absent") is None
    before = time.time()
    local.write("m/x", b"1")
    mtime = local.modified("m/x")
    assert mtime is not None and before - CLOCK_SLACK <= mtime <= time.time() + CLOCK_SLACK
    assert local.walk("m")["m/x"][1] == mtime


def test_refresh_keeps_a_blob_of_the_right_size_young(local: Backend) -> None:
    assert not local.refresh("r/absent", 1)
    local.write("r/blob", b"12345")
    old = time.time() - 7 * 86400
    os.utime(local.path("r/blob"), (old, old))  # as a blob written a week ago
    assert not local.refresh("r/blob", 4)  # another size: not re-used
    os.utime(local.path("r/blob"), (old, old))
    assert local.refresh("r/blob", 5)
    refreshed = local.modified("r/blob")
    assert refreshed is not None and refreshed > old + 86400
    assert local.read("r/blob") == b"12345"


def test_temp_path_adopt_and_discard(local: Backend) -> None:
    first, second = local.temp_path(), local.temp_path()
    assert first != second
    assert os.path.dirname(first) == local.path("tmp")  # inside the store: a rename, never a copy
    Path(first).write_bytes(b"streamed blob")
    assert local.listdir("tmp") == []  # in-flight temp files are never listed as names
    local.adopt(first, "a/blob")
    assert local.read("a/blob") == b"streamed blob" and not os.path.exists(first)
    # A key already there with the same size is kept (and refreshed); the caller discards its temp.
    Path(second).write_bytes(b"other bytes!!")
    local.adopt(second, "a/blob")
    assert local.read("a/blob") == b"streamed blob"
    local.discard(second)
    assert not os.path.exists(second)
    local.discard(second)  # already gone: not an error


def test_adopt_places_blobs_by_the_layout(local: Backend, laid_out: Backend) -> None:
    tmp = laid_out.temp_path()
    Path(tmp).write_bytes(b"adopted")
    laid_out.adopt(tmp, BLOBS[0])
    assert laid_out.read(BLOBS[0]) == b"adopted"
    assert laid_out.listdir("blobs/blake3/ab") == (hexes(BLOBS[:1]) if laid_out.flat_blobs else ["cd"])
    assert set(laid_out.walk("blobs")) == {BLOBS[0]}


# ---------------------------------------------------------------------- edges found by this suite
def test_open_sized_read_all_asks_one_request_per_block(
    backend: Backend, requests: Requests, monkeypatch: pytest.MonkeyPatch
) -> None:
    block = 64 << 10
    monkeypatch.setattr(storage, "UPLOAD_BLOCK", block)
    data = data_of(200_000, seed=3)
    backend.write("sized/all.bin", data)
    requests.sent.clear()
    with backend.open_sized("sized/all.bin", len(data)) as f:
        assert f.read() == data  # read() with no size: not one request per 8 KiB buffer
    if remote(backend):
        ranges = [r for method, url, r in requests.sent if method == "GET" and "all.bin" in url and r is not None]
        assert len(ranges) == math.ceil(len(data) / block)


def test_uploading_a_missing_local_file_names_the_file(backend: Backend, tmp_path: Path) -> None:
    gone = tmp_path / "gone.bin"
    for upload in (
        lambda: backend.put_file(gone, "up/one"),
        lambda: backend.put_files([(str(gone), "up/two")]),
    ):
        with pytest.raises(LocalPathNotFoundError, match=r"gone\.bin"):
            upload()
    assert backend.sizes(["up/one", "up/two"]) == {}


def test_listing_below_a_key_that_is_a_file_finds_nothing(backend: Backend) -> None:
    backend.write("leaf/file", b"x")
    backend.write("leaf/file2", b"y")
    assert backend.walk("leaf/file") == {}
    assert backend.sizes_below(["leaf/file"]) == {}
    assert set(backend.walk("leaf")) == {"leaf/file", "leaf/file2"}


def test_refresh_leaves_a_blob_of_another_size_alone(local: Backend) -> None:
    local.write("blobs/x/aged", b"four")
    old = time.time() - 3600
    os.utime(local.path("blobs/x/aged"), (old, old))
    assert not local.refresh("blobs/x/aged", 5)
    assert local.modified("blobs/x/aged") == pytest.approx(old)
    assert local.refresh("blobs/x/aged", 4)
    assert local.modified("blobs/x/aged") > old + 3000


def test_writing_to_a_bucket_that_does_not_exist_is_a_store_error(backend: Backend) -> None:
    if not remote(backend):
        pytest.skip("local folders and memory:// are made as they are written")
    scheme, _, rest = backend.url.partition("://")
    nowhere = open_backend(
        f"{scheme}://no-such-bucket-{os.getpid()}/{rest.partition('/')[2]}", **backend.storage_options
    )
    for write in (lambda: nowhere.write("k/x", b"x"), lambda: nowhere.create("k/y", b"y")):
        with pytest.raises(StoreError) as info:
            write()
        assert not isinstance(info.value, KeyNotFoundError) and nowhere.url in str(info.value)


def test_open_sized_asks_the_size_once(backend: Backend, requests: Requests) -> None:
    data = data_of(70_000, seed=5)
    backend.write("sized/once.bin", data)
    requests.sent.clear()
    with backend.open_sized("sized/once.bin", len(data)) as f:
        assert f.read() == data
    if remote(backend):
        unranged = [(m, u) for m, u, r in requests.sent if "once.bin" in u and r is None]
        assert len(unranged) == 1, unranged  # the size request; every read is a range


def test_local_only_primitives_elsewhere_name_the_store(backend: Backend) -> None:
    if backend.local_files:
        pytest.skip("a store of local files has them")
    for call in (
        backend.temp_path,
        lambda: backend.modified("k"),
        lambda: backend.adopt("/x", "k"),
        lambda: backend.discard("/x"),
    ):
        with pytest.raises(UnsupportedBackendError, match="store of local files") as info:
            call()
        assert backend.url in str(info.value)
    backend.write("aged/key", b"four")
    assert backend.refresh("aged/key", 4) and not backend.refresh("aged/key", 5)  # refresh works everywhere
