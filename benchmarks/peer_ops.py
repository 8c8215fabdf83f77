"""What a user of each peer tool would run for a workload; run by that tool's own interpreter.

    python peer_ops.py pins-log BOARD PATH          pin_upload every file of PATH (a file or folder)
    python peer_ops.py pins-download BOARD          pin_download the latest version
    python peer_ops.py pins-table BOARD FRAME       pin_write(df, type="parquet") + pin_read
    python peer_ops.py wandb-log DIR PATH           offline run: add_dir/add_file + log_artifact

Only the standard library, the peer and pandas/pyarrow are imported here: each peer runs in
its own virtual environment (see peers.py). ``pins-table`` times the write and read alone and
prints ``seconds=`` and ``bytes=`` as afs_ops.py does.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def _files(path: str) -> list[str]:
    p = Path(path)
    return [str(p)] if p.is_file() else sorted(str(f) for f in p.rglob("*") if f.is_file())


def pins_log(board: str, path: str) -> None:
    import pins

    # The files of a folder keep unique base names in the generated data, as pins flattens them.
    pins.board_folder(board, versioned=True).pin_upload(_files(path), "data")


def pins_download(board: str) -> None:
    import pins

    files = pins.board_folder(board, versioned=True).pin_download("data")
    assert files


def pins_table(board: str, frame_path: str) -> None:
    import pandas as pd
    import pins

    df = pd.read_parquet(frame_path)
    b = pins.board_folder(board, versioned=True)
    t0 = time.perf_counter()
    meta = b.pin_write(df, "frame", type="parquet")
    t1 = time.perf_counter()
    back = b.pin_read("frame")
    t2 = time.perf_counter()
    assert len(back) == len(df)
    stored = sum(f.stat().st_size for f in Path(board, "frame", meta.version.version).glob("*.parquet"))
    print(f"seconds={t2 - t0}\nwrite_s={t1 - t0}\nread_s={t2 - t1}\nbytes={stored}")


def wandb_log(root: str, path: str) -> None:
    os.environ.update(
        WANDB_MODE="offline",
        WANDB_SILENT="true",
        WANDB_DIR=root,
        WANDB_CACHE_DIR=f"{root}/cache",
        WANDB_DATA_DIR=f"{root}/data",
        WANDB_CONFIG_DIR=f"{root}/config",
    )
    import wandb

    run = wandb.init(project="bench", job_type="bench")
    art = wandb.Artifact("data", type="dataset")
    if Path(path).is_dir():
        art.add_dir(path)
    else:
        art.add_file(path)
    run.log_artifact(art)
    run.finish()


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    ops = {"pins-log": pins_log, "pins-download": pins_download, "pins-table": pins_table, "wandb-log": wandb_log}
    ops[cmd](*args)
