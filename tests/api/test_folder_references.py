"""add_reference of a folder or prefix: one reference entry per object, from one listing, on
every backend; objects gone or changed since are caught by download and by verify."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest
from click.testing import CliRunner

import artifactfs as afs
from artifactfs.cli import cli
from artifactfs.errors import (
    IntegrityError,
    InvalidInputError,
    MissingReferenceError,
    MissingReferenceWarning,
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
    assert store.verify(references=True) == []

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


def test_changed_and_missing_objects_are_caught(store: afs.Store, outside: str, tmp_path: Path) -> None:
    for rel, data in DATA.items():
        put(f"{outside}/data/{rel}", data)
    logged = log_folder(store, f"{outside}/data/")
    assert store.verify() == [] and store.verify(references=True) == []

    put(f"{outside}/data/a.txt", b"ALPHA")  # same size, other bytes
    problems = store.verify(references=True)
    assert [(p.kind, p.key) for p in problems] == [("changed", f"{outside}/data/a.txt")]
    assert "p/refs:v0 entry 'a.txt'" in problems[0].message
    assert store.verify() == []  # references are asked about only when asked for
    with pytest.raises(IntegrityError, match=r"a\.txt"):
        logged.download(tmp_path / "changed")
    assert not (tmp_path / "changed" / "a.txt").exists()  # never written as if it were v0's

    remove(f"{outside}/data/sub/b.txt")
    problems = store.verify(references=True)
    assert sorted((p.kind, p.key) for p in problems) == [
        ("changed", f"{outside}/data/a.txt"),
        ("missing", f"{outside}/data/sub/b.txt"),
    ]
    with pytest.raises(MissingReferenceError, match=rf"'sub/b\.txt': referenced object {outside}/data/sub/b\.txt"):
        logged.download(tmp_path / "gone", include=["sub/*"])
    again = log_folder(store, f"{outside}/data/")  # recorded as it is now: a new listing
    assert sorted(again.entries) == ["a.txt", "sub/deeper/c.bin"] and again.version == "v1"
    with pytest.warns(MissingReferenceWarning, match=r"1 referenced object\(s\) no longer exist.*sub/b\.txt"):
        out = Path(logged.download(tmp_path / "skipping", allow_missing_references=True, include=["sub/*"]))
    assert files_under(out) == {"sub/deeper/c.bin": DATA["sub/deeper/c.bin"]}


def test_checksum_false_folder_records_uris_and_sizes(memory_store: afs.Store, tmp_path: Path) -> None:
    folder = tmp_path / "live"
    for rel, data in DATA.items():
        put(f"{folder.as_uri()}/{rel}", data)
    logged = log_folder(memory_store, folder.as_uri(), checksum=False)
    e = logged.entries["a.txt"]
    assert e.digest is None and e.extra["checksum"] is False and "etag" not in e.extra and e.size == 5
    (folder / "a.txt").write_bytes(b"changed, and longer")  # fetched as it is: nothing to check
    assert memory_store.verify(references=True) == []
    (folder / "sub" / "b.txt").unlink()
    assert [p.kind for p in memory_store.verify(references=True)] == ["missing"]


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


def test_verify_names_every_version_of_a_shared_reference(memory_store: afs.Store, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    for rel, data in DATA.items():
        put(f"{folder.as_uri()}/{rel}", data)
    with afs.init(project="p", store=memory_store) as run:
        for name in ("one", "two"):
            art = afs.Artifact(name, type="dataset")
            art.add_reference(folder.as_uri())
            run.log_artifact(art)
    (folder / "sub" / "deeper" / "c.bin").write_bytes(bytes(100))
    problems = memory_store.verify(references=True)
    assert sorted(p.message.split(": ")[0] for p in problems) == [
        "p/one:v0 entry 'sub/deeper/c.bin'",
        "p/two:v0 entry 'sub/deeper/c.bin'",
    ]
    assert {(p.kind, p.key) for p in problems} == {("changed", f"{folder.as_uri()}/sub/deeper/c.bin")}


def test_cli_verify_references_and_get_allow_missing_references(tmp_path: Path) -> None:
    url, folder = str(tmp_path / "store"), tmp_path / "data"
    for rel, data in DATA.items():
        put(f"{folder.as_uri()}/{rel}", data)
    log_folder(afs.open_store(url), folder.as_uri())
    (folder / "a.txt").unlink()
    runner = CliRunner()
    assert runner.invoke(cli, ["--store", url, "verify"], obj={}).exit_code == 0
    checked = runner.invoke(cli, ["--store", url, "verify", "--references"], obj={})
    assert checked.exit_code == 1 and f"missing: {folder.as_uri()}/a.txt" in checked.output
    failed = runner.invoke(cli, ["--store", url, "get", "p/refs:v0", str(tmp_path / "o1")], obj={})
    assert failed.exit_code == 1 and "no longer exists" in failed.output
    with warnings.catch_warnings():
        warnings.simplefilter("always", MissingReferenceWarning)  # shown by the command, as it would be
        got = runner.invoke(
            cli, ["--store", url, "get", "p/refs:v0", str(tmp_path / "o2"), "--allow-missing-references"], obj={}
        )
    assert got.exit_code == 0, got.output
    assert "warning: p/refs:v0: 1 referenced object(s) no longer exist" in got.output
    assert sorted(files_under(tmp_path / "o2")) == ["sub/b.txt", "sub/deeper/c.bin"]


def test_a_web_folder_is_one_object(memory_store: afs.Store, http_server: Served) -> None:
    # A web server's folder is a page of links, not a listing: it is never followed.
    http_server.files["listing/"] = b'<a href="x.csv">x.csv</a>'
    http_server.files["listing/x.csv"] = b"a,b\n"
    art = afs.Artifact("refs", type="dataset")
    art.add_reference(http_server.url("listing/"))
    assert list(art._staged) == ["listing"]
    assert art._staged["listing"].entry is not None and art._staged["listing"].entry.size == 25
