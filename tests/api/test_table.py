"""Tables: exact dtype round trips and lazy, row-group-sized reads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import artifactfs as afs
from artifactfs.errors import EntryNotFoundError, InvalidInputError
from artifactfs.table import ROW_GROUP_SIZE


def log_table(store: afs.Store, df: pd.DataFrame, name: str = "t") -> afs.Artifact:
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("tables", type="dataset")
        art.add(afs.Table(dataframe=df), name=name)
        return run.log_artifact(art)


def test_dtypes_round_trip_exactly(store: afs.Store) -> None:
    n = 6
    df = pd.DataFrame(
        {
            "i64": np.arange(n, dtype="int64"),
            "i32": np.arange(n, dtype="int32"),
            "f": np.linspace(0, 1, n),
            "s": ["a", "bb", None, "dddd", "e", "f"],
            "b": [True, False, True, True, False, False],
            "nullable_int": pd.array([1, None, 3, 4, None, 6], dtype="Int64"),
            "nullable_bool": pd.array([True, None, False, True, None, False], dtype="boolean"),
            "ts": pd.date_range("2024-01-01", periods=n, freq="h", tz="Europe/Paris"),
            "naive": pd.date_range("2024-01-01", periods=n, freq="D"),
            "cat": pd.Categorical(["x", "y", "x", None, "z", "y"], categories=["z", "y", "x"], ordered=True),
            "fnan": [1.0, np.nan, 3.0, np.nan, 5.0, 6.0],
        },
        index=pd.RangeIndex(10, 10 + n),
    )
    art = log_table(store, df)
    back = art.get_table("t").dataframe()
    pd.testing.assert_frame_equal(back, df)
    assert art.entries["t.parquet"].kind == "table"
    assert art.entries["t.parquet"].extra["num_rows"] == n


def test_non_range_index_round_trips(store: afs.Store) -> None:
    df = pd.DataFrame({"v": [1, 2, 3]}, index=pd.Index(["a", "b", "c"], name="key"))
    pd.testing.assert_frame_equal(log_table(store, df).get_table("t").dataframe(), df)


def test_lazy_reads(store: afs.Store) -> None:
    n = ROW_GROUP_SIZE * 3 + 10
    df = pd.DataFrame({"i": np.arange(n), "s": np.arange(n).astype(str)})
    art = log_table(store, df, name="big.parquet")
    with art.get_table("big.parquet") as t:
        assert t.num_rows == n
        assert t.columns == ["i", "s"]
        assert t.schema.field("i").type == pa.int64()
        part = t.slice(ROW_GROUP_SIZE - 2, 5)
        assert part.column("i").to_pylist() == list(range(ROW_GROUP_SIZE - 2, ROW_GROUP_SIZE + 3))
        assert t.slice(n - 3, 100).num_rows == 3
        assert t.slice(n + 5, 10).num_rows == 0
        assert sum(b.num_rows for b in t.iter_batches(batch_size=50_000)) == n
        only = t.slice(0, 2, columns=["s"])
        assert only.column_names == ["s"]


def test_slice_reads_only_needed_row_groups(store: afs.Store) -> None:
    n = ROW_GROUP_SIZE * 4
    df = pd.DataFrame({"i": np.arange(n)})
    art = log_table(store, df)
    t = art.get_table("t")
    t._parquet()  # footer only
    pf = t._file
    assert pf is not None
    read: list[list[int]] = []
    original = pf.read_row_groups

    def spy(groups: list[int], **kw: object) -> pa.Table:
        read.append(list(groups))
        return original(groups, **kw)

    pf.read_row_groups = spy  # type: ignore[method-assign]
    t.slice(ROW_GROUP_SIZE * 2 + 5, 10)
    assert read == [[2]]
    t.close()


def test_bad_table_inputs(store: afs.Store) -> None:
    with pytest.raises(InvalidInputError, match="DataFrame"):
        afs.Table(dataframe=[1, 2, 3])  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="DataFrame"):
        afs.Table()
    art = afs.Artifact("x", type="dataset")
    with pytest.raises(InvalidInputError, match="Table"):
        art.add(pd.DataFrame({"a": [1]}), name="t")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        afs.Table(dataframe=pd.DataFrame({"a": [object()]}))


def test_get_table_on_a_file_entry(store: afs.Store, tmp_path: object) -> None:
    art = log_table(store, pd.DataFrame({"a": [1]}))
    with pytest.raises(EntryNotFoundError, match="nope"):
        art.get_table("nope")


def flip(path_or_store: afs.Store, key: str, offset: int) -> None:
    data = bytearray(path_or_store.backend.read(key))
    data[offset] ^= 0xFF
    path_or_store.backend.write(key, bytes(data))


def test_table_reads_are_verified(store: afs.Store) -> None:
    from artifactfs import layout
    from artifactfs.errors import IntegrityError

    n = ROW_GROUP_SIZE * 3
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.random(n), "y": rng.integers(0, 1 << 60, n)})
    art = log_table(store, df)
    entry = art.entries["t.parquet"]
    assert entry.digest is not None and entry.extra["blocks"]["size"] == 1 << 20
    key = layout.blob(entry.digest)
    with art.get_table("t") as t:
        last_group = t._parquet().metadata.row_group(2).column(0).data_page_offset
    flip(store, key, last_group + 1000)  # inside the last row group
    with art.get_table("t") as t:
        assert t.slice(0, 10).num_rows == 10  # the first row group's blocks are intact
        with pytest.raises(IntegrityError, match=key):
            t.slice(n - 10, 10)
    with pytest.raises(IntegrityError, match=r"t\.parquet"):
        art.get_table("t").dataframe()


def test_corrupt_cached_table_is_refetched(memory_store: afs.Store, tmp_path: object) -> None:
    store = memory_store
    df = pd.DataFrame({"x": np.arange(ROW_GROUP_SIZE * 2, dtype="int64")})
    art = log_table(store, df)
    art.download(str(tmp_path) + "/out")  # puts the blob in the cache
    entry = art.entries["t.parquet"]
    assert entry.digest is not None
    cached = store.cache.path(entry.digest)
    data = bytearray(cached.read_bytes())
    data[100] ^= 0xFF
    cached.write_bytes(bytes(data))
    pd.testing.assert_frame_equal(art.get_table("t").dataframe(), df)
    assert not cached.exists() or cached.read_bytes()[100] != data[100]


def test_row_groups_and_column_stats(store: afs.Store) -> None:
    n = ROW_GROUP_SIZE * 2 + 5
    df = pd.DataFrame({"i": np.arange(n), "s": ["short"] * (n - 1) + ["a much longer value at the very end"]})
    with log_table(store, df).get_table("t") as t:
        assert t.row_groups == [(0, ROW_GROUP_SIZE), (ROW_GROUP_SIZE, ROW_GROUP_SIZE), (2 * ROW_GROUP_SIZE, 5)]
        assert t.read_row_group(2).column("i").to_pylist() == list(range(2 * ROW_GROUP_SIZE, n))
        stats = t.column_stats()
        assert stats["i"] == (0, n - 1)
        assert stats["s"][0] == "a much longer value at the very end"  # min by byte order


def test_max_lengths_recorded_for_text_columns(store: afs.Store) -> None:
    df = pd.DataFrame({"s": ["a"] * 1000 + ["x" * 77], "i": range(1001)})
    with log_table(store, df).get_table("t") as t:
        assert t.max_lengths() == {"s": 77}
    pd.testing.assert_frame_equal(log_table(store, df).get_table("t").dataframe(), df)


def test_diff_reports_table_schema_and_rows(store: afs.Store) -> None:
    a = log_table(store, pd.DataFrame({"x": [1, 2], "y": ["a", "b"]}))
    b = log_table(store, pd.DataFrame({"x": [1.5, 2.0, 3.0], "z": [True, False, True]}))
    d = afs.diff(a, b)
    assert (d.added, d.removed, d.changed) == ([], [], ["t.parquet"])
    assert set(d.notes) == {
        "t.parquet: column z added (bool)",
        "t.parquet: column y removed",
        "t.parquet: column x int64 -> double",
        "t.parquet: rows 2 -> 3",
    }


def test_parquet_parts_at_an_unknown_url_are_refused_naming_it(store: afs.Store) -> None:
    art = afs.Artifact("events", type="dataset")
    art.add(afs.Table.from_parquet("nosuchproto://bucket/events/"), "events")
    with (
        afs.init(project="p", store=store) as run,
        pytest.raises(InvalidInputError, match="nosuchproto://bucket/events/"),
    ):
        run.log_artifact(art)


def test_one_table_read_from_many_threads(store: afs.Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The browser reads row groups of one table from several threads while a sort streams it:
    every read gets its own rows (pyarrow's reader is not safe in two threads at once; sharing
    it crashed the interpreter)."""
    import random
    import threading

    import artifactfs.parquet

    group = 1_000
    monkeypatch.setattr(artifactfs.parquet, "ROW_GROUP_SIZE", group)
    n = group * 24
    art = log_table(store, pd.DataFrame({"i": np.arange(n), "s": np.arange(n).astype(str)}))
    t = art.get_table("t")
    wrong: list[str] = []

    def pages(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(60):
            g = rng.randrange(24)
            rows = t.read_row_group(g).column("i").to_pylist()
            if rows != list(range(g * group, (g + 1) * group)):
                wrong.append(f"row group {g}")
            if rng.random() < 0.2:
                got = t.slice(g * group + 5, 10).column("s").to_pylist()
                if got != [str(i) for i in range(g * group + 5, g * group + 15)]:
                    wrong.append(f"slice at {g * group + 5}")

    def stream() -> None:
        for _ in range(3):
            seen = [v for b in t.iter_batches(batch_size=700, columns=["i"]) for v in b.column(0).to_pylist()]
            if seen != list(range(n)):
                wrong.append("stream")

    threads = [threading.Thread(target=pages, args=(k,)) for k in range(4)] + [threading.Thread(target=stream)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert wrong == []
    assert len(t.row_groups) == 24
