"""Purging a file's bytes (a secret logged by mistake), on every backend: single blobs and
packed ones leave the store and this machine's cache, an audit record says what, when, by
whom and why, and every version that held them shows them purged: verify is clean, a
download skips them with a warning, reading one raises PurgedError; purging again, after a
crash or not, finishes the work; copy and gc keep working."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import artifactfs as afs
from artifactfs import layout
from artifactfs.annotation import current_user
from artifactfs.errors import (
    EntryNotFoundError,
    FormatError,
    InvalidInputError,
    MisplacedRecordError,
    NotFoundError,
    PurgedError,
    PurgedWarning,
    StoreError,
)
from artifactfs.hashing import Digest, hash_bytes
from artifactfs.markers import PurgeRecord
from artifactfs.packs import PackMoved
from tests.conftest import drop_memory, snapshot
from tests.reads import fresh

SECRET = b"AWS_SECRET_ACCESS_KEY=" + uuid.uuid4().hex.encode() * 8 + b"\n"


def tree(root: Path, n: int) -> Path:
    """``n`` small files of distinct content, and ``config/.env`` holding the secret."""
    for i in range(n):
        (root / f"d{i % 3}").mkdir(parents=True, exist_ok=True)
        (root / f"d{i % 3}" / f"f{i:03d}.txt").write_text(f"file {i}\n" * (i % 20 + 1))
    (root / "config").mkdir(parents=True, exist_ok=True)
    (root / "config" / ".env").write_bytes(SECRET)
    return root


def logged(store: afs.Store | str, folder: Path, name: str = "ds", **more: object) -> afs.Artifact:
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact(name, type="dataset")
        art.add_dir(folder)
        for entry_name, obj in more.items():
            if isinstance(obj, afs.Table):
                art.add(obj, entry_name)
            else:
                art.add_reference(str(obj), name=entry_name)
        return run.log_artifact(art)


def no_secret_left(store: afs.Store, *folders: Path) -> None:
    """No object of the store, and no file under ``folders``, holds the secret's bytes."""
    keys = list(store.backend.walk(""))
    for key, data in store.backend.read_many(keys).items():
        assert SECRET not in (data or b""), key
    for folder in folders:
        for root, _, names in os.walk(folder):
            for name in names:
                assert SECRET not in Path(root, name).read_bytes(), os.path.join(root, name)


@pytest.fixture(params=["single", "packed"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def secret_version(store_url: str, tmp_path: Path, kind: str) -> tuple[afs.Store, Path]:
    """p/ds:v0 holding the secret as a single blob (few files) or in a pack (many), read
    once into this machine's cache; the store as a new process opens it."""
    src = tree(tmp_path / "src", 40 if kind == "packed" else 3)
    art = logged(store_url, src)
    assert (art.get_entry("config/.env").where is not None) == (kind == "packed")
    store = fresh(store_url, tmp_path / "cache")
    store.artifact("p/ds:v0").download(tmp_path / "before")
    return store, src


def test_purge_removes_the_bytes_and_every_version_shows_them_purged(store_url: str, tmp_path: Path, kind: str) -> None:
    store, src = secret_version(store_url, tmp_path, kind)
    assert store.cache.has(hash_bytes(SECRET))
    report = store.purge("p/ds:v0", "config/.env", reason="credentials committed by mistake")
    digest = hash_bytes(SECRET)
    assert (report.digest, report.size, report.path, report.ref) == (str(digest), len(SECRET), "config/.env", "p/ds:v0")
    assert report.versions == ["p/ds:v0"] and report.holders == [("p/ds:v0", "config/.env")]
    assert report.packed == (kind == "packed") and report.single == (kind == "single") and report.cached
    assert not report.already_purged and not report.dry_run
    if kind == "packed":
        old = report.packs[0]
        assert old in report.deleted and old.removesuffix(".pack") + ".moved" in report.written
    else:
        assert report.deleted == [layout.blob(digest)]

    no_secret_left(store, tmp_path / "cache")
    assert not store.cache.has(digest)

    # The audit record: what, through which version and path, when, by whom, why.
    key = layout.purge_record(digest)
    assert key in report.written
    record = PurgeRecord.from_bytes(store.backend.read(key), key, digest=digest)
    assert (record.ref, record.path, record.size) == ("p/ds:v0", "config/.env", len(SECRET))
    assert record.reason == "credentials committed by mistake" and record.user == current_user()
    assert dt.datetime.fromisoformat(record.purged_at) <= dt.datetime.now(dt.UTC)
    assert report.record == record and store.purges() == [record]

    # A new process: verify is clean, the version lists the file purged, a download writes
    # every other file (exact) and warns, reading the file raises.
    again = fresh(store_url, tmp_path / "cache2")
    assert again.verify() == [] and again.verify(deep=True) == []
    art = again.artifact("p/ds:v0")
    assert art.purged == ["config/.env"] and "config/.env" in art.entries
    with pytest.warns(PurgedWarning, match=r"config/\.env") as caught:
        out = Path(art.download(tmp_path / "after"))
    assert caught[0].message.paths == ("config/.env",)  # type: ignore[union-attr]
    assert not (out / "config" / ".env").exists()
    for p in src.rglob("*.txt"):
        assert (out / p.relative_to(src)).read_bytes() == p.read_bytes()
    with pytest.raises(PurgedError, match="credentials committed by mistake") as err:
        art.get_path("config/.env", root=tmp_path / "one")
    assert err.value.path == "config/.env" and err.value.purged_at == record.purged_at
    assert isinstance(err.value, NotFoundError)
    with pytest.raises(PurgedError):
        art.get("config/.env")


def test_a_partial_download_of_the_other_files_does_not_warn(store_url: str, tmp_path: Path) -> None:
    store, src = secret_version(store_url, tmp_path, "single")
    store.purge("p/ds:v0", "config/.env")
    out = Path(fresh(store_url, tmp_path / "c2").artifact("p/ds:v0").download(tmp_path / "o", path_prefix="d0/"))
    assert (out / "d0" / "f000.txt").read_bytes() == (src / "d0" / "f000.txt").read_bytes()


def test_a_checkout_places_the_other_files(store_url: str, tmp_path: Path) -> None:
    store, src = secret_version(store_url, tmp_path, "single")
    store.purge("p/ds:v0", "config/.env")
    folder = tmp_path / "co"
    (folder / "config").mkdir(parents=True)
    (folder / "config" / "stale.txt").write_text("extra")
    with pytest.warns(PurgedWarning, match=r"config/\.env"):
        fresh(store_url, tmp_path / "c2").artifact("p/ds:v0").checkout(folder)
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == [
        "d0/f000.txt",
        "d1/f001.txt",
        "d2/f002.txt",
    ]
    assert (folder / "d2" / "f002.txt").read_bytes() == (src / "d2" / "f002.txt").read_bytes()


def test_verify_decodes_a_forwarding_record_once(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a purge every other file of the pack is read through its forwarding record: it
    is decoded once, not once per file (a pack holds thousands: that was quadratic)."""
    store, _ = secret_version(store_url, tmp_path, "packed")
    store.purge("p/ds:v0", "config/.env")
    decoded = []
    original = PackMoved.from_bytes.__func__  # type: ignore[attr-defined]

    def counted(cls: type[PackMoved], *args: object, **kw: object) -> PackMoved:
        decoded.append(args[1])
        return original(cls, *args, **kw)  # type: ignore[no-any-return]

    monkeypatch.setattr(PackMoved, "from_bytes", classmethod(counted))
    assert fresh(store_url, tmp_path / "c2").verify(deep=True) == []
    assert len(decoded) == 1


def test_a_healthy_store_reads_no_purge_record(store_url: str, tmp_path: Path) -> None:
    store, _ = secret_version(store_url, tmp_path, "packed")
    asked: list[str] = []
    backend = store.backend
    listdir, read_many, read = backend.listdir, backend.read_many, backend.read
    backend.listdir = lambda prefix: asked.append(prefix) or listdir(prefix)  # type: ignore[method-assign,func-returns-value]
    backend.read_many = lambda keys: read_many([k for k in keys if not asked.append(k)])  # type: ignore[method-assign,func-returns-value]
    backend.read = lambda key: asked.append(key) or read(key)  # type: ignore[method-assign,func-returns-value]
    assert store.verify(deep=True) == []
    store.artifact("p/ds:v0").download(tmp_path / "o")
    assert asked and not [k for k in asked if k.startswith("purged")]


@pytest.mark.parametrize(
    ("kind", "step"),
    [("single", "before-deleting"), ("packed", "before-deleting"), ("packed", "between-pack-and-index")],
)
def test_a_purge_killed_halfway_is_finished_by_the_next(
    store_url: str, tmp_path: Path, kind: str, step: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _ = secret_version(store_url, tmp_path, kind)
    delete = store.backend.delete

    def killed(key: str) -> None:
        if not key.startswith("locks/") and (step == "before-deleting" or key.endswith(".index")):
            raise StoreError(f"killed while deleting {key}")
        delete(key)

    monkeypatch.setattr(store.backend, "delete", killed)
    with pytest.raises(StoreError, match="killed"):
        store.purge("p/ds:v0", "config/.env", reason="leak")
    monkeypatch.setattr(store.backend, "delete", delete)
    key = layout.purge_record(hash_bytes(SECRET))
    first = PurgeRecord.from_bytes(store.backend.read(key), key, digest=hash_bytes(SECRET))
    # Left halfway, the store is consistent: every other file reads, verify is clean.
    assert fresh(store_url, tmp_path / "c2").verify(deep=True) == []
    report = fresh(store_url, tmp_path / "cache").purge("p/ds:v0", "config/.env", reason="another reason")
    assert report.already_purged and report.record == first  # the first purge's record stands
    assert report.deleted and key not in report.written
    no_secret_left(store, tmp_path / "cache")
    again = fresh(store_url, tmp_path / "c3")
    assert again.verify(deep=True) == []
    with pytest.warns(PurgedWarning):
        out = Path(again.artifact("p/ds:v0").download(tmp_path / "o"))
    assert (out / "d1" / "f001.txt").read_text() == "file 1\n" * 2


def test_a_purge_that_failed_can_run_again_at_once(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every deletion failed, gc's lock's included: the lock left behind is this process's own,
    which no longer holds it, so it stops nothing (a killed process's is dead as well)."""
    store, _ = secret_version(store_url, tmp_path, "single")
    delete = store.backend.delete

    def unreachable(key: str) -> None:
        raise StoreError(f"cannot reach the store to delete {key}")

    monkeypatch.setattr(store.backend, "delete", unreachable)
    with pytest.raises(StoreError, match="cannot reach"):
        store.purge("p/ds:v0", "config/.env")
    monkeypatch.setattr(store.backend, "delete", delete)
    assert store.backend.listdir(layout.gc_locks_dir())  # left behind
    assert store.purge("p/ds:v0", "config/.env").already_purged
    no_secret_left(store)
    assert store.gc(grace=dt.timedelta(0), dry_run=False).deferred == 0


def test_purging_twice_reports_it_done(store_url: str, tmp_path: Path, kind: str) -> None:
    store, _ = secret_version(store_url, tmp_path, kind)
    first = store.purge("p/ds:v0", "config/.env")
    before = snapshot(store)
    second = fresh(store_url, tmp_path / "c2").purge("p/ds:v0", "config/.env", reason="again")
    assert second.already_purged and second.record == first.record and second.record.reason is None
    assert second.deleted == [] and second.written == [] and not second.found
    assert {k: v for k, v in snapshot(store).items() if not k.startswith("locks/")} == before


def test_a_dry_run_changes_nothing(store_url: str, tmp_path: Path, kind: str) -> None:
    store, _ = secret_version(store_url, tmp_path, kind)
    before = snapshot(store)
    report = store.purge("p/ds:v0", "config/.env", dry_run=True)
    assert (
        report.dry_run
        and report.found
        and report.deleted
        and report.written == [layout.purge_record(hash_bytes(SECRET))]
    )
    assert snapshot(store) == before and store.cache.has(hash_bytes(SECRET))


def test_the_bytes_go_from_every_version_holding_them(store_url: str, tmp_path: Path) -> None:
    logged(store_url, tree(tmp_path / "a", 3))
    other = tmp_path / "b"
    (other / "keys").mkdir(parents=True)
    (other / "keys" / "copy.env").write_bytes(SECRET)
    (other / "notes.txt").write_text("notes")
    logged(store_url, other, "other")
    store = fresh(store_url, tmp_path / "cache")
    report = store.purge("p/other:v0", "keys/copy.env")
    assert report.holders == [("p/ds:v0", "config/.env"), ("p/other:v0", "keys/copy.env")]
    assert report.versions == ["p/ds:v0", "p/other:v0"]
    no_secret_left(store)
    assert store.artifact("p/ds:v0").purged == ["config/.env"]
    with pytest.raises(PurgedError, match=r"p/ds:v0 entry 'config/\.env'"):
        store.artifact("p/ds:v0").get_path("config/.env", root=tmp_path / "x")
    assert store.verify() == []


def test_a_purged_table_raises_when_read(store_url: str, tmp_path: Path) -> None:
    frame = pd.DataFrame({"email": ["a@example.com", "b@example.com"], "n": [1, 2]})
    logged(store_url, tree(tmp_path / "src", 2), people=afs.Table(dataframe=frame))
    store = fresh(store_url, tmp_path / "cache")
    assert store.purge("p/ds:v0", "people").path == "people.parquet"  # (".parquet" may be left off)
    with pytest.raises(PurgedError, match=r"people\.parquet"):
        fresh(store_url, tmp_path / "c2").artifact("p/ds:v0").get_table("people").dataframe()
    assert store.verify(deep=True) == []


def test_what_cannot_be_purged_is_refused(store_url: str, tmp_path: Path) -> None:
    ext = tmp_path / "outside.bin"
    ext.write_bytes(b"outside the store")
    src = tree(tmp_path / "src", 3)
    (src / "empty.txt").write_bytes(b"")
    logged(store_url, src, **{"ext.bin": ext.as_uri()})
    store = fresh(store_url, tmp_path / "cache")
    before = snapshot(store)
    with pytest.raises(EntryNotFoundError, match=r"no file 'config/env'.*did you mean 'config/\.env'"):
        store.purge("p/ds:v0", "config/env")
    with pytest.raises(InvalidInputError, match="is a folder"):
        store.purge("p/ds:v0", "config")
    with pytest.raises(InvalidInputError, match="reference"):
        store.purge("p/ds:v0", "ext.bin")
    with pytest.raises(InvalidInputError, match="empty"):
        store.purge("p/ds:v0", "empty.txt")
    with pytest.raises(InvalidInputError, match="reason"):
        store.purge("p/ds:v0", "config/.env", reason="x" * 5000)
    with pytest.raises(afs.errors.ArtifactNotFoundError):
        store.purge("p/ds:v9", "config/.env")
    assert snapshot(store) == before


@pytest.fixture
def memory_url() -> Iterator[str]:
    root = f"memory://artifactfs-purge-{uuid.uuid4().hex}"
    yield root
    drop_memory(root)


def test_a_copy_carries_the_purge_over(store_url: str, tmp_path: Path, kind: str, memory_url: str) -> None:
    store, src = secret_version(store_url, tmp_path, kind)
    store.purge("p/ds:v0", "config/.env", reason="leak")
    report = afs.copy("p/ds:v0", store_url, memory_url)
    assert report.versions == ["p/ds:v0"] and report.purged == ["p/ds:v0: config/.env"]
    dst = fresh(memory_url, tmp_path / "c2")
    assert dst.verify(deep=True) == []
    no_secret_left(dst)
    art = dst.artifact("p/ds:v0")
    assert art.purged == ["config/.env"]
    with pytest.warns(PurgedWarning):
        out = Path(art.download(tmp_path / "o"))
    assert (out / "d2" / "f002.txt").read_bytes() == (src / "d2" / "f002.txt").read_bytes()
    with pytest.raises(PurgedError, match="leak"):
        art.get_path("config/.env", root=tmp_path / "x")
    assert afs.copy("p/ds:v0", store_url, memory_url).new_versions == 0  # copying again: nothing new


def test_gc_after_a_purge(store_url: str, tmp_path: Path, kind: str) -> None:
    store, src = secret_version(store_url, tmp_path, kind)
    store.purge("p/ds:v0", "config/.env")
    report = store.gc(grace=dt.timedelta(0), dry_run=False)
    assert report.deferred == 0 and report.blobs == 0
    again = fresh(store_url, tmp_path / "c2")
    assert again.verify(deep=True) == []
    with pytest.warns(PurgedWarning):
        out = Path(again.artifact("p/ds:v0").download(tmp_path / "o"))
    assert (out / "d0" / "f000.txt").read_bytes() == (src / "d0" / "f000.txt").read_bytes()
    again.delete_version("p/ds:v0")
    freed = again.gc(grace=dt.timedelta(0), dry_run=False)
    assert not again.backend.walk("blobs") and not again.backend.walk("packs") and freed.count
    assert again.backend.walk("purged")  # the audit record stays


def test_a_blob_missing_without_a_purge_is_still_a_problem(store_url: str, tmp_path: Path) -> None:
    store, _ = secret_version(store_url, tmp_path, "single")
    store.purge("p/ds:v0", "config/.env")
    lost = store.artifact("p/ds:v0").get_entry("d1/f001.txt")
    assert lost.digest is not None
    store.backend.delete(layout.blob(lost.digest))
    problems = fresh(store_url, tmp_path / "c2").verify()
    assert [(p.kind, p.key) for p in problems] == [("missing", layout.blob(lost.digest))]
    with pytest.raises(afs.errors.IntegrityError, match="missing"):
        fresh(store_url, tmp_path / "c3").artifact("p/ds:v0").download(tmp_path / "o")


def test_a_purge_record_is_decoded_defensively() -> None:
    d = hash_bytes(SECRET)
    rec = PurgeRecord(d, 10, "p", "ds", 0, "config/.env", "2024-01-01T00:00:00+00:00", "alice", "leak")
    assert PurgeRecord.from_bytes(rec.to_bytes(), "r", digest=d) == rec
    with pytest.raises(MisplacedRecordError):
        PurgeRecord.from_bytes(rec.to_bytes(), "r", digest=Digest(d.algorithm, "0" * 64))
    bad = [
        PurgeRecord(d, 10, "p", "ds", 0, "../etc/passwd", "2024-01-01T00:00:00+00:00").to_bytes(),
        PurgeRecord(d, 10, "p", "ds", 0, "a", "yesterday").to_bytes(),
        PurgeRecord(d, 10, "p", "../x", 0, "a", "2024-01-01T00:00:00+00:00").to_bytes(),
        b"\x93\x01\x02\x03",
        b"\x00" * (64 << 10),
    ]
    for data in bad:
        with pytest.raises(FormatError):
            PurgeRecord.from_bytes(data, "r", digest=d)
    with pytest.raises(InvalidInputError):
        PurgeRecord(d, 10, "p", "ds", 0, "a", "2024-01-01T00:00:00+00:00", reason="x" * 4001).to_bytes()
