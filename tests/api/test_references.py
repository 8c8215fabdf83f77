"""add_reference: lineage edges to artifact versions, and external URIs checked on download."""

from __future__ import annotations

import uuid
from pathlib import Path

import fsspec
import pytest

import artifactfs as afs
from artifactfs.errors import ArtifactStateError, IntegrityError, InvalidInputError, LocalPathNotFoundError


def test_reference_to_local_uri(store: afs.Store, tmp_path: Path) -> None:
    ext = tmp_path / "external.csv"
    ext.write_text("a,b\n1,2\n")
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("refs", type="dataset")
        art.add_reference(ext.as_uri())
        logged = run.log_artifact(art)
    entry = logged.entries["external.csv"]
    assert entry.kind == "reference" and entry.size == 8 and entry.extra["uri"] == ext.as_uri()
    assert not store.backend.fs.exists(store.backend.path("blobs"))  # nothing was copied
    out = Path(logged.download(tmp_path / "out"))
    assert (out / "external.csv").read_text() == "a,b\n1,2\n"
    ext.write_text("a,b\n9,9\n")
    with pytest.raises(IntegrityError, match=r"external\.csv"):
        logged.download(tmp_path / "again")
    assert not (tmp_path / "again" / "external.csv").exists()


def test_reference_to_memory_uri_with_name(store: afs.Store, tmp_path: Path) -> None:
    uri = f"memory://ext-{uuid.uuid4().hex}/obj.bin"
    fsspec.filesystem("memory").pipe(uri, b"remote bytes")
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("refs", type="dataset")
        art.add_reference(uri, name="inputs/obj.bin")
        logged = run.log_artifact(art)
    assert Path(logged.get_path("inputs/obj.bin", root=tmp_path / "o")).read_bytes() == b"remote bytes"


def test_reference_errors(store: afs.Store, tmp_path: Path) -> None:
    art = afs.Artifact("refs", type="dataset")
    with pytest.raises(LocalPathNotFoundError):
        art.add_reference((tmp_path / "missing").as_uri())
    with pytest.raises(InvalidInputError):
        art.add_reference("not a uri")
    with pytest.raises(InvalidInputError, match="folder"):
        art.add_reference(tmp_path.as_uri())
    with pytest.raises(ArtifactStateError, match="draft"):
        art.add_reference(afs.Artifact("draft", type="dataset"))


def test_upstream_references_change_content(store: afs.Store, files: Path) -> None:
    with afs.init(project="p", store=store) as run:
        a = afs.Artifact("raw", type="dataset")
        a.add_file(files / "a.txt")
        raw0 = run.log_artifact(a)
        a = afs.Artifact("raw", type="dataset")
        a.add_file(files / "b.bin")
        raw1 = run.log_artifact(a)
        m0 = afs.Artifact("model", type="model")
        m0.add_file(files / "sub" / "c.txt")
        m0.add_reference(raw0)
        v0 = run.log_artifact(m0)
        m1 = afs.Artifact("model", type="model")
        m1.add_file(files / "sub" / "c.txt")
        m1.add_reference(raw1)
        v1 = run.log_artifact(m1)
    # Same weights from other data is another version: its lineage differs.
    assert (v0.version, v1.version) == ("v0", "v1")
    assert [r.qualified_name for r in v1.references()] == ["p/raw:v1"]


def test_verify_passes_a_hashed_reference(store: afs.Store, tmp_path: Path) -> None:
    # A reference whose bytes were hashed when logged has a digest, but no blob in the store.
    ext = tmp_path / "external.csv"
    ext.write_text("a,b\n1,2\n")
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("refs", type="dataset")
        art.add_reference(ext.as_uri())
        assert run.log_artifact(art).entries["external.csv"].digest is not None
    assert store.verify() == [] and store.verify(deep=True) == []
