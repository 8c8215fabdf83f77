"""Retention policies kept in the store: set on a project or an artifact, shown, applied by
``apply_retention``; protected aliases are kept whatever ``force`` says."""

from __future__ import annotations

import datetime as dt

import pytest

import artifactfs as afs
from artifactfs import codec, layout
from artifactfs.errors import FormatError, InvalidInputError


def log(store: afs.Store, name: str, n: int, project: str = "p") -> None:
    with afs.init(project=project, store=store) as run:
        for i in range(n):
            art = afs.Artifact(name, type="dataset")
            with art.new_file("x.txt") as f:
                f.write(f"{name} {i}")
            run.log_artifact(art)


def live(store: afs.Store, name: str) -> list[str]:
    return [a.version for a in store.versions("p", name)]


def test_a_policy_is_kept_shown_and_applied(store: afs.Store) -> None:
    log(store, "a", 5)
    log(store, "b", 3)
    log(store, "c", 3)
    assert store.retention_policy("p") is None
    store.set_retention("p", keep_last=2)
    store.set_retention("p", "b", keep_last=1, older_than="30d")  # b's own replaces the project's
    store.set_retention("p", "c", keep_last=1)
    store.set_retention("p", "c")  # ... and cleared again: c falls back to the project's
    policy = store.retention_policy("p", "a")
    assert policy is not None and (policy.keep_last, policy.scope) == (2, "project") and policy.set_at
    own = store.retention_policy("p", "b")
    assert own is not None and (own.keep_last, own.older_than, own.scope) == (1, "30d", "artifact")

    assert store.apply_retention("p", dry_run=True) == ["p/a:v0", "p/a:v1", "p/a:v2", "p/c:v0"]
    assert store.apply_retention("p") == ["p/a:v0", "p/a:v1", "p/a:v2", "p/c:v0"]  # b: nothing 30 days old
    assert live(store, "a") == ["v3", "v4"] and live(store, "b") == ["v0", "v1", "v2"]
    assert store.apply_retention("p", "b", keep_last=1) == ["p/b:v0", "p/b:v1"]  # given: instead of the policy


def test_protected_aliases_are_kept_even_with_force(store: afs.Store) -> None:
    log(store, "a", 4)
    store.set_alias("p/a:v0", "production")
    store.set_alias("p/a:v1", "staging")
    store.set_retention("p", "a", keep_last=1, protect=["production"])
    assert store.apply_retention("p", "a", force=True) == ["p/a:v1", "p/a:v2"]
    assert live(store, "a") == ["v0", "v3"]


def test_older_than_as_an_age_or_a_cut_off(store: afs.Store) -> None:
    log(store, "a", 3)
    assert store.apply_retention("p", "a", keep_last=1, older_than="1d", dry_run=True) == []
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    assert store.apply_retention("p", "a", keep_last=1, older_than=soon, dry_run=True) == ["p/a:v0", "p/a:v1"]
    assert store.apply_retention("p", "a", older_than=dt.timedelta(0), dry_run=True) == ["p/a:v0", "p/a:v1"]


def test_bad_policies_are_refused(store: afs.Store) -> None:
    log(store, "a", 1)
    with pytest.raises(InvalidInputError, match="keep_last"):
        store.set_retention("p", keep_last=0)
    with pytest.raises(InvalidInputError, match="older_than"):
        store.set_retention("p", older_than="soon")
    with pytest.raises(InvalidInputError, match="no retention policy"):
        store.apply_retention("p", "a")
    assert store.apply_retention("p") == []  # no policy anywhere: nothing to do
    hostile = codec.encode({"format": 1, "kind": "retention", "keep_last": "all", "protect": ["../x"]})
    store.backend.create(layout.retention_event("p", None, 0), hostile)
    with pytest.raises(FormatError, match="retention policy"):
        store.retention_policy("p")
