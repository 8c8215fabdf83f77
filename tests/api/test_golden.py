"""The checked-in format-1 store must stay readable by every release."""

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
    (root / "artifactfs.msgpack").write_bytes(codec.encode({"format": 3, "kind": "store", "algorithm": "blake3"}))
    with pytest.raises(FormatError, match="supports format 3"):
        afs.open_store(root)
    with pytest.raises(FormatError, match="supports format 3"):
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
