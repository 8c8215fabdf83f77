"""Partitioned tables written by a Dask cluster (worker processes) and read in place."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow.dataset as pads
import pytest

import artifactfs as afs
from artifactfs.errors import InvalidInputError, JobError
from artifactfs.partitioned import opened_parts
from tests.conftest import make_root
from tests.timeouts import HANG

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.xdist_group("dask")  # one cluster per test process, shared by these tests

ROWS, PARTS = 40_000, 8


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[distributed.Client]:
    """Two worker processes, as on a real cluster: they share nothing with this process but the store."""
    cache = tmp_path_factory.mktemp("worker-cache")
    env = {"ARTIFACTFS_CACHE_DIR": str(cache)}  # workers never touch the user's cache
    with (
        distributed.LocalCluster(
            # ":0": the scheduler's HTTP server (it starts one even without a dashboard) on a port
            # of its own; its default, 8787, may be taken by another cluster on a shared machine.
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            env=env,
        ) as lc,
        distributed.Client(lc) as client,
    ):
        yield client


def frame(n: int = ROWS) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": range(n),
            "x": [i * 0.5 for i in range(n)],
            "name": [f"n{i % 97}" for i in range(n)],
            "maybe": [None if i % 5 == 0 else i for i in range(n)],
        }
    )


def same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Equal values; text may come back as pandas' string dtype where it went in as object/str."""
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    for c in ("id", "x", "maybe"):
        if c in got:
            assert got[c].dtype == expected[c].dtype, c


def log_dask(store: afs.Store, ddf: object, name: str = "events") -> afs.Artifact:
    with afs.init(project="p", job_type="etl", store=store) as run:
        art = afs.Artifact("events", type="dataset")
        art.add(afs.Table.from_dask(ddf), name)
        return run.log_artifact(art)


@pytest.fixture(params=["local", "s3"])
def shared_store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[afs.Store]:
    """A store the worker processes reach too: a local folder, or the S3 emulator."""
    for url in make_root(request, request.param, tmp_path, monkeypatch):
        yield afs.open_store(url)


def test_workers_write_the_parts_and_the_table_reads_back(
    cluster: distributed.Client, shared_store: afs.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    df = frame()
    ddf = dd.from_pandas(df, npartitions=PARTS)

    def no_client_writes(self: object, what: object, *args: object, **kw: object) -> None:
        if what:  # (put_files with an empty list is a no-op)
            raise AssertionError("a part passed through the client")

    for method in ("put_file", "put_files", "adopt"):  # in this process only: workers write the parts
        monkeypatch.setattr(type(shared_store.backend), method, no_client_writes)
    art = log_dask(shared_store, ddf)
    parts = [e for e in art.entries.values() if e.extra.get("dataset") == "events"]
    assert [e.path for e in parts] == [f"events/part-{i:05d}.parquet" for i in range(PARTS)]
    table = art.get_table("events")
    assert isinstance(table, afs.PartitionedTable)
    assert table.num_rows == ROWS and table.num_parts == PARTS
    same(table.dataframe(), df)
    assert art.tables() == ["events"]
    assert art.logged_by() is not None and art.logged_by().job_type == "etl"  # type: ignore[union-attr]
    assert shared_store.verify(deep=True) == []


def test_filters_open_only_the_matching_parts(cluster: distributed.Client, shared_store: afs.Store) -> None:
    df = frame()
    art = log_dask(shared_store, dd.from_pandas(df, npartitions=PARTS))
    table = art.get_table("events")
    ds = table.to_dataset()
    got = ds.to_table(filter=(pads.field("id") >= 100) & (pads.field("id") < 200), columns=["id", "name"])
    assert got.column("id").to_pylist() == list(range(100, 200))
    assert opened_parts(ds) == ["events/part-00000.parquet"]  # one part of eight read
    nulls = table.to_dataset()
    assert nulls.count_rows(filter=pads.field("maybe").is_null()) == ROWS // 5  # nulls are never pruned away


def test_slice_and_row_groups_span_parts(cluster: distributed.Client, tmp_path: Path) -> None:
    store = afs.open_store(str(tmp_path / "store"))
    df = frame()
    table = log_dask(store, dd.from_pandas(df, npartitions=PARTS)).get_table("events")
    edge = ROWS // PARTS
    got = table.slice(edge - 3, 10).to_pandas()
    same(got, df.iloc[edge - 3 : edge + 7].reset_index(drop=True))
    assert sum(n for _, n in table.row_groups) == ROWS
    assert table.read_row_group(len(table.row_groups) - 1).num_rows == table.row_groups[-1][1]
    assert table.column_stats()["id"] == (0, ROWS - 1)
    assert sum(b.num_rows for b in table.iter_batches(batch_size=4096)) == ROWS


def test_to_dask_reads_in_place_with_projection_and_filter(cluster: distributed.Client, tmp_path: Path) -> None:
    store = afs.open_store(str(tmp_path / "store"))
    df = frame()
    table = log_dask(store, dd.from_pandas(df, npartitions=PARTS)).get_table("events")
    back = table.to_dask(columns=["id", "x"], filter=pads.field("id") >= ROWS - 10).compute()
    assert back["id"].tolist() == list(range(ROWS - 10, ROWS)) and list(back.columns) == ["id", "x"]
    assert table.to_dask().npartitions == PARTS
    assert len(table.to_dask(filter=pads.field("id") >= ROWS - 10).compute()) == 10


def test_a_single_part_table_scans_the_same_way(cluster: distributed.Client, tmp_path: Path) -> None:
    store = afs.open_store(str(tmp_path / "store"))
    df = frame(1000)
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("one", type="dataset")
        art.add(afs.Table(dataframe=df), "one")
        logged = run.log_artifact(art)
    table = logged.get_table("one")
    assert table.to_dataset().count_rows(filter=pads.field("id") < 10) == 10
    assert table.to_dask(columns=["id"]).compute()["id"].tolist() == list(range(1000))


def _explode_on(marker: str, i: int) -> pd.DataFrame:
    """A partition whose computation kills its worker process (once, if the marker file says so)."""
    if i == 5 and os.path.exists(marker):
        if Path(marker).read_text() == "once":
            os.unlink(marker)
        os.kill(os.getpid(), signal.SIGKILL)
    return frame(1000).assign(id=lambda d: d["id"] + i * 1000)


def test_a_worker_killed_mid_job_leaves_no_version(cluster: distributed.Client, tmp_path: Path) -> None:
    store = afs.open_store(str(tmp_path / "store"))
    marker = tmp_path / "kill"
    marker.write_text("always")
    ddf = dd.from_map(_explode_on, [str(marker)] * PARTS, range(PARTS))
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        pytest.raises(JobError, match="writing the parts of table 'events' failed"),
    ):
        log_dask(store, ddf)
    assert store.projects() == [] or store.artifacts("p") == []
    assert store.verify(deep=True) == []
    # Later tests need a worker, not two: on a loaded machine a nanny may give up restarting its
    # killed worker (seen once: one of two came back), and the module's cluster goes on with one.
    cluster.wait_for_workers(1, timeout=HANG)


def test_a_retried_partition_gives_a_complete_version(cluster: distributed.Client, tmp_path: Path) -> None:
    store = afs.open_store(str(tmp_path / "store"))
    marker = tmp_path / "kill"
    marker.write_text("once")
    art = log_dask(store, dd.from_map(_explode_on, [str(marker)] * PARTS, range(PARTS)))
    assert art.get_table("events").num_rows == PARTS * 1000
    assert store.verify(deep=True) == []
    # Later tests need a worker, not two: on a loaded machine a nanny may give up restarting its
    # killed worker (seen once: one of two came back), and the module's cluster goes on with one.
    cluster.wait_for_workers(1, timeout=HANG)


def test_workers_that_cannot_reach_the_store_are_an_error(cluster: distributed.Client, memory_store: afs.Store) -> None:
    # memory:// is private to each process: the workers' parts never reach this one
    with pytest.raises(JobError, match="missing from store"):
        log_dask(memory_store, dd.from_pandas(frame(100), npartitions=2))
    assert memory_store.projects() == [] or memory_store.artifacts("p") == []


def test_from_parquet_logs_parts_already_written(tmp_path: Path) -> None:
    df = frame(5000)
    dd.from_pandas(df, npartitions=4).to_parquet(tmp_path / "out", write_index=False)
    store = afs.open_store(str(tmp_path / "store"))
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("events", type="dataset")
        art.add(afs.Table.from_parquet(tmp_path / "out"), "events")
        logged = run.log_artifact(art)
    table = logged.get_table("events")
    assert table.num_parts == 4
    same(table.dataframe(), df)
    out = Path(logged.download(tmp_path / "dl"))
    assert pads.dataset(out / "events").count_rows() == 5000  # a download is a Parquet dataset too


def test_from_parquet_bad_input(tmp_path: Path) -> None:
    store = afs.open_store(str(tmp_path / "store"))
    (tmp_path / "empty").mkdir()
    (tmp_path / "mixed").mkdir()
    frame(10).to_parquet(tmp_path / "mixed" / "a.parquet")
    frame(10).rename(columns={"x": "y"}).to_parquet(tmp_path / "mixed" / "b.parquet")
    (tmp_path / "garbage").mkdir()
    (tmp_path / "garbage" / "a.parquet").write_bytes(b"not parquet at all")
    for folder, message in (
        ("empty", "no Parquet files"),
        ("mixed", "another schema"),
        ("garbage", r"garbage/a\.parquet is not a readable Parquet file"),
    ):
        with afs.init(project="p", store=store) as run:
            art = afs.Artifact("events", type="dataset")
            art.add(afs.Table.from_parquet(tmp_path / folder), "events")
            with pytest.raises(InvalidInputError, match=message):
                run.log_artifact(art)
    assert store.artifacts("p") == []
    with pytest.raises(InvalidInputError, match="dask DataFrame"):
        afs.Table.from_dask(frame(10))  # type: ignore[arg-type]
    art = afs.Artifact("x", type="dataset")
    art.add_file(tmp_path / "mixed" / "a.parquet", "events/a.parquet")
    with pytest.raises(InvalidInputError, match="already has an entry"):
        art.add(afs.Table.from_parquet(tmp_path / "mixed"), "events")


def test_the_example_runs(tmp_path: Path) -> None:
    example = Path(__file__).parents[2] / "examples" / "partitioned_tables.py"
    res = subprocess.run(
        [sys.executable, str(example), str(tmp_path / "store"), "--rows", "600000"],
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "logged clickstream/events:v0: 600,000 rows in 2 parts" in res.stdout
    assert "last million events, 2 of 5 columns: 600,000 rows" in res.stdout
    assert "country" in res.stdout  # the DuckDB query's table
