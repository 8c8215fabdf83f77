"""Every bad input raises a typed error naming the problem, and leaves the store unchanged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import artifactfs as afs
from artifactfs.errors import (
    ArtifactFSError,
    ArtifactNotFoundError,
    ArtifactStateError,
    ArtifactTypeError,
    InvalidInputError,
    InvalidNameError,
    InvalidReferenceError,
    LocalPathNotFoundError,
)
from tests.conftest import snapshot


@pytest.fixture
def seeded(store: afs.Store, files: Path) -> afs.Store:
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("ds", type="dataset")
        art.add_dir(files)
        run.log_artifact(art, aliases=["best"])
    return store


def draft() -> afs.Artifact:
    return afs.Artifact("ds", type="dataset")


CASES: list[tuple[str, type[ArtifactFSError], str, Callable[[afs.Store, Path], object]]] = [
    ("empty name", InvalidNameError, "artifact name", lambda s, f: afs.Artifact("", type="dataset")),
    ("dotdot name", InvalidNameError, "../x", lambda s, f: afs.Artifact("../x", type="dataset")),
    ("slash name", InvalidNameError, "a/b", lambda s, f: afs.Artifact("a/b", type="dataset")),
    ("colon name", InvalidNameError, "a:b", lambda s, f: afs.Artifact("a:b", type="dataset")),
    ("control name", InvalidNameError, "artifact name", lambda s, f: afs.Artifact("a\x07", type="dataset")),
    ("bad type", InvalidNameError, "artifact type", lambda s, f: afs.Artifact("ds", type="")),
    ("metadata not dict", InvalidInputError, "metadata", lambda s, f: afs.Artifact("ds", "dataset", metadata=[1])),
    ("missing file", LocalPathNotFoundError, "nope.txt", lambda s, f: draft().add_file(f / "nope.txt")),
    ("missing dir", LocalPathNotFoundError, "nodir", lambda s, f: draft().add_dir(f / "nodir")),
    ("file as dir", LocalPathNotFoundError, "a.txt", lambda s, f: draft().add_dir(f / "a.txt")),
    ("unsafe entry", InvalidNameError, "..", lambda s, f: draft().add_file(f / "a.txt", name="../a.txt")),
    ("absolute entry", InvalidNameError, "relative", lambda s, f: draft().add_file(f / "a.txt", name="/a.txt")),
    ("not a table", InvalidInputError, "DataFrame", lambda s, f: afs.Table(dataframe={"a": [1]})),  # type: ignore[arg-type]
    ("malformed ref", InvalidReferenceError, "ds:vX", lambda s, f: s.artifact("p/ds:vX")),
    ("missing version", ArtifactNotFoundError, "v9", lambda s, f: s.artifact("p/ds:v9")),
    ("missing alias", ArtifactNotFoundError, "prod", lambda s, f: s.artifact("p/ds:prod")),
    ("wrong type", ArtifactTypeError, "model", lambda s, f: s.artifact("p/ds:latest", type="model")),
    ("set latest", InvalidNameError, "latest", lambda s, f: s.set_alias("p/ds:v0", "latest")),
    ("alias like version", InvalidNameError, "v2", lambda s, f: s.set_alias("p/ds:v0", "v2")),
]


@pytest.mark.parametrize(("label", "error", "needle", "call"), CASES, ids=[c[0] for c in CASES])
def test_bad_input(
    seeded: afs.Store,
    files: Path,
    label: str,
    error: type[ArtifactFSError],
    needle: str,
    call: Callable[[afs.Store, Path], object],
) -> None:
    before = snapshot(seeded)
    with pytest.raises(error) as info:
        call(seeded, files)
    assert needle in str(info.value)
    assert snapshot(seeded) == before


def test_bad_log_calls_leave_no_version(seeded: afs.Store, files: Path) -> None:
    run = afs.init(project="p", store=seeded)
    before = {k: v for k, v in snapshot(seeded).items() if "/runs/" not in k}
    with pytest.raises(InvalidNameError, match="latest"):
        art = draft()
        art.add_file(files / "a.txt")
        run.log_artifact(art, aliases=["latest"])
    with pytest.raises(InvalidInputError, match="Artifact"):
        run.log_artifact("ds")  # type: ignore[arg-type]
    with pytest.raises(ArtifactNotFoundError):
        run.use_artifact("nope:latest")
    with pytest.raises(InvalidReferenceError):
        run.use_artifact("ds:v1x")
    with pytest.raises(ArtifactTypeError):
        run.use_artifact("ds:latest", type="model")
    after = {k: v for k, v in snapshot(seeded).items() if "/runs/" not in k}
    assert after == before
    run.finish()


def test_logged_artifact_is_read_only(seeded: afs.Store, files: Path) -> None:
    art = seeded.artifact("p/ds:latest")
    with pytest.raises(ArtifactStateError, match="logged"):
        art.add_file(files / "a.txt")
    with pytest.raises(ArtifactStateError, match="draft"):
        _ = draft().version
    with afs.init(project="p", store=seeded) as run, pytest.raises(ArtifactStateError, match="already logged"):
        run.log_artifact(art)


def test_duplicate_entry(files: Path) -> None:
    art = draft()
    art.add_file(files / "a.txt")
    with pytest.raises(InvalidInputError, match=r"a\.txt"):
        art.add_file(files / "a.txt")
    art.add(afs.Table(dataframe=pd.DataFrame({"a": [1]})), "t")
    with pytest.raises(InvalidInputError, match=r"t\.parquet"):
        art.add(afs.Table(dataframe=pd.DataFrame({"a": [1]})), "t")


def test_errors_are_catchable_as_builtins(seeded: afs.Store) -> None:
    with pytest.raises(LookupError):
        seeded.artifact("p/ds:v9")
    with pytest.raises(ValueError):
        seeded.artifact("p/ds:vX")
    with pytest.raises(FileNotFoundError):
        draft().add_file("/no/such/file")
