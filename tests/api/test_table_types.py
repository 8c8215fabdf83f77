"""Any DataFrame pyarrow can write is storable, and reads back as pyarrow reads it back; one it
cannot write is an InvalidInputError naming the column."""

from __future__ import annotations

import datetime as dt
import decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import artifactfs as afs
from artifactfs.errors import InvalidInputError

FRAMES = {
    "all-none-object": lambda: pd.DataFrame({"a": [None, None], "b": [1, 2]}),
    "all-nan-object": lambda: pd.DataFrame({"x": [np.nan, np.nan]}, dtype=object),
    "period": lambda: pd.DataFrame({"p": pd.period_range("2024-01", periods=3, freq="M")}),
    "interval": lambda: pd.DataFrame({"i": pd.interval_range(0, 3)}),
    "categorical": lambda: pd.DataFrame({"c": pd.Categorical(["a", "b", "a"])}),
    "tz-aware": lambda: pd.DataFrame({"t": pd.date_range("2024", periods=3, tz="Europe/Paris")}),
    "timedelta": lambda: pd.DataFrame({"d": pd.to_timedelta([1, 2, 3], unit="s")}),
    "nullable-int": lambda: pd.DataFrame({"n": pd.array([1, None, 3], dtype="Int64")}),
    "nullable-bool": lambda: pd.DataFrame({"b": pd.array([True, None, False], dtype="boolean")}),
    "decimal": lambda: pd.DataFrame({"d": [decimal.Decimal("1.1"), decimal.Decimal("2.2")]}),
    "bytes": lambda: pd.DataFrame({"b": [b"x", b"y"]}),
    "lists": lambda: pd.DataFrame({"l": [[1, 2], [3]]}),
    "structs": lambda: pd.DataFrame({"s": [{"a": 1}, {"a": 2}]}),
    "dates": lambda: pd.DataFrame({"d": [dt.date(2024, 1, 1), dt.date(2024, 1, 2)]}),
    "empty": lambda: pd.DataFrame(),
    "no-rows": lambda: pd.DataFrame({"a": pd.Series([], dtype="float64")}),
    "multiindex": lambda: pd.DataFrame({"v": [1, 2]}, index=pd.MultiIndex.from_tuples([("a", 1), ("b", 2)])),
    "uint64": lambda: pd.DataFrame({"u": np.array([2**63], dtype="uint64")}),
    "float16": lambda: pd.DataFrame({"h": np.array([1.5], dtype="float16")}),
    "string-pyarrow": lambda: pd.DataFrame({"s": pd.array(["a", None], dtype="string[pyarrow]")}),
}


@pytest.mark.parametrize("kind", list(FRAMES))
def test_any_frame_pyarrow_can_write_is_storable(tmp_path: object, kind: str) -> None:
    df = FRAMES[kind]()
    store = afs.open_store(str(tmp_path) + "/store")
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("t", type="dataset")
        art.add(afs.Table(dataframe=df), "table")
        logged = run.log_artifact(art)
    back = logged.get_table("table").dataframe()
    pd.testing.assert_frame_equal(back, pa.Table.from_pandas(df).to_pandas())


@pytest.mark.parametrize(
    ("frame", "column"),
    [
        (lambda: pd.DataFrame({"ok": [1, 2], "mixed": [1, "a"]}), "mixed"),
        (lambda: pd.DataFrame({"z": [1 + 2j]}), "z"),
        (lambda: pd.DataFrame({"s": pd.arrays.SparseArray([0, 0, 1])}), "s"),
    ],
    ids=["mixed-object", "complex", "sparse"],
)
def test_a_frame_pyarrow_cannot_write_names_the_column(frame: object, column: str) -> None:
    with pytest.raises(InvalidInputError, match=f"column '{column}'"):
        afs.Table(dataframe=frame())  # type: ignore[operator]
