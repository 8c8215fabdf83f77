"""The registry: collections in the reserved project ``registry`` whose versions link to
versions logged elsewhere, with their own numbers and aliases; links resolve wherever a
reference is taken, keep the source's lineage, survive copies and protect their source."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs import layout
from artifactfs.errors import (
    ArtifactNotFoundError,
    ArtifactStateError,
    ArtifactTypeError,
    FormatError,
    InvalidInputError,
    InvalidNameError,
)
from tests.procs import run_together


def log_models(store: afs.Store | str, n: int = 2, project: str = "p") -> list[afs.Artifact]:
    """``n`` versions of p/model (each different), logged by a run that used p/data:v0."""
    out = []
    with afs.init(project=project, job_type="ingest", store=store) as run:
        data = afs.Artifact("data", type="dataset")
        with data.new_file("rows.csv") as f:
            f.write("a,b\n1,2\n")
        run.log_artifact(data)
    for i in range(n):
        with afs.init(project=project, job_type="train", config={"i": i}, store=store) as run:
            run.use_artifact("data:v0")
            model = afs.Artifact("model", type="model", metadata={"eval": {"acc": 0.8 + i / 100}})
            with model.new_file("w.bin", mode="wb") as f:
                f.write(bytes([i]) * 100)
            out.append(run.log_artifact(model))
    return out


def test_links_resolve_with_their_own_numbers_and_aliases(store: afs.Store, tmp_path: Path) -> None:
    v0, _ = log_models(store)
    first = store.link("p/model:v0", "classifier", aliases=["staging"])
    assert first.qualified_name == "registry/classifier:v0" and first.is_new
    assert first.source_qualified_name == "p/model:v0" and first.linked_from == v0.version_id
    assert (first.digest, first.manifest_digest) == (v0.digest, v0.manifest_digest)  # nothing copied
    second = store.link("p/model:v1", "registry/classifier", aliases=["staging"])
    assert second.qualified_name == "registry/classifier:v1"
    again = store.link("p/model:v1", "classifier")
    assert again.qualified_name == "registry/classifier:v1" and not again.is_new

    store.set_alias("registry/classifier:v0", "production")
    store.set_alias("registry/classifier:v1", "production")  # a promotion
    prod = store.artifact("registry/classifier:production")
    assert prod.qualified_name == "registry/classifier:v1" and prod.source_qualified_name == "p/model:v1"
    assert prod.metadata == {"eval": {"acc": 0.81}} and prod.type == "model"
    out = Path(prod.download(tmp_path / "out"))
    assert (out / "w.bin").read_bytes() == bytes([1]) * 100
    history = store.alias_history("registry/classifier:latest", "production")
    assert [h.version for h in history] == ["v0", "v1"]
    assert [h.version for h in store.alias_history("registry/classifier:v1", "staging")] == ["v0", "v1"]

    with afs.init(project="serving", store=store) as run:
        used = run.use_artifact("registry/classifier:production")
    assert used.qualified_name == "registry/classifier:v1"
    assert [r.project for r in used.used_by()] == ["serving"]
    assert store.collections() == ["classifier"]
    assert store.links("p/model:v1") == ["registry/classifier:v1"] and store.links("p/model:v0") == [
        "registry/classifier:v0"
    ]
    assert store.verify(deep=True) == []


def test_the_registry_project_is_reserved_and_links_are_checked(store: afs.Store) -> None:
    log_models(store, 1)
    with pytest.raises(InvalidNameError, match="reserved for the registry"):
        afs.init(project="registry", store=store)
    with pytest.raises(ArtifactNotFoundError):
        store.link("p/model:v7", "classifier")
    with pytest.raises(InvalidInputError, match="collection"):
        store.link("p/model:v0", "bad/name")
    store.link("p/model:v0", "classifier")
    with pytest.raises(ArtifactTypeError, match="registry/classifier has type 'model'"):
        store.link("p/data:v0", "classifier")
    with pytest.raises(InvalidInputError, match="not a registry version"):
        store.unlink("p/model:v0")


def test_a_link_keeps_the_lineage_of_its_source(store: afs.Store) -> None:
    log_models(store, 1)
    store.link("p/model:v0", "classifier", aliases=["production"])
    graph = store.lineage("registry/classifier:production")
    edges = {(e.src, e.dst, e.kind) for e in graph.edges}
    assert ("artifact:p/model:v0", "artifact:registry/classifier:v0", "linked") in edges
    assert ("artifact:p/data:v0", next(e.dst for e in graph.edges if e.kind == "used"), "used") in edges
    kinds = {n.attrs.get("job_type") for n in graph.nodes.values() if n.kind == "run"}
    assert kinds == {"ingest", "train"}


def test_links_survive_a_copy_with_lineage(store: afs.Store, tmp_path: Path) -> None:
    src = afs.open_store(tmp_path / "src")
    log_models(src, 2)
    src.link("p/model:v0", "classifier")
    src.link("p/model:v1", "classifier", aliases=["production"])
    src.artifact("registry/classifier:production").annotate(add_tags=["approved"])

    report = afs.copy("registry/classifier:production", src, store, with_lineage=True)
    assert report.versions == ["p/data:v0", "p/model:v0", "registry/classifier:v0"]  # numbered anew here
    prod = store.artifact("registry/classifier:production")
    assert prod.source_qualified_name == "p/model:v0"  # the first version of p/model in this store
    assert prod.digest == src.artifact("p/model:v1").digest and prod.tags == ["approved"]
    graph = store.lineage("registry/classifier:production")
    assert {e.kind for e in graph.edges} == {"linked", "logged", "used"}
    assert store.verify(lineage=True) == []
    assert afs.copy("registry/classifier:production", src, store, with_lineage=True).new_versions == 0

    everything = afs.copy("registry/classifier:v0", src, store, all_versions=True)
    assert everything.new_versions == 2  # p/model:v0 of src, and its link
    assert [a.source_qualified_name for a in store.versions("registry", "classifier")] == ["p/model:v0", "p/model:v1"]
    assert store.artifact("registry/classifier:production").version == "v0"


def test_links_protect_their_source_from_retention_and_deletion(store: afs.Store) -> None:
    log_models(store, 4)
    store.link("p/model:v0", "classifier")
    assert store.apply_retention("p", "model", keep_last=1, force=True, dry_run=True) == ["p/model:v1", "p/model:v2"]
    with pytest.raises(ArtifactStateError, match="registry/classifier:v0"):
        store.delete_version("p/model:v0", force=True)
    assert store.apply_retention("p", "model", keep_last=1, force=True) == ["p/model:v1", "p/model:v2"]
    assert [a.version for a in store.versions("p", "model")] == ["v0", "v3"]

    store.unlink("registry/classifier:v0")
    with pytest.raises(ArtifactNotFoundError):
        store.artifact("registry/classifier:v0")
    assert store.links("p/model:v0") == []
    assert store.apply_retention("p", "model", keep_last=1, force=True) == ["p/model:v0"]
    assert store.verify() == []


LINK = """
import sys, artifactfs as afs
afs.open_store(sys.argv[1]).link("p/model:v0", "classifier", aliases=[sys.argv[2]])
"""


def test_concurrent_links_of_one_version_make_one_registry_version(shared_store_url: str) -> None:
    store = afs.open_store(shared_store_url)
    log_models(store, 1)
    run_together(LINK, [[shared_store_url, f"a{i}"] for i in range(4)])
    versions = store.versions("registry", "classifier")
    assert [v.qualified_name for v in versions] == ["registry/classifier:v0"]
    assert sorted(a for a in versions[0].aliases if a != "latest") == ["a0", "a1", "a2", "a3"]


def test_a_run_links_with_the_wandb_name(store: afs.Store) -> None:
    with afs.init(project="p", store=store) as run:
        model = afs.Artifact("model", type="model")
        with model.new_file("w.bin", mode="wb") as f:
            f.write(b"w")
        logged = run.log_artifact(model)
        linked = run.link_artifact(logged, "registry/classifier", aliases=["staging"])
        run_id = run.id
    assert linked.qualified_name == "registry/classifier:v0" and linked.source_qualified_name == "p/model:v0"
    assert [h.run_id for h in store.alias_history("registry/classifier:v0", "staging")] == [run_id]


def test_a_forged_link_is_refused(store: afs.Store) -> None:
    """A registry record that claims to link to one version but holds another's manifest."""
    _, v1 = log_models(store)
    store.link("p/model:v0", "classifier")
    rec = store.catalog.version("registry", "classifier", 0)
    forged = dataclasses.replace(rec, version=1, linked=v1.version_id)  # v1's name, v0's manifest
    assert store.backend.create(layout.version_record("registry", "classifier", 1), forged.to_bytes())
    with pytest.raises(FormatError, match="manifest of the version it links to"):
        afs.open_store(store.url).artifact("registry/classifier:v1")
    assert [p.kind for p in store.verify()] == ["undecodable"]
