"""Reads stop at the declared size + 1 byte: an oversized blob, or a reference to an endless
source, is refused at once, without filling memory or the disk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs import codec, layout
from artifactfs.errors import IntegrityError, InvalidInputError
from artifactfs.hashing import hash_bytes
from artifactfs.records import VersionRecord
from tests.requests import Requests


def log(store: afs.Store, build: object, name: str = "ds") -> afs.Artifact:
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact(name, type="dataset")
        build(art)  # type: ignore[operator]
        return run.log_artifact(art)


def forge(store: afs.Store, base: afs.Artifact, change: object) -> afs.Artifact:
    """A version another writer made: ``base``'s manifest changed by ``change(manifest dict)``."""
    d = codec.decode(store.backend.read(layout.manifest(base.version_id.manifest)), "manifest")
    change(d)  # type: ignore[operator]
    data = codec.encode(d)
    digest = hash_bytes(data, store.algorithm)
    store.backend.write(layout.manifest(digest), data)
    rec = store.catalog.version("p", base.name, base.version_number)
    n = base.version_number + 1
    forged = VersionRecord("p", base.name, n, rec.type, digest, rec.content, rec.size, rec.file_count, codec.utcnow())
    store.backend.write(layout.version_record("p", base.name, n), forged.to_bytes())
    return afs.Store(afs.open_store(store.url).backend, cache=store.cache).artifact(f"p/{base.name}:v{n}")


def nothing_left(*roots: Path) -> None:
    """No blob and no temp file left in these folders (the cache's own databases aside)."""
    for root in roots:
        found = [p for p in root.rglob("*") if p.is_file() and ".sqlite3" not in p.name]
        assert not found, found


@pytest.mark.parametrize("declared", [5, 6 << 20], ids=["small", "large"])
def test_an_entry_backed_by_a_larger_blob_is_refused_cheaply(
    store: afs.Store, tmp_path: Path, declared: int, requests: Requests
) -> None:
    data = os.urandom(declared)
    (tmp_path / "w.bin").write_bytes(data)
    art = log(store, lambda a: a.add_file(tmp_path / "w.bin"))
    digest = art.entries["w.bin"].digest
    assert digest is not None
    key = layout.blob(digest)
    if store.backend.local_files:
        os.truncate(store.backend.path(key), 1 << 40)  # a sparse TiB: read to the end, it never ends
    else:
        store.backend.write(key, data + os.urandom(24 << 20))
    requests.sent.clear()
    with pytest.raises(IntegrityError, match=r"w\.bin"):
        art.download(tmp_path / "out")
    if store.backend.fs.async_impl:  # what was asked of the store, counted at the HTTP client
        asked = requests.bytes_asked(digest.hex)
        assert asked is not None and asked <= declared + 1
    nothing_left(tmp_path / "out", store.cache.root)
    with pytest.raises(IntegrityError):
        afs.copy("p/ds:v0", store, afs.open_store(str(tmp_path / "other")))
    if store.backend.local_files:
        os.truncate(store.backend.path(key), declared)  # (so the test folder can be removed fast)


def test_a_reference_to_an_endless_source(store: afs.Store, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="not a regular file"):
        afs.Artifact("ds", type="dataset").add_reference("file:///dev/zero")
    with pytest.raises(InvalidInputError, match="not a regular file"):
        afs.Artifact("ds", type="dataset").add_file("/dev/zero")
    (tmp_path / "five.txt").write_bytes(b"12345")
    base = log(store, lambda a: a.add_reference((tmp_path / "five.txt").as_uri()))

    def to_dev_zero(d: dict) -> None:  # type: ignore[type-arg]
        d["entries"][0]["extra"]["uri"] = "file:///dev/zero"

    hostile = forge(store, base, to_dev_zero)
    with pytest.raises(IntegrityError, match="more than the 5 bytes"):
        hostile.download(tmp_path / "out")
    nothing_left(tmp_path / "out")
