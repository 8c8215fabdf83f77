"""The ``afs://`` fsspec filesystem, on every backend: listing, ``fsspec.open``, pandas,
pyarrow and DuckDB reading through it, references pinned per instance, every byte verified
(a corrupt blob is an IntegrityError through each of them), writes refused."""

from __future__ import annotations

import importlib.metadata
import io
import os
import pickle
import subprocess
import sys
import tomllib
from pathlib import Path

import duckdb
import fsspec
import numpy as np
import pandas as pd
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

import artifactfs as afs
from artifactfs import layout, shards
from artifactfs.entry import Entry
from artifactfs.errors import IntegrityError, PathNotFoundError, ReadOnlyError
from artifactfs.hashing import BLOCK_SIZE
from tests.conftest import snapshot
from tests.reads import fresh, log, reading
from tests.timeouts import HANG

ROOT = Path(__file__).resolve().parents[2]
CSV = "a,b\n1,x\n2,y\n3,z\n"
TABLE = pd.DataFrame({"x": np.arange(100, dtype="int64")})


def log_data(store: afs.Store, folder: Path, csv: str = CSV) -> afs.Artifact:
    """``p/ds``: data/train.csv and data/events/part-{0,1,2}.parquet (add_dir: plain files),
    and the table t.parquet (with block digests)."""
    (folder / "events").mkdir(parents=True, exist_ok=True)
    (folder / "train.csv").write_text(csv)
    for i in range(3):
        pd.DataFrame({"i": np.arange(i * 10, i * 10 + 10, dtype="int64"), "g": [f"k{i}"] * 10}).to_parquet(
            folder / "events" / f"part-{i}.parquet"
        )
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("ds", type="dataset")
        art.add_dir(folder, name="data")
        art.add(afs.Table(dataframe=TABLE), "t")
        return run.log_artifact(art)


def corrupt(store: afs.Store, entry: Entry) -> None:
    assert entry.digest is not None
    key = layout.blob(entry.digest)
    data = bytearray(store.backend.read(key))
    data[len(data) // 2] ^= 0xFF
    store.backend.write(key, bytes(data))


def test_listing_follows_projects_artifacts_versions_and_folders(store: afs.Store, tmp_path: Path) -> None:
    art = log_data(store, tmp_path / "data")
    fs = afs.ArtifactFileSystem(store=store)
    assert fs.ls("", detail=False) == ["p"]
    assert fs.ls("afs://p", detail=False) == ["p/ds"]
    [v0] = fs.ls("p/ds")
    assert (v0["name"], v0["type"], v0["aliases"], v0["file_count"]) == ("p/ds:v0", "directory", ["latest"], 5)
    assert fs.ls("p/ds:latest", detail=False) == ["p/ds:latest/data", "p/ds:latest/t.parquet"]
    assert fs.ls("afs://p/ds:v0/data/", detail=False) == ["p/ds:v0/data/events", "p/ds:v0/data/train.csv"]
    info = fs.info("afs://p/ds:v0/data/train.csv")
    entry = art.entries["data/train.csv"]
    assert (info["type"], info["size"], info["digest"]) == ("file", len(CSV), str(entry.digest))
    assert all(fs.isdir(p) for p in ("p", "p/ds", "p/ds:v0", "p/ds:latest/data/events"))
    assert fs.isfile("p/ds:v0/t.parquet") and not fs.isfile("p/ds:v0/data")
    parts = [f"p/ds:v0/data/events/part-{i}.parquet" for i in range(3)]
    assert fs.glob("afs://p/ds:v0/data/events/*.parquet") == parts
    assert fs.glob("p/ds:v0/**/*.csv") == ["p/ds:v0/data/train.csv"]
    assert fs.find("p/ds:v0") == sorted(f"p/ds:v0/{path}" for path in art.entries)
    folders = ["p/ds:v0/data", "p/ds:v0/data/events"]
    assert fs.find("p/ds:v0/data", withdirs=True) == [*folders, *parts, "p/ds:v0/data/train.csv"]
    assert fs.find("p/ds:v0/data", maxdepth=1) == ["p/ds:v0/data/train.csv"]
    assert fs.du("p/ds:v0") == sum(e.size for e in art.entries.values())
    assert fs.cat_file("p/ds:v0/data/train.csv", start=4, end=7) == CSV.encode()[4:7]
    assert fs.modified("p/ds:v0/data/train.csv").timestamp() == pytest.approx(info["mtime"])
    # A registry reference is an ordinary one.
    store.link("p/ds:v0", "clf", aliases=["production"])
    assert fs.ls("registry", detail=False) == ["registry/clf"]
    assert [v["name"] for v in fs.ls("registry/clf")] == ["registry/clf:v0"]
    assert fs.cat_file("afs://registry/clf:production/data/train.csv") == CSV.encode()


@pytest.mark.parametrize(
    "missing",
    ["q", "p/nope", "p/ds:v9", "p/ds:nope", "p/ds:v0/data/missing.csv", "p/ds/data/train.csv", "p/ds:v0/../t.parquet"],
)
def test_a_path_naming_nothing_is_file_not_found(memory_store: afs.Store, tmp_path: Path, missing: str) -> None:
    log_data(memory_store, tmp_path / "data")
    fs = afs.ArtifactFileSystem(store=memory_store)
    assert not fs.exists(missing)
    with pytest.raises(FileNotFoundError):
        fs.info(missing)
    with pytest.raises(PathNotFoundError):
        fs.open(f"{missing}/x.csv")
    assert fs.glob(f"{missing}/*") == []


def test_fsspec_open_takes_the_store_from_options_or_the_environment(
    store: afs.Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_data(store, tmp_path / "data")
    with fsspec.open("afs://p/ds:v0/data/train.csv", "rt", store=store.url) as f:
        assert f.read() == CSV
    with pytest.raises(PathNotFoundError, match=r"'data' is a folder"):
        fsspec.open("afs://p/ds:v0/data", store=store.url).open()
    monkeypatch.setenv("ARTIFACTFS_STORE", store.url)
    with fsspec.open("afs://p/ds:latest/data/train.csv", "rb") as f:
        assert f.read() == CSV.encode()
    fs, path = fsspec.core.url_to_fs("afs://p/ds:v0/t.parquet")
    assert isinstance(fs, afs.ArtifactFileSystem) and path == "p/ds:v0/t.parquet"
    assert fs.store.url == store.url


def test_pandas_pyarrow_and_duckdb_read_through_afs(store: afs.Store, tmp_path: Path) -> None:
    log_data(store, tmp_path / "data")
    options = {"store": store.url}
    got = pd.read_csv("afs://p/ds:v0/data/train.csv", storage_options=options)
    pd.testing.assert_frame_equal(got, pd.read_csv(io.StringIO(CSV)))
    pd.testing.assert_frame_equal(pd.read_parquet("afs://p/ds:latest/t.parquet", storage_options=options), TABLE)
    folder = pd.read_parquet("afs://p/ds:latest/data/events", storage_options=options)
    assert sorted(folder["i"]) == list(range(30))

    fs = afs.ArtifactFileSystem(store=store)
    ds = pads.dataset("p/ds:latest/data/events/", filesystem=fs, format="parquet")
    assert sorted(ds.files) == [f"p/ds:latest/data/events/part-{i}.parquet" for i in range(3)]
    table = ds.to_table(columns=["i"], filter=pads.field("i") >= 25)
    assert sorted(table.column("i").to_pylist()) == list(range(25, 30))
    assert pq.read_table("p/ds:v0/t.parquet", filesystem=fs).num_rows == 100

    con = duckdb.connect()
    try:
        con.register_filesystem(fs)
        sql = "SELECT count(*), sum(i) FROM read_parquet('afs://p/ds:latest/data/events/*.parquet')"
        assert con.sql(sql).fetchall() == [(30, 435)]
        assert con.sql("SELECT b FROM read_csv('afs://p/ds:v0/data/train.csv') ORDER BY a").fetchall() == [
            ("x",),
            ("y",),
            ("z",),
        ]
        assert con.sql("SELECT sum(x) FROM 'afs://p/ds:v0/t.parquet'").fetchall() == [(4950,)]
    finally:
        con.close()


def test_a_reference_is_pinned_for_the_life_of_an_instance(store: afs.Store, tmp_path: Path) -> None:
    log_data(store, tmp_path / "one")
    fs = afs.ArtifactFileSystem(store=store)
    path = "p/ds:latest/data/train.csv"
    assert fs.cat_file(path) == CSV.encode()
    later = "a,b\n9,w\n"
    log_data(store, tmp_path / "two", csv=later)  # p/ds:v1
    assert fs.cat_file(path) == CSV.encode()  # the same instance still reads v0 ...
    assert fs.info("p/ds:latest")["version"] == "p/ds:v0"
    assert fs.pinned() == {"p/ds:latest": "p/ds:v0"}
    assert [v["name"] for v in fs.ls("p/ds")] == ["p/ds:v0", "p/ds:v1"]  # (listings are read afresh)
    assert pickle.loads(pickle.dumps(fs)).cat_file(path) == CSV.encode()  # ... and so does a pickled copy
    assert afs.ArtifactFileSystem(store=store).cat_file(path) == later.encode()  # a new instance: v1
    with fsspec.open(f"afs://{path}", store=store.url) as f:  # (each URL opened is a new instance)
        assert f.read() == later.encode()
    fs.invalidate_cache()
    assert fs.cat_file(path) == later.encode()


def test_a_corrupt_blob_is_an_integrity_error_through_every_reader(store: afs.Store, tmp_path: Path) -> None:
    art = log_data(store, tmp_path / "data")
    for path in ("data/train.csv", "data/events/part-1.parquet", "t.parquet"):
        corrupt(store, art.entries[path])
    options = {"store": store.url}
    with pytest.raises(IntegrityError, match=r"data/train\.csv"):  # noqa: SIM117
        with fsspec.open("afs://p/ds:v0/data/train.csv", store=store.url) as f:
            f.read(1)  # not even the first byte: a file without block digests is checked whole first
    with pytest.raises(IntegrityError, match=r"data/train\.csv"):
        pd.read_csv("afs://p/ds:v0/data/train.csv", storage_options=options)
    with pytest.raises(IntegrityError, match=r"t\.parquet.*do not match"):
        pd.read_parquet("afs://p/ds:v0/t.parquet", storage_options=options)
    fs = afs.ArtifactFileSystem(store=store)
    with pytest.raises(IntegrityError, match=r"part-1\.parquet"):
        pads.dataset("p/ds:v0/data/events/", filesystem=fs, format="parquet").to_table()
    con = duckdb.connect()
    try:
        con.register_filesystem(fs)
        # DuckDB raises its own error, naming ours.
        with pytest.raises(duckdb.Error, match=r"IntegrityError: .*part-1\.parquet"):
            con.sql("SELECT count(*) FROM read_parquet('afs://p/ds:v0/data/events/*.parquet')").fetchall()
        with pytest.raises(duckdb.Error, match=r"IntegrityError: .*t\.parquet"):
            con.sql("SELECT sum(x) FROM 'afs://p/ds:v0/t.parquet'").fetchall()
    finally:
        con.close()
    assert fs.cat_file("p/ds:v0/data/events/part-0.parquet")[:4] == b"PAR1"  # the others still read


def test_a_table_is_read_by_verified_blocks_not_whole(store: afs.Store, tmp_path: Path) -> None:
    big = pd.DataFrame({"x": np.random.default_rng(0).integers(0, 2**62, 600_000)})  # ~4.8 MB: 5 blocks
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("big", type="dataset")
        art.add(afs.Table(dataframe=big), "t")
        art = run.log_artifact(art)
    entry = art.entries["t.parquet"]
    assert entry.digest is not None and entry.size > 4 * BLOCK_SIZE
    seen = reading(store.backend)
    fs = afs.ArtifactFileSystem(store=store)
    with fs.open("p/big:v0/t.parquet") as f:
        assert pq.ParquetFile(f).metadata.num_rows == len(big)  # the footer, at the end
    assert 0 < seen.by_key[layout.blob(entry.digest)] <= 2 * BLOCK_SIZE
    assert not store.cache.has(entry.digest)


def test_packed_small_files_read_through_afs(store: afs.Store, tmp_path: Path) -> None:
    folder = tmp_path / "small"
    folder.mkdir()
    for i in range(20):
        (folder / f"f{i:02d}.txt").write_text(f"file {i}\n" * (i + 1))
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("small", type="dataset")
        art.add_dir(folder)
        art = run.log_artifact(art)
    assert all(e.where is not None for e in art.entries.values())  # small new files go to a pack
    fs = afs.ArtifactFileSystem(store=store)
    assert len(fs.find("p/small:v0")) == 20
    for i in (0, 7, 19):
        assert fs.cat_file(f"p/small:v0/f{i:02d}.txt") == f"file {i}\n".encode() * (i + 1)


def test_a_sharded_version_is_listed_a_shard_at_a_time(tmp_path: Path) -> None:
    folders, n = 7, shards.SINGLE_MAX + 4000  # several shards
    src = tmp_path / "src"
    for f in range(folders):
        (src / f"d{f}").mkdir(parents=True)
    for i in range(n):
        (src / f"d{i % folders}" / f"f{i:06d}.txt").write_text(str(i % 50))  # 50 distinct blobs
    (src / "top.txt").write_text("top\n")
    log(str(tmp_path / "store"), src, name="big")
    store = fresh(str(tmp_path / "store"), tmp_path / "cache")
    seen = reading(store.backend)
    fs = afs.ArtifactFileSystem(store=store)
    assert fs.ls("p/big:v0", detail=False) == [*(f"p/big:v0/d{f}" for f in range(folders)), "p/big:v0/top.txt"]
    assert fs.info("p/big:v0/d3")["type"] == "directory" and fs.cat_file("p/big:v0/top.txt") == b"top\n"
    art = store.artifact("p/big:v0")
    assert art.manifest.sharded and len(art.manifest.shards) > folders // 2
    read = [k for k in seen.keys if k.startswith("manifests/")]
    assert len(read) < len(art.manifest.shards)  # the top of the version, not every shard
    assert len(fs.ls("p/big:v0/d6")) == len([i for i in range(n) if i % folders == 6])
    assert len(fs.find("p/big:v0")) == n + 1


def test_writes_are_refused(store: afs.Store, tmp_path: Path) -> None:
    log_data(store, tmp_path / "data")
    before = snapshot(store)
    fs = afs.ArtifactFileSystem(store=store)
    local = tmp_path / "local.txt"
    local.write_text("x")
    calls = [
        lambda: fs.open("p/ds:v0/new.csv", "wb"),
        lambda: fs.open("p/ds:v0/data/train.csv", "ab"),
        lambda: fsspec.open("afs://p/ds:v0/new.csv", "w", store=store.url).open(),
        lambda: fs.pipe("p/ds:v0/x", b"1"),
        lambda: fs.rm("p/ds:v0/data/train.csv"),
        lambda: fs.rm("p/ds:v0", recursive=True),
        lambda: fs.mkdir("p/ds:v0/new"),
        lambda: fs.makedirs("p/new", exist_ok=True),
        lambda: fs.touch("p/ds:v0/new"),
        lambda: fs.mv("p/ds:v0/data/train.csv", "p/ds:v0/moved.csv"),
        lambda: fs.copy("p/ds:v0/data/train.csv", "p/ds:v0/copied.csv"),
        lambda: fs.put(str(local), "p/ds:v0/local.txt"),
        lambda: pd.DataFrame({"a": [1]}).to_csv("afs://p/ds:v0/out.csv", storage_options={"store": store.url}),
    ]
    for call in calls:
        with pytest.raises(ReadOnlyError, match="read-only"):
            call()
    assert snapshot(store) == before


def test_a_reference_entry_is_read_verified(tmp_path: Path) -> None:
    store = afs.open_store(tmp_path / "store")
    outside = tmp_path / "outside.csv"
    outside.write_text(CSV)
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("refs", type="dataset")
        art.add_reference(outside.as_uri(), name="outside.csv")
        run.log_artifact(art)
    fs = afs.ArtifactFileSystem(store=store)
    assert fs.info("p/refs:v0/outside.csv")["kind"] == "reference"
    assert fs.cat_file("p/refs:v0/outside.csv") == CSV.encode()
    outside.write_text(CSV.upper())  # changed since it was logged
    with pytest.raises(IntegrityError, match=r"outside\.csv"):
        fs.cat_file("p/refs:v0/outside.csv")


def test_afs_urls_work_in_a_fresh_interpreter_through_the_entry_point(tmp_path: Path) -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["fsspec.specs"]
    assert declared == {"afs": "artifactfs.fsspec_fs:ArtifactFileSystem"}
    if "afs" not in importlib.metadata.entry_points(group="fsspec.specs").names:
        reason = "the installed artifactfs predates its fsspec entry point: reinstall it (pip install -e .)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    log_data(afs.open_store(tmp_path / "store"), tmp_path / "data")
    # No import of artifactfs: fsspec finds afs:// through the installed package's entry point.
    code = (
        "import fsspec\nwith fsspec.open('afs://p/ds:latest/data/train.csv', 'rt') as f:\n    print(f.read(), end='')\n"
    )
    env = {**os.environ, "ARTIFACTFS_STORE": str(tmp_path / "store")}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=HANG)
    assert res.returncode == 0, res.stderr
    assert res.stdout == CSV
