"""Tags, and a description and metadata changed after logging: annotation events beside the
version that never change its identity (content digest, manifest, number)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs import layout
from artifactfs.annotation import AnnotationEvent
from artifactfs.backend import open_backend
from artifactfs.cache import BlobCache
from artifactfs.errors import ArtifactStateError, InvalidInputError, InvalidNameError, ReadOnlyError
from tests.procs import run_together


def log_v0(store: afs.Store, files: Path, **fields: object) -> afs.Artifact:
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("model", type="model", description="first", metadata={"eval": {"acc": 0.8}})
        art.add_dir(str(files))
        return run.log_artifact(art, **fields)  # type: ignore[arg-type]


def reread(store: afs.Store, tmp_path: Path, ref: str = "p/model:v0") -> afs.Artifact:
    """The version as another process sees it: a new store object, a new cache."""
    return afs.Store(open_backend(store.url), cache=BlobCache(tmp_path / "other-cache")).artifact(ref)


def test_annotations_never_change_the_version(store: afs.Store, files: Path, tmp_path: Path) -> None:
    art = log_v0(store, files, tags=["candidate"])
    identity = (art.version, art.digest, art.manifest_digest)
    assert art.tags == ["candidate"]

    art.metadata = {"eval": {"acc": 0.93}, "reviewed_by": "ana"}
    art.description = "retrained on the full set"
    art.tags = ["reviewed", "candidate"]
    art.save()
    seen = reread(store, tmp_path)
    assert (seen.version, seen.digest, seen.manifest_digest) == identity
    assert seen.metadata == {"eval": {"acc": 0.93}, "reviewed_by": "ana"}
    assert seen.description == "retrained on the full set"
    assert seen.tags == ["candidate", "reviewed"]

    seen.annotate(add_tags=["prod-ready"], remove_tags=["candidate"], description=None)
    again = reread(store, tmp_path)
    assert again.tags == ["prod-ready", "reviewed"] and again.description is None
    assert again.metadata["eval"]["acc"] == 0.93  # untouched by an event that does not set it
    assert (again.version, again.digest, again.manifest_digest) == identity
    events = again.annotation_events
    assert len(events) == 3 and all(e.created_at for e in events)
    assert events[0].run_id is not None  # the tags given to log_artifact, by its run
    assert events[1].user is not None and events[1].run_id is None
    # the manifest still says what was logged
    assert again.manifest.metadata == {"eval": {"acc": 0.8}}
    assert [a.version for a in store.versions("p", "model")] == ["v0"]


def test_nothing_to_save_writes_nothing(store: afs.Store, files: Path) -> None:
    art = log_v0(store, files)
    art.metadata = {"eval": {"acc": 0.8}}  # as it is
    art.description = "first"
    art.save()
    art.annotate(tags=[])
    assert art.annotation_events == []
    keys = store.backend.walk(layout.artifact_dir("p", "model"))
    assert not any("/annotations/" in k for k in keys)


def test_a_read_value_stays_read_only_and_bad_values_are_refused(store: afs.Store, files: Path) -> None:
    art = log_v0(store, files)
    with pytest.raises(ReadOnlyError):
        art.metadata["eval"]["acc"] = 1.0
    with pytest.raises(InvalidInputError, match="metadata must be a dict"):
        art.metadata = [1, 2]  # type: ignore[assignment]
    with pytest.raises(InvalidInputError, match="description must be a string"):
        art.description = 3  # type: ignore[assignment]
    with pytest.raises(InvalidNameError):
        art.tags = ["no spaces allowed"]
    with pytest.raises(ArtifactStateError, match="log it"):
        afs.Artifact("d", type="dataset").save()
    with pytest.raises(ReadOnlyError, match="name"):
        art.name = "other"


def test_relogging_the_same_content_records_what_changed(
    store: afs.Store, files: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = log_v0(store, files)
    assert first.annotated == ()
    with afs.init(project="p", store=store) as run, caplog.at_level(logging.INFO, logger="artifactfs"):
        art = afs.Artifact("model", type="model", description="first", metadata={"eval": {"acc": 0.95}})
        art.add_dir(str(files))
        art.tags = ["rerun"]
        again = run.log_artifact(art)
    assert again.version == "v0" and not again.is_new
    assert again.annotated == ("metadata", "tags")  # the description was the same
    assert "p/model:v0: recorded metadata, tags as an annotation" in caplog.text
    seen = reread(store, tmp_path)
    assert seen.metadata == {"eval": {"acc": 0.95}} and seen.tags == ["rerun"]
    assert seen.digest == first.digest
    assert seen.annotation_events[0].run_id == run.id


def test_an_annotation_that_does_not_decode_is_skipped(
    store: afs.Store, files: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    art = log_v0(store, files)
    art.annotate(add_tags=["ok"])
    store.backend.write(layout.annotation_event("p", "model", 0, 1), b"\xc1 not msgpack")
    store.backend.write(  # an event filed under v0 that says it is v5
        layout.annotation_event("p", "model", 0, 2),
        AnnotationEvent(5, "2026-01-01T00:00:00+00:00", add_tags=("evil",)).to_bytes(),
    )
    with caplog.at_level(logging.WARNING, logger="artifactfs"):
        seen = reread(store, tmp_path)
        assert seen.tags == ["ok"]
    assert "ignoring the annotation" in caplog.text
    seen.annotate(add_tags=["after"])  # lands after the bad ones
    assert reread(store, tmp_path).tags == ["after", "ok"]


def test_alias_history(store: afs.Store, files: Path) -> None:
    with afs.init(project="p", store=store) as run:
        for i in range(2):
            (files / "v.txt").write_text(str(i))
            art = afs.Artifact("model", type="model")
            art.add_dir(str(files))
            run.log_artifact(art, aliases=["production"])
    store.remove_alias("p/model:v1", "production")
    history = store.alias_history("p/model", "production")
    assert [(h.version, h.run_id) for h in history] == [("v0", run.id), ("v1", run.id), (None, None)]
    assert all(h.created_at for h in history)


ADD_TAG = """
import sys
import artifactfs as afs
afs.open_store(sys.argv[1]).artifact("p/model:v0").annotate(add_tags=[sys.argv[2]])
"""


def test_concurrent_annotations_lose_nothing(shared_store_url: str, files: Path, tmp_path: Path) -> None:
    store = afs.open_store(shared_store_url)
    log_v0(store, files)
    run_together(ADD_TAG, [[shared_store_url, f"tag-{i}"] for i in range(8)])
    seen = reread(store, tmp_path)
    assert seen.tags == sorted(f"tag-{i}" for i in range(8))
    assert len(seen.annotation_events) == 8


def test_a_copy_carries_what_is_said_of_a_version(store: afs.Store, files: Path, tmp_path: Path) -> None:
    art = log_v0(store, files, tags=["gold"])
    art.annotate(metadata={"eval": {"acc": 0.97}}, description="checked")
    dst = afs.open_store(str(tmp_path / "dst"))
    afs.copy("p/model:v0", store, dst)
    copied = dst.artifact("p/model:v0")
    assert copied.digest == art.digest
    assert (copied.tags, copied.description, copied.metadata) == (["gold"], "checked", {"eval": {"acc": 0.97}})
    n = len(copied.annotation_events)
    afs.copy("p/model:v0", store, dst)  # again: nothing more to say
    assert len(dst.artifact("p/model:v0").annotation_events) == n
