"""A logged version is a read-only value: its metadata, entries and run config cannot be changed
in place, and nothing changed leaks into later reads of the same version."""

from __future__ import annotations

import copy
import json
import pickle

import pandas as pd
import pytest

import artifactfs as afs
from artifactfs.errors import ArtifactStateError, ReadOnlyError


@pytest.fixture
def logged(store: afs.Store) -> afs.Artifact:
    with afs.init(project="p", store=store, config={"lr": 0.1, "layers": [64, 32]}) as run:
        draft = afs.Artifact("ds", type="dataset", description="d", metadata={"rows": 3, "nested": {"k": [1]}})
        draft.add(afs.Table(dataframe=pd.DataFrame({"a": [1, 2, 3]})), "t")
        logged = run.log_artifact(draft)
        draft.metadata["rows"] = 99  # the draft stays editable; the logged version does not follow it
    return logged


def test_metadata_cannot_be_changed_in_place(store: afs.Store, logged: afs.Artifact) -> None:
    for change in (
        lambda m: m.__setitem__("rows", 5),
        lambda m: m.update(rows=5),
        lambda m: m.pop("rows"),
        lambda m: m.setdefault("new", 1),
        lambda m: m["nested"].__setitem__("k", []),
        lambda m: m["nested"]["k"].append(2),
        lambda m: m["nested"]["k"].sort(),
    ):
        with pytest.raises(ReadOnlyError):
            change(logged.metadata)
    assert isinstance(ReadOnlyError("x"), TypeError) and isinstance(ReadOnlyError("x"), ArtifactStateError)
    again = store.artifact("p/ds:v0")
    assert again.metadata == {"rows": 3, "nested": {"k": [1]}}
    assert afs.open_store(store.url).artifact("p/ds:v0").metadata == {"rows": 3, "nested": {"k": [1]}}


def test_identity_of_a_logged_version_cannot_be_reassigned(store: afs.Store, logged: afs.Artifact) -> None:
    for field, value in (("name", "other"), ("type", "model")):
        with pytest.raises(ReadOnlyError, match=field):
            setattr(logged, field, value)
    # What is said of it can be: assigned, then saved as an annotation (tests/api/test_annotations.py).
    logged.description = "x"
    assert logged.description == "x" and store.artifact("p/ds:v0").description == "d"
    with pytest.raises(ReadOnlyError):
        logged.entries["t.parquet"].extra["num_rows"] = 0  # type: ignore[index]
    assert logged.entries["t.parquet"].extra["num_rows"] == 3


def test_run_config_read_from_the_store_is_read_only(store: afs.Store, logged: afs.Artifact) -> None:
    run = logged.logged_by()
    assert run is not None
    with pytest.raises(ReadOnlyError):
        run.config["lr"] = 1.0
    with pytest.raises(ReadOnlyError):
        run.config["layers"].append(16)
    assert store.run("p", run.id).config == {"lr": 0.1, "layers": [64, 32]}


def test_copies_are_ordinary_editable_values(logged: afs.Artifact) -> None:
    mine = copy.deepcopy(logged.metadata)
    mine["nested"]["k"].append(2)
    assert mine == {"rows": 3, "nested": {"k": [1, 2]}} and type(mine) is dict
    assert json.loads(json.dumps(logged.metadata)) == {"rows": 3, "nested": {"k": [1]}}
    assert pickle.loads(pickle.dumps(logged.metadata)) == logged.metadata
