"""The checked-in golden stores (format 1, and format 3 with a sharded version) must stay
readable by every release."""

from __future__ import annotations

import shutil
from pathlib import Path

import artifactfs as afs

GOLDEN = Path(__file__).parent.parent / "golden" / "store-v1"


def test_golden_store_reads(tmp_path: Path) -> None:
    root = tmp_path / "store"
    shutil.copytree(GOLDEN, root)  # read a copy: the checked-in files stay untouched
    store = afs.open_store(root)
    assert store.projects() == ["golden"]
    ds = store.artifact("golden/ds:best")
    assert (ds.version, ds.type, ds.description, ds.metadata) == ("v0", "dataset", "golden", {"rows": 3})
    out = Path(ds.download(tmp_path / "out"))
    assert (out / "hello.txt").read_text() == "hello golden\n"
    df = ds.get_table("t").dataframe()
    assert df["i"].tolist() == [1, 2, 3] and df["s"].tolist()[:2] == ["a", "b"]
    model = store.artifact("golden/model:latest")
    assert [r.qualified_name for r in model.references()] == ["golden/ds:v0"]
    (run,) = store.runs("golden")
    assert run.config == {"seed": 1} and run.status == "finished" and len(run.outputs) == 2


def test_newer_store_format_is_refused(tmp_path: Path) -> None:
    import pytest

    from artifactfs import codec
    from artifactfs.errors import FormatError

    root = tmp_path / "store"
    shutil.copytree(GOLDEN, root)
    newer = codec.READ_FORMAT + 1
    (root / "artifactfs.msgpack").write_bytes(codec.encode({"format": newer, "kind": "store", "algorithm": "blake3"}))
    with pytest.raises(FormatError, match=f"supports format {newer}"):
        afs.open_store(root)
    with pytest.raises(FormatError, match=f"supports format {newer}"):
        afs.init(project="golden", store=str(root))


def _log_new_blob(store: afs.Store, tmp_path: Path) -> str:
    data = tmp_path / "new.txt"
    data.write_text("a blob no golden version has\n")
    with afs.init(project="golden", store=store) as run:
        art = afs.Artifact("extra", type="dataset")
        art.add_file(data)
        digest = run.log_artifact(art).entries["new.txt"].digest
    assert digest is not None
    return digest.hex


def test_a_format_1_store_keeps_its_two_level_layout(tmp_path: Path) -> None:
    root = tmp_path / "store"
    shutil.copytree(GOLDEN, root)
    descriptor = (root / "artifactfs.msgpack").read_bytes()
    store = afs.open_store(root)
    h = _log_new_blob(store, tmp_path)
    assert (root / "blobs" / "blake3" / h[:2] / h[2:4] / h).is_file()
    assert (root / "artifactfs.msgpack").read_bytes() == descriptor  # still format 1: old readers read it
    assert store.verify(deep=True) == []
    assert store.gc(dry_run=True).blobs == 0


def test_new_stores_keep_blobs_in_one_level_of_folders(tmp_path: Path) -> None:
    from artifactfs import codec

    root = tmp_path / "store"
    store = afs.open_store(root)
    h = _log_new_blob(store, tmp_path)
    assert (root / "blobs" / "blake3" / h[:2] / h).is_file()
    desc = codec.decode((root / "artifactfs.msgpack").read_bytes(), "descriptor")
    assert (desc["format"], desc["blob_levels"]) == (2, 1)
    assert store.verify(deep=True) == []
    assert store.gc(dry_run=True).blobs == 0
    # Copies between the two layouts: keys are the same, only paths differ.
    old = tmp_path / "old"
    shutil.copytree(GOLDEN, old)
    report = afs.copy("golden/extra:v0", store, afs.open_store(old))
    assert report.blobs == 1 and (old / "blobs" / "blake3" / h[:2] / h[2:4] / h).is_file()


GOLDEN_SHARDED = Path(__file__).parent.parent / "golden" / "store-v3-sharded"
# Pinned: the content digest of a sharded version is part of the format (docs/format.md). If
# this changes, identical content would no longer be recognised as the same version.
SHARDED_CONTENT = "blake3:66a9d63694191dba5878bf2549322d1b176ae1ec8a80e83fd8aec4e8178f7a9f"


def _copy_of(golden: Path, tmp_path: Path) -> afs.Store:
    """A copy of a golden store, opened (the checked-in files stay untouched)."""
    root = tmp_path / "store"
    shutil.copytree(golden, root)
    return afs.open_store(root)


def test_golden_sharded_store_reads(tmp_path: Path) -> None:
    from artifactfs.manifest import Manifest

    store = _copy_of(GOLDEN_SHARDED, tmp_path)
    assert store.format == 3
    big = store.artifact("golden/big:best")
    assert big.manifest.sharded and len(big.manifest.shards) > 1
    assert (big.digest, big.file_count, big.metadata) == (SHARDED_CONTENT, 8392, {"files": 8392})
    assert big.get_entry("3/08391").size == 1 and len(big.files("2")) == 8392 // 4
    entries = big.entries
    assert str(Manifest("any", "any", tuple(entries[p] for p in sorted(entries))).content_digest) == SHARDED_CONTENT
    out = Path(big.download(tmp_path / "out"))
    assert (out / "0" / "00000").read_bytes() == b"x" and sum(p.is_file() for p in out.rglob("*")) == 8392
    small = store.artifact("golden/small:latest")
    assert [r.qualified_name for r in small.references()] == ["golden/big:v0"]
    assert store.verify(deep=True) == []
    # Logging the same files again is the same content: no new version.
    src = tmp_path / "src"
    for i in range(8392):
        (src / f"{i % 4}").mkdir(parents=True, exist_ok=True)
        (src / f"{i % 4}" / f"{i:05d}").write_bytes(b"x")
    with afs.init(project="golden", store=store) as run:
        art = afs.Artifact("big", type="dataset")
        art.add_dir(src)
        assert run.log_artifact(art).version == "v0"


GOLDEN_PACKED = Path(__file__).parent.parent / "golden" / "store-v3-packed"


def test_golden_packed_store_reads(tmp_path: Path) -> None:
    store = _copy_of(GOLDEN_PACKED, tmp_path)
    assert store.format == 3
    art = store.artifact("golden/packed:best")
    entries = art.entries
    assert len(entries) == 41 and entries["large.bin"].where is None
    assert all(e.where is not None for p, e in entries.items() if p != "large.bin")
    out = Path(art.download(tmp_path / "out"))
    assert (out / "2" / "38.txt").read_text() == "golden 38\n" * 39
    assert (out / "large.bin").read_bytes() == bytes(range(256)) * 4096
    assert store.verify(deep=True) == []
    # The same files logged again are the same content, wherever their bytes are.
    with afs.init(project="golden", store=store) as run:
        again = afs.Artifact("packed", type="dataset")
        again.add_dir(out)
        assert run.log_artifact(again).version == "v0"
