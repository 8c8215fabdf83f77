"""artifactfs operations the benchmarks time, each run as its own process.

    python afs_ops.py log STORE PATH            log a folder or a file as bench/data
    python afs_ops.py download STORE DEST       download bench/data:latest into DEST
    python afs_ops.py open STORE                resolve bench/data:latest and count its files
    python afs_ops.py get STORE PATH DEST       get_path of one file of bench/data:latest into DEST
    python afs_ops.py table STORE FRAME         log FRAME (a Parquet file) as a Table, read it back
    python afs_ops.py pyarrow OUT FRAME         the same with raw pyarrow (zstd Parquet)

The table commands time only the write and the read (the frame is loaded first, untimed) and
print ``seconds=``, ``write_s=``, ``read_s=``, ``bytes=`` (stored size) for the harness.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def log(store: str, path: str) -> None:
    import artifactfs as afs

    with afs.init(project="bench", job_type="bench", store=store) as run:
        art = afs.Artifact("data", type="dataset")
        if Path(path).is_dir():
            art.add_dir(path)
        else:
            art.add_file(path)
        run.log_artifact(art)


def download(store: str, dest: str) -> None:
    import artifactfs as afs

    afs.open_store(store).artifact("bench/data:latest").download(dest)


def open_version(store: str) -> None:
    import artifactfs as afs

    print(f"files={afs.open_store(store).artifact('bench/data:latest').file_count}")


def get(store: str, path: str, dest: str) -> None:
    import artifactfs as afs

    afs.open_store(store).artifact("bench/data:latest").get_path(path, root=dest)


def _frame(path: str):  # type: ignore[no-untyped-def]
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pandas()


def table(store: str, frame_path: str) -> None:
    import artifactfs as afs

    df = _frame(frame_path)
    t0 = time.perf_counter()
    with afs.init(project="bench", job_type="bench", store=store) as run:
        art = afs.Artifact("frame", type="table")
        art.add(afs.Table(dataframe=df), "frame")
        logged = run.log_artifact(art)
    t1 = time.perf_counter()
    back = logged.get_table("frame").dataframe()
    t2 = time.perf_counter()
    assert len(back) == len(df), (len(back), len(df))
    entry = next(e for e in logged.manifest.entries if e.path.endswith(".parquet"))
    print(f"seconds={t2 - t0}\nwrite_s={t1 - t0}\nread_s={t2 - t1}\nbytes={entry.size}")


def raw_pyarrow(out: str, frame_path: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    df = _frame(frame_path)
    t0 = time.perf_counter()
    pq.write_table(pa.Table.from_pandas(df), out, compression="zstd")
    t1 = time.perf_counter()
    back = pq.read_table(out).to_pandas()
    t2 = time.perf_counter()
    assert len(back) == len(df)
    print(f"seconds={t2 - t0}\nwrite_s={t1 - t0}\nread_s={t2 - t1}\nbytes={Path(out).stat().st_size}")


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    ops = {"log": log, "download": download, "open": open_version, "get": get, "table": table, "pyarrow": raw_pyarrow}
    ops[cmd](*args)
