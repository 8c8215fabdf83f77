"""Copying versions between stores: only missing blobs move, identity is the manifest."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs import layout
from artifactfs.backend import Backend
from artifactfs.errors import IntegrityError, StoreError
from tests.conftest import cloud_root, drop_memory


def make_lineage(store: afs.Store, tmp_path: Path) -> afs.Artifact:
    """raw -> (prep run) -> ds ; ds + code -> (train run) -> model"""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "rows.csv").write_text("a,b\n" + "1,2\n" * 1000)
    (data / "big.bin").write_bytes(os.urandom(9 << 20))  # over the in-memory copy size
    with afs.init(project="p", job_type="ingest", store=store) as run:
        raw = afs.Artifact("raw", type="dataset")
        raw.add_dir(data)
        raw = run.log_artifact(raw)
    with afs.init(project="p", job_type="prep", store=store) as run:
        src = run.use_artifact("raw:latest")
        ds = afs.Artifact("ds", type="dataset")
        with ds.new_file("clean.csv") as f:
            f.write("a,b\n1,2\n")
        ds.add_reference(src)
        ds = run.log_artifact(ds)
    with afs.init(project="p", job_type="train", config={"lr": 0.1}, store=store) as run:
        used = run.use_artifact("ds:latest")
        model = afs.Artifact("model", type="model")
        with model.new_file("w.bin", mode="wb") as f:
            f.write(b"\x01" * 1000)
        model.add_reference(used)
        return run.log_artifact(model, aliases=["candidate"])


def test_copy_with_lineage_and_again(store: afs.Store, tmp_path: Path) -> None:
    make_lineage(store, tmp_path)
    dst_root = f"memory://copy-dst-{uuid.uuid4().hex}"
    try:
        dst = afs.open_store(dst_root)
        report = afs.copy("p/model:candidate", store, dst, with_lineage=True)
        assert sorted(report.versions) == ["p/ds:v0", "p/model:v0", "p/raw:v0"]
        assert report.new_versions == 3 and report.blobs == 4 and report.runs == 3
        model = dst.artifact("p/model:latest")
        assert model.aliases == ["latest"]  # custom aliases stay with the source store
        assert [a.qualified_name for a in model.references()] == ["p/ds:v0"]
        assert model.logged_by() is not None and model.logged_by().config == {"lr": 0.1}  # type: ignore[union-attr]
        ds = dst.artifact("p/ds:v0")
        assert [r.job_type for r in ds.used_by()] == ["train"]
        assert [a.qualified_name for a in ds.references()] == ["p/raw:v0"]
        assert dst.verify(deep=True) == []
        out = Path(dst.artifact("p/raw:v0").download(tmp_path / "out"))
        assert (out / "big.bin").read_bytes() == (tmp_path / "data" / "big.bin").read_bytes()
        origin = dst.catalog.version("p", "model", 0).origin
        assert origin is not None and origin["store"] == store.url
        again = afs.copy("p/model:candidate", store, dst, with_lineage=True)
        assert again.new_versions == 0 and again.blobs == 0 and again.bytes == 0 and again.runs == 0
    finally:
        drop_memory(dst_root)


def test_copy_without_lineage_copies_one_version(store: afs.Store, tmp_path: Path) -> None:
    make_lineage(store, tmp_path)
    dst = afs.open_store(tmp_path / "dst")
    report = afs.copy("p/model:v0", store, dst)
    assert report.versions == ["p/model:v0"] and report.blobs == 1
    assert dst.projects() == ["p"] and [a.name for a in dst.artifacts("p")] == ["model"]


def test_interrupted_copy_sends_only_what_is_missing(
    store: afs.Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_lineage(store, tmp_path)
    dst = afs.open_store(tmp_path / "dst")
    kind = type(dst.backend)
    original = kind.put_files

    def fail_large(self: Backend, pairs: list[tuple[str, str]], *a: object, **kw: object) -> None:
        raise StoreError("network went away")

    monkeypatch.setattr(kind, "put_files", fail_large)  # the large blob fails, small ones landed
    with pytest.raises(StoreError):
        afs.copy("p/raw:v0", store, dst)
    assert dst.catalog.version_numbers("p", "raw") == []
    monkeypatch.setattr(kind, "put_files", original)
    report = afs.copy("p/raw:v0", store, dst)
    assert report.blobs == 1 and report.bytes == 9 << 20  # only the large blob was still missing


def test_corrupt_source_blob_stops_the_copy(store: afs.Store, tmp_path: Path) -> None:
    model = make_lineage(store, tmp_path)
    key = layout.blob(model.entries["w.bin"].digest)  # type: ignore[arg-type]
    store.backend.write(key, b"\x02" * 1000)
    dst = afs.open_store(tmp_path / "dst")
    with pytest.raises(IntegrityError, match=key):
        afs.copy("p/model:v0", store, dst)
    assert dst.catalog.version_numbers("p", "model") == []


def test_all_versions(store: afs.Store, tmp_path: Path) -> None:
    for i in range(3):
        with afs.init(project="p", store=store) as run:
            art = afs.Artifact("ds", type="dataset")
            with art.new_file("x.txt") as f:
                f.write(str(i))
            run.log_artifact(art)
    dst = afs.open_store(tmp_path / "dst")
    report = afs.copy("p/ds:latest", store, dst, all_versions=True)
    assert report.versions == ["p/ds:v0", "p/ds:v1", "p/ds:v2"]


def test_azure_to_gcs_to_s3_with_lineage(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The round trip across all three emulated clouds, verified, then re-run to a no-op."""
    urls, options = [], {}
    for name in ("azure", "gcs", "s3"):
        urls.append(cloud_root(request, name, monkeypatch))
        options.update(json.loads(os.environ["ARTIFACTFS_STORAGE_OPTIONS"]))
    monkeypatch.setenv("ARTIFACTFS_STORAGE_OPTIONS", json.dumps(options))
    az, gs, s3 = (afs.open_store(u) for u in urls)
    make_lineage(az, tmp_path)
    first = [afs.copy("p/model:v0", a, b, with_lineage=True) for a, b in ((az, gs), (gs, s3))]
    assert all(r.new_versions == 3 and r.blobs == 4 for r in first)
    model = s3.artifact("p/model:latest")
    assert [a.qualified_name for a in model.references()] == ["p/ds:v0"]
    assert [a.qualified_name for a in model.references()[0].references()] == ["p/raw:v0"]
    assert model.logged_by().job_type == "train"  # type: ignore[union-attr]
    assert model.manifest_digest == az.artifact("p/model:v0").manifest_digest
    assert s3.verify(deep=True) == [] and gs.verify(deep=True) == []
    again = [afs.copy("p/model:v0", a, b, with_lineage=True) for a, b in ((az, gs), (gs, s3))]
    assert all(r.new_versions == 0 and r.blobs == 0 for r in again)
