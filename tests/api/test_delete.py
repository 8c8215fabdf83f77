"""Deleting versions, retention rules, and tombstones in lineage."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs.errors import ArtifactNotFoundError, ArtifactStateError, InvalidInputError


def log_n(store: afs.Store, tmp_path: Path, n: int, name: str = "ds") -> list[afs.Artifact]:
    out = []
    with afs.init(project="p", store=store) as run:
        for i in range(n):
            f = tmp_path / f"{name}-{i}.txt"
            f.write_text(f"content {i}")
            art = afs.Artifact(name, type="dataset")
            art.add_file(f, name="data.txt")
            out.append(run.log_artifact(art))
    return out


def test_delete_moves_latest_and_never_reuses_numbers(store: afs.Store, tmp_path: Path) -> None:
    log_n(store, tmp_path, 3)
    store.delete_version("p/ds:v2")
    assert store.artifact("p/ds:latest").version == "v1"
    assert [v.version for v in store.versions("p", "ds")] == ["v0", "v1"]
    with pytest.raises(ArtifactNotFoundError, match="deleted"):
        store.artifact("p/ds:v2")
    f = tmp_path / "fresh.txt"
    f.write_text("fresh")
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("ds", type="dataset")
        art.add_file(f)
        assert run.log_artifact(art).version == "v3"
    assert store.artifacts("p")[0].version_count == 3


def test_relogging_deleted_content_makes_a_new_version(store: afs.Store, tmp_path: Path) -> None:
    log_n(store, tmp_path, 2)
    store.delete_version("p/ds:v1")
    again = log_n(store, tmp_path, 2)  # content of v0 (still live) and of deleted v1
    assert [a.version for a in again] == ["v0", "v2"]


def test_aliased_version_needs_force(store: afs.Store, tmp_path: Path) -> None:
    log_n(store, tmp_path, 2)
    store.set_alias("p/ds:v0", "best")
    with pytest.raises(ArtifactStateError, match="best"):
        store.delete_version("p/ds:v0")
    assert store.artifact("p/ds:best").version == "v0"
    store.delete_version("p/ds:v0", force=True)
    with pytest.raises(ArtifactNotFoundError, match="best"):
        store.artifact("p/ds:best")


def test_lineage_shows_deleted_upstream(store: afs.Store, tmp_path: Path) -> None:
    (ds,) = log_n(store, tmp_path, 1)
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"w")
    with afs.init(project="p", store=store) as run:
        m = afs.Artifact("model", type="model")
        m.add_file(weights)
        m.add_reference(ds)
        model = run.log_artifact(m)
    store.delete_version("p/ds:v0", force=True)  # the model references it: only forced
    (up,) = store.artifact("p/model:latest").references()
    assert up.deleted and up.qualified_name == "p/ds:v0" and up.deleted_at
    assert up.logged_by() is not None
    with pytest.raises(ArtifactNotFoundError, match="deleted"):
        up.download(tmp_path / "out")
    assert model.references()[0].deleted


def test_retention(store: afs.Store, tmp_path: Path) -> None:
    log_n(store, tmp_path, 6)
    store.set_alias("p/ds:v1", "production")
    assert store.apply_retention("p", "ds", keep_last=2, dry_run=True) == ["p/ds:v0", "p/ds:v2", "p/ds:v3"]
    assert len(store.versions("p", "ds")) == 6
    deleted = store.apply_retention("p", "ds", keep_last=2)
    assert deleted == ["p/ds:v0", "p/ds:v2", "p/ds:v3"]
    assert [v.version for v in store.versions("p", "ds")] == ["v1", "v4", "v5"]
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert store.apply_retention("p", "ds", older_than=future, force=True) == ["p/ds:v1", "p/ds:v4"]
    assert [v.version for v in store.versions("p", "ds")] == ["v5"]  # the newest always stays
    past = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    assert store.apply_retention("p", "ds", older_than=past) == []


def test_retention_by_age(store: afs.Store, tmp_path: Path) -> None:
    """older_than as an age ("30d", a timedelta) as well as a cut-off date."""
    log_n(store, tmp_path, 3)
    assert store.apply_retention("p", "ds", older_than="30d", dry_run=True) == []  # all made just now
    assert store.apply_retention("p", "ds", older_than=dt.timedelta(days=30), dry_run=True) == []
    assert store.apply_retention("p", "ds", older_than="0", dry_run=True) == ["p/ds:v0", "p/ds:v1"]
    with pytest.raises(InvalidInputError, match="older_than must be a duration such as 30m, 24h or 7d"):
        store.apply_retention("p", "ds", older_than="a month")


@pytest.mark.parametrize("kwargs", [{}, {"keep_last": 0}, {"keep_last": "2"}, {"older_than": dt.datetime(2020, 1, 1)}])
def test_bad_retention_rules(store: afs.Store, tmp_path: Path, kwargs: dict[str, object]) -> None:
    log_n(store, tmp_path, 1)
    with pytest.raises(InvalidInputError):
        store.apply_retention("p", "ds", **kwargs)  # type: ignore[arg-type]


def test_resolve_finds_deleted_versions_for_lineage(store: afs.Store, tmp_path: Path) -> None:
    (ds,) = log_n(store, tmp_path, 1)
    ident = ds.references()[0].version_id if ds.references() else None
    assert ident is None
    store.delete_version("p/ds:v0")
    from artifactfs.hashing import Digest
    from artifactfs.records import ArtifactVersionId

    got = store.resolve(ArtifactVersionId("p", "ds", 0, Digest.parse(ds.manifest_digest)))
    assert got.deleted and got.qualified_name == "p/ds:v0"
