"""The registry in the browser: what the data layer reads of it."""

from __future__ import annotations

from typing import Any

import pytest

import artifactfs as afs
from tui.data import REGISTRY, DataSource
from tui.views import AliasPoint, Home

from .test_data import not_plain


@pytest.fixture
def registry_store(pipeline_store: str) -> str:
    """The pipeline store, a second model version, and two collections: classifier links
    demo/model:v0 then v1, staging moved from its v0 to its v1, production set on its v0;
    training-data links demo/raw:v0, production on it."""
    with afs.init(project="demo", job_type="train", store=pipeline_store) as run:
        better = afs.Artifact("model", type="model")
        with better.new_file("w.bin", mode="wb") as f:
            f.write(b"better weights")
        run.log_artifact(better)
    store = afs.open_store(pipeline_store)
    store.link("demo/model:v0", "classifier", aliases=["staging"])
    store.link("demo/model:v1", "classifier", aliases=["staging"])
    store.set_alias("registry/classifier:v0", "production")
    store.link("demo/raw:v0", "training-data", aliases=["production"])
    return pipeline_store


def test_the_data_layer_reads_the_registry_into_plain_values(registry_store: str) -> None:
    data = DataSource(registry_store)
    found: dict[str, Any] = {
        "home": data.home(),
        "projects": data.projects(),
        "collections": data.collections(),
        "links": data.versions(REGISTRY, "classifier"),
        "version": data.version("registry/classifier:staging"),
    }
    assert not_plain(found) == []
    assert found["home"] == Home(("demo",), 2) and found["projects"] == ["demo"]  # the registry is apart
    classifier, training = found["collections"]
    assert (classifier.name, classifier.type, classifier.version_count) == ("classifier", "model", 2)
    assert classifier.aliases == (
        AliasPoint("production", "v0", "demo/model:v0"),
        AliasPoint("staging", "v1", "demo/model:v1"),
    )
    assert training.aliases == (AliasPoint("production", "v0", "demo/raw:v0"),)
    assert [(v.version, v.linked_from) for v in found["links"]] == [("v0", "demo/model:v0"), ("v1", "demo/model:v1")]
    assert found["version"].linked_from == "demo/model:v1"
    assert data.version("demo/model:v1").linked_from is None
    assert data.versions("demo", "model")[0].linked_from is None
