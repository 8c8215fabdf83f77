"""Small-file packs, on every backend: many small files are stored as packs and read back by
range. Packed versions survive gc, verify, copy, and deletion followed by gc and logging again."""

from __future__ import annotations

import datetime as dt
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs import layout, packs
from artifactfs.errors import IntegrityError
from tests.conftest import drop_memory
from tests.reads import fresh, log, reading
from tests.timeouts import HANG

CRASH_GC = Path(__file__).with_name("crash_gc.py")

FILES = 300  # several packs' worth of entries would need 32 MiB: one pack, many files


def tree(root: Path, n: int = FILES, tag: str = "") -> Path:
    for i in range(n):
        (root / f"d{i % 5}").mkdir(parents=True, exist_ok=True)
        (root / f"d{i % 5}" / f"f{i:04d}.txt").write_text(f"{tag}file {i}\n" * (i % 40 + 1))
    return root


@pytest.fixture
def memory_url() -> Iterator[str]:
    root = f"memory://artifactfs-packs-{uuid.uuid4().hex}"
    yield root
    drop_memory(root)


def pack_keys(store: afs.Store) -> set[str]:
    return set(store.backend.walk("packs"))


def test_small_files_are_packed(store_url: str, tmp_path: Path) -> None:
    src = tree(tmp_path / "src")
    log(store_url, src)
    store = fresh(store_url, tmp_path / "cache")
    assert store.format == 3  # older releases refuse a store holding packs
    keys = pack_keys(store)
    assert {k.rsplit(".", 1)[1] for k in keys} == {"pack", "index"} and len(keys) == 2
    assert not store.backend.walk("blobs")  # every file is in the pack
    art = store.artifact("p/ds:latest")
    assert all(e.where is not None for e in art.entries.values())
    out = Path(art.download(tmp_path / "out"))
    for p in src.rglob("*.txt"):
        assert (out / p.relative_to(src)).read_bytes() == p.read_bytes()
    assert store.verify(deep=True) == []


def test_one_packed_file_is_one_ranged_read(store_url: str, tmp_path: Path) -> None:
    src = tree(tmp_path / "src")
    log(store_url, src)
    store = fresh(store_url, tmp_path / "cache")
    seen = reading(store.backend)
    art = store.artifact("p/ds:latest")
    target = "d2/f0137.txt"
    assert Path(art.get_path(target, root=tmp_path / "one")).read_bytes() == (src / target).read_bytes()
    data_reads = [k for k in seen.keys if k.startswith(("packs/", "blobs/"))]
    pack = art.get_entry(target).where
    assert pack is not None and data_reads == [layout.pack(pack.pack)]  # no index read, one range
    assert seen.by_key[layout.pack(pack.pack)] == pack.length  # its bytes alone


def test_a_packed_file_is_never_sent_again(store_url: str, tmp_path: Path) -> None:
    src = tree(tmp_path / "src")
    log(store_url, src)
    store = fresh(store_url, tmp_path / "cache")
    before = pack_keys(store)
    for i in range(3):
        (src / "new").mkdir(exist_ok=True)
        (src / "new" / f"{i}.txt").write_text(f"new {i}")
    (src / "d1" / "f0001.txt").write_text("changed")
    again = log(store, src)
    assert again.version == "v1"
    assert pack_keys(fresh(store_url, tmp_path / "cache")) == before  # the pack is not sent again
    other = log(store, src, "copy-of-ds")  # the same files under another name: nothing sent
    assert pack_keys(store) == before and other.version == "v0"
    out = Path(fresh(store_url, tmp_path / "cache2").artifact("p/copy-of-ds:v0").download(tmp_path / "out"))
    assert (out / "d1" / "f0001.txt").read_text() == "changed" and (out / "new" / "2.txt").read_text() == "new 2"


def test_packed_files_survive_gc_and_verify(store_url: str, tmp_path: Path) -> None:
    src = tree(tmp_path / "src")
    log(store_url, src)
    store = fresh(store_url, tmp_path / "cache")
    before = pack_keys(store)
    report = store.gc(grace=dt.timedelta(0), dry_run=False)
    assert report.packs == 0 and pack_keys(store) == before
    assert store.verify(deep=True) == []
    out = Path(fresh(store_url, tmp_path / "c2").artifact("p/ds:latest").download(tmp_path / "out"))
    assert (out / "d4" / "f0299.txt").read_bytes() == (src / "d4" / "f0299.txt").read_bytes()


def _packed(store_url: str, tmp_path: Path) -> tuple[afs.Artifact, afs.Store]:
    """A version logged with packs, and its store as a new process opens it."""
    logged = log(store_url, tree(tmp_path / "src"))
    return logged, fresh(store_url, tmp_path / "cache")


def test_a_damaged_pack_is_named(store_url: str, tmp_path: Path) -> None:
    logged, store = _packed(store_url, tmp_path)
    where = logged.get_entry("d3/f0008.txt").where
    assert where is not None
    key = layout.pack(where.pack)
    data = bytearray(store.backend.read(key))
    data[where.offset] ^= 0xFF
    store.backend.write(key, bytes(data))
    problems = store.verify(deep=True)
    assert [(p.kind, p.key) for p in problems] == [("digest", key)] and "d3/f0008.txt" in problems[0].message
    with pytest.raises(IntegrityError, match=r"d3/f0008\.txt"):
        fresh(store_url, tmp_path / "c2").artifact("p/ds:latest").get_path("d3/f0008.txt", root=tmp_path / "x")


def test_delete_gc_and_log_again(store_url: str, tmp_path: Path) -> None:
    src = tree(tmp_path / "src")
    log(store_url, src)
    store = fresh(store_url, tmp_path / "cache")
    before = pack_keys(store)
    store.delete_version("p/ds:v0")
    report = store.gc(grace=dt.timedelta(0), dry_run=False)
    assert not pack_keys(store) and report.packs == len([k for k in before if k.endswith(".pack")])
    again = log(fresh(store_url, tmp_path / "cache"), src)
    assert again.version == "v1"
    store = fresh(store_url, tmp_path / "cache2")
    assert store.verify(deep=True) == []
    out = Path(store.artifact("p/ds:v1").download(tmp_path / "out"))
    assert (out / "d0" / "f0005.txt").read_bytes() == (src / "d0" / "f0005.txt").read_bytes()


@pytest.mark.parametrize("dst_kind", ["local", "memory"])
def test_a_packed_version_copies_to_another_store(
    store_url: str, tmp_path: Path, dst_kind: str, memory_url: str
) -> None:
    src = tree(tmp_path / "src")
    logged = log(store_url, src)
    dst = str(tmp_path / "dst") if dst_kind == "local" else memory_url
    report = afs.copy("p/ds:latest", store_url, dst)
    assert report.new_versions == 1 and report.blobs == FILES
    copied = fresh(dst, tmp_path / "cache").artifact("p/ds:latest")
    assert copied.manifest_digest == logged.manifest_digest
    out = Path(copied.download(tmp_path / "out"))
    assert (out / "d2" / "f0017.txt").read_bytes() == (src / "d2" / "f0017.txt").read_bytes()
    assert fresh(dst, tmp_path / "cache").verify(deep=True) == []
    assert afs.copy("p/ds:latest", store_url, dst).blobs == 0  # nothing sent twice
    target = fresh(dst, tmp_path / "cache")
    assert not target.backend.walk("blobs") and pack_keys(target)  # re-packed in the destination
    report = target.gc(grace=dt.timedelta(0), dry_run=False)
    assert report.blobs == report.packs == 0  # the copied files are live in the destination
    out = Path(fresh(dst, tmp_path / "cache3").artifact("p/ds:latest").download(tmp_path / "again"))
    assert (out / "d4" / "f0299.txt").read_bytes() == (src / "d4" / "f0299.txt").read_bytes()


def test_a_copy_reuses_the_destinations_own_packs(store_url: str, tmp_path: Path, memory_url: str) -> None:
    """The destination already holds the files, in packs of its own: nothing is sent, and the
    copied version (whose manifest names the source's packs) reads them from there, through
    gc and the deletion of the version that brought them."""
    src = tree(tmp_path / "src")
    log(store_url, src)
    (src / "extra.txt").write_text("makes the destination's pack another one")
    log(memory_url, src, "other")
    report = afs.copy("p/ds:latest", store_url, memory_url)
    assert report.new_versions == 1 and report.blobs == 0
    target = fresh(memory_url, tmp_path / "cache")
    target.delete_version("p/other:v0")
    target.gc(grace=dt.timedelta(0), dry_run=False)
    assert pack_keys(target)  # kept: the copied version's files are in it
    assert fresh(memory_url, tmp_path / "cache").verify(deep=True) == []
    out = Path(fresh(memory_url, tmp_path / "c2").artifact("p/ds:latest").download(tmp_path / "out"))
    for p in src.rglob("f*.txt"):
        assert (out / p.relative_to(src)).read_bytes() == p.read_bytes()


def test_few_or_large_files_stay_single_blobs(store_url: str, tmp_path: Path) -> None:
    src = tree(tmp_path / "src", packs.PACK_MIN - 1)
    (src / "big.bin").write_bytes(b"x" * packs.PACK_FILE_MAX)
    logged = log(store_url, src)
    assert all(e.where is None for e in logged.entries.values())
    store = fresh(store_url, tmp_path / "cache")
    assert not pack_keys(store) and store.format == 2


def test_a_bucket_copied_to_a_folder_reads_as_a_local_store(store_url: str, tmp_path: Path) -> None:
    """A store synced from a bucket to a folder (gsutil rsync, aws s3 sync) keeps its packs."""
    src = tree(tmp_path / "src")
    log(store_url, src)
    remote = fresh(store_url, tmp_path / "cache")
    folder = tmp_path / "synced"
    root = remote.backend.path(layout.DESCRIPTOR).removesuffix(layout.DESCRIPTOR)
    for key in remote.backend.walk(""):
        where = folder / remote.backend.path(key).removeprefix(root)  # as the files lie in the bucket
        where.parent.mkdir(parents=True, exist_ok=True)
        where.write_bytes(remote.backend.read(key))
    local = fresh(str(folder), tmp_path / "cache2")
    assert local.verify(deep=True) == []
    assert local.gc(grace=dt.timedelta(0), dry_run=False).count == 0
    out = Path(local.artifact("p/ds:latest").download(tmp_path / "out"))
    for p in src.rglob("*.txt"):
        assert (out / p.relative_to(src)).read_bytes() == p.read_bytes()
    one = local.artifact("p/ds:latest").get_path("d1/f0006.txt", root=tmp_path / "one")
    assert Path(one).read_bytes() == (src / "d1" / "f0006.txt").read_bytes()


def _mostly_garbage(store_url: str, tmp_path: Path) -> tuple[Path, set[str]]:
    """v0 of 300 files (one pack), v1 of 30 of them (the same pack), v0 deleted: the pack is
    a tenth live. Returns the folder v1 was logged from and the pack keys."""
    src = tree(tmp_path / "src")
    log(store_url, src)
    keep = tmp_path / "keep"
    for p in sorted(src.rglob("*.txt"))[:30]:
        (keep / p.relative_to(src)).parent.mkdir(parents=True, exist_ok=True)
        (keep / p.relative_to(src)).write_bytes(p.read_bytes())
    assert log(store_url, keep).version == "v1"
    store = fresh(store_url, tmp_path / "cache")
    store.delete_version("p/ds:v0")
    return keep, pack_keys(store)


def test_gc_repacks_a_pack_that_is_mostly_garbage(store_url: str, tmp_path: Path) -> None:
    keep, before = _mostly_garbage(store_url, tmp_path)
    store = fresh(store_url, tmp_path / "cache")
    assert store.gc(grace=dt.timedelta(0)).repacked == 1  # a dry run says so, and does nothing
    assert pack_keys(store) == before
    old_size = store.backend.size(next(k for k in before if k.endswith(".pack")))
    report = store.gc(grace=dt.timedelta(0), dry_run=False)
    assert report.repacked == 1
    after = pack_keys(store)
    old = {k for k in before if k.endswith(".pack")}
    assert not old & after and {k.rsplit(".", 1)[1] for k in after} == {"pack", "index", "moved"}
    new_pack = next(k for k in after if k.endswith(".pack"))
    assert store.backend.size(new_pack) < old_size / 5
    # v1's manifest still names the old pack: its files are read through the forwarding record.
    reader = fresh(store_url, tmp_path / "cache2")
    assert reader.verify(deep=True) == []
    out = Path(reader.artifact("p/ds:v1").download(tmp_path / "out"))
    for p in keep.rglob("*.txt"):
        assert (out / p.relative_to(keep)).read_bytes() == p.read_bytes()
    assert reader.gc(grace=dt.timedelta(0), dry_run=False).count == 0  # nothing left to free
    # The moved files are found packed by the next commit: nothing is sent again.
    assert log(reader, keep, "again").version == "v0" and pack_keys(reader) == after


@pytest.mark.parametrize("point", ["new-pack", "moved", "delete-index", "delete-pack"])
def test_a_gc_killed_while_repacking_loses_nothing(shared_store_url: str, tmp_path: Path, point: str) -> None:
    if "://" not in shared_store_url:
        return  # a local store has no packs to repack
    keep, before = _mostly_garbage(shared_store_url, tmp_path)
    killed = subprocess.run(
        [sys.executable, str(CRASH_GC), shared_store_url, point], capture_output=True, text=True, timeout=HANG
    )
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr[-3000:]
    store = fresh(shared_store_url, tmp_path / "cache")
    assert store.verify(deep=True) == []
    out = Path(store.artifact("p/ds:v1").download(tmp_path / "out"))
    assert all((out / p.relative_to(keep)).read_bytes() == p.read_bytes() for p in keep.rglob("*.txt"))
    assert store.gc(grace=dt.timedelta(0), dry_run=False).deferred == 0  # a later gc finishes the work
    store = fresh(shared_store_url, tmp_path / "cache2")
    assert store.verify(deep=True) == [] and not {k for k in before if k.endswith(".pack")} & pack_keys(store)
    out = Path(store.artifact("p/ds:v1").download(tmp_path / "out2"))
    assert all((out / p.relative_to(keep)).read_bytes() == p.read_bytes() for p in keep.rglob("*.txt"))


def test_a_process_forgets_packs_gc_collected(store_url: str, tmp_path: Path) -> None:
    """The same store object logs, deletes, collects and logs the same files again: what it
    learnt about the first pack must not be trusted after gc removed it."""
    src = tree(tmp_path / "src")
    store = fresh(store_url, tmp_path / "cache")
    log(store, src)
    log(store, src, "same")  # found packed: this process has read the pack's index
    store.delete_version("p/ds:v0")
    store.delete_version("p/same:v0")
    store.gc(grace=dt.timedelta(0), dry_run=False)
    assert not pack_keys(store)
    again = log(store, src)
    assert again.version == "v1" and store.verify(deep=True) == []
    out = Path(fresh(store_url, tmp_path / "c2").artifact("p/ds:v1").download(tmp_path / "out"))
    assert (out / "d2" / "f0007.txt").read_bytes() == (src / "d2" / "f0007.txt").read_bytes()


def test_a_truncated_pack_is_named(store_url: str, tmp_path: Path) -> None:
    logged, store = _packed(store_url, tmp_path)
    last = max(logged.entries.values(), key=lambda e: e.where.offset if e.where else -1)
    assert last.where is not None
    key = layout.pack(last.where.pack)
    store.backend.write(key, store.backend.read(key)[: last.where.offset + 1])
    problems = store.verify()
    assert ("size", key) in {(p.kind, p.key) for p in problems} and last.path in str(problems)
    with pytest.raises(IntegrityError, match=re.escape(key)):
        fresh(store_url, tmp_path / "c2").artifact("p/ds:latest").get_path(last.path, root=tmp_path / "x")


def test_tables_stay_single_blobs_beside_packed_files(store_url: str, tmp_path: Path) -> None:
    """A small table is read by range and verified by block: it is not packed with the small
    files beside it, nor found in a pack that holds its bytes as a file."""
    import pandas as pd

    df = pd.DataFrame({"x": range(50), "y": [f"row {i}" for i in range(50)]})
    src = tree(tmp_path / "src", 40)
    afs.Table(dataframe=df).write_parquet(src / "same.parquet")  # the bytes a Table of df is stored as
    log(store_url, src, "files")  # ... logged first as a small file, in a pack
    with afs.init(project="p", store=store_url) as run:
        art = afs.Artifact("with-table", type="dataset")
        art.add_dir(tree(tmp_path / "more", 40, tag="more "))
        art.add(afs.Table(dataframe=df.iloc[:30]), name="fresh")
        art.add(afs.Table(dataframe=df), name="same")
        logged = run.log_artifact(art)
    assert logged.get_entry("d0/f0005.txt").where is not None
    assert logged.get_entry("fresh.parquet").where is None  # new: a single blob
    assert logged.get_entry("same.parquet").where is None  # sent as a single blob all the same
    reader = fresh(store_url, tmp_path / "cache").artifact("p/with-table:v0")
    pd.testing.assert_frame_equal(reader.get_table("fresh").dataframe(), df.iloc[:30], check_index_type=False)
    pd.testing.assert_frame_equal(reader.get_table("same").dataframe(), df, check_index_type=False)


def test_a_copy_packs_only_what_the_manifest_places_in_packs(store_url: str, tmp_path: Path, memory_url: str) -> None:
    """Files that were single blobs in the source, and tables, stay single in the destination:
    a reader looks for a pack only where the manifest gives a location."""
    import pandas as pd

    src = tmp_path / "src"
    for half in range(2):  # fewer than 16 new small files each time: single blobs
        tree(src / f"h{half}", 10, tag=f"{half} ")
        log(store_url, src / f"h{half}", f"half{half}")
    with afs.init(project="p", store=store_url) as run:
        art = afs.Artifact("all", type="dataset")
        art.add_dir(src)  # 20 small files, every one a single blob already
        art.add(afs.Table(dataframe=pd.DataFrame({"x": range(5)})), name="t")
        run.log_artifact(art)
    assert not any(e.where for e in fresh(store_url, tmp_path / "c0").artifact("p/all:v0").entries.values())
    afs.copy("p/all:v0", store_url, memory_url)
    copied = fresh(memory_url, tmp_path / "c1").artifact("p/all:v0")
    out = Path(copied.download(tmp_path / "out"))
    assert (out / "h1" / "d3" / "f0008.txt").read_text() == "1 file 8\n" * 9
    assert copied.get_table("t").num_rows == 5
    assert fresh(memory_url, tmp_path / "c2").verify(deep=True) == []
