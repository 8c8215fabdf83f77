"""add_reference of a folder or prefix: one reference entry per object, from one listing, on
every backend."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest

import artifactfs as afs
from artifactfs.errors import (
    InvalidInputError,
)
from artifactfs.settings import storage_options_for
from tests.conftest import drop_memory
from tests.httpserver import Served


@pytest.fixture
def outside(store_url: str, tmp_path: Path) -> Iterator[str]:
    """A folder URI beside the store, on the same backend (the same emulator's bucket)."""
    if "://" not in store_url:
        yield (tmp_path / "outside").as_uri()
    elif store_url.startswith("memory://"):
        root = f"memory://outside-{uuid.uuid4().hex}"
        yield root
        drop_memory(root)
    else:
        yield store_url.rsplit("/", 1)[0] + "/outside"


def client(uri: str) -> tuple[fsspec.AbstractFileSystem, str]:
    """Another client than artifactfs's (no instance or listing shared): a change made through
    it is one made by someone else."""
    fs, path = fsspec.core.url_to_fs(uri, skip_instance_cache=True, **storage_options_for(uri))
    return fs, path


def put(uri: str, data: bytes) -> None:
    fs, path = client(uri)
    if isinstance(fs, fsspec.implementations.local.LocalFileSystem):
        fs.makedirs(fs._parent(path), exist_ok=True)
    fs.pipe_file(path, data)


def remove(uri: str) -> None:
    fs, path = client(uri)
    fs.rm_file(path)


DATA = {"a.txt": b"alpha", "sub/b.txt": b"beta", "sub/deeper/c.bin": bytes(range(100))}


def log_folder(store: afs.Store, uri: str, **kw: object) -> afs.Artifact:
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("refs", type="dataset")
        art.add_reference(uri, **kw)  # type: ignore[arg-type]
        return run.log_artifact(art)


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_folder_reference_records_each_object_without_copying(store: afs.Store, outside: str, tmp_path: Path) -> None:
    for rel, data in DATA.items():
        put(f"{outside}/data/{rel}", data)
    put(f"{outside}/data-not-below/x.txt", b"beside the prefix")
    logged = log_folder(store, f"{outside}/data/", max_objects=3)
    assert sorted(logged.entries) == sorted(DATA)  # below the prefix, as W&B names them
    for rel, data in DATA.items():
        e = logged.entries[rel]
        assert (e.kind, e.size, e.extra["uri"]) == ("reference", len(data), f"{outside}/data/{rel}")
        assert e.digest is not None or str(e.extra["etag"])  # a checksum either way
    assert list(store.backend.walk("blobs")) == []  # nothing was copied
    assert files_under(Path(logged.download(tmp_path / "out"))) == DATA

    # Without the trailing "/", named: the same objects under that name.
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("named", type="dataset")
        art.add_reference(f"{outside}/data", name="inputs")
        named = run.log_artifact(art)
    assert sorted(named.entries) == sorted(f"inputs/{rel}" for rel in DATA)


def test_more_objects_than_max_objects_records_none(store: afs.Store, outside: str) -> None:
    for rel, data in DATA.items():
        put(f"{outside}/data/{rel}", data)
    art = afs.Artifact("refs", type="dataset")
    with pytest.raises(InvalidInputError, match=r"holds 3 objects, more than max_objects=2"):
        art.add_reference(f"{outside}/data/", max_objects=2)
    with pytest.raises(InvalidInputError, match="holds no objects"):
        art.add_reference(f"{outside}/nothing-here/")
    art.add_reference(f"{outside}/data/sub/", max_objects=2)
    assert sorted(art._staged) == ["b.txt", "deeper/c.bin"]  # only the call that succeeded


def test_a_folder_reference_that_clashes_adds_nothing(memory_store: afs.Store, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    for rel, data in DATA.items():
        put(f"{folder.as_uri()}/{rel}", data)
    art = afs.Artifact("refs", type="dataset")
    art.add_reference((folder / "a.txt").as_uri(), name="in/sub")
    with pytest.raises(InvalidInputError, match="cannot both be added"):
        art.add_reference(folder.as_uri(), name="in")  # in/sub/b.txt below the file in/sub
    assert list(art._staged) == ["in/sub"]
    for bad in (0, -1, True, "10"):
        with pytest.raises(InvalidInputError, match="max_objects"):
            art.add_reference(folder.as_uri(), max_objects=bad)  # type: ignore[arg-type]


def test_a_web_folder_is_one_object(memory_store: afs.Store, http_server: Served) -> None:
    # A web server's folder is a page of links, not a listing: it is never followed.
    http_server.files["listing/"] = b'<a href="x.csv">x.csv</a>'
    http_server.files["listing/x.csv"] = b"a,b\n"
    art = afs.Artifact("refs", type="dataset")
    art.add_reference(http_server.url("listing/"))
    assert list(art._staged) == ["listing"]
    assert art._staged["listing"].entry is not None and art._staged["listing"].entry.size == 25
