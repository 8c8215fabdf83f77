"""Deterministic benchmark data, shared by the benchmark scripts (nothing is downloaded)."""

from __future__ import annotations

import random
from pathlib import Path


def make_small(root: Path, n: int) -> None:
    """``n`` files of 4 KiB of random bytes, in 100 folders."""
    rnd = random.Random(0)
    per = max(1, n // 100)
    for i in range(n):
        d = root / f"d{i // per:03d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i:05d}.bin").write_bytes(rnd.randbytes(4096))


def make_big(path: Path, mib: int) -> None:
    """One file of ``mib`` MiB of random bytes."""
    rnd = random.Random(1)
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(rnd.randbytes(1 << 20))


def make_frame(path: Path, rows: int) -> None:
    """A frame of ``rows`` rows × 10 columns (3 integer, 4 float, 3 text), saved as Parquet.

    Every process of W4 loads this file (untimed), so all tools get the very same frame.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    words = np.array([f"w{i:04d}{'x' * (i % 7)}" for i in range(2000)])
    pick = rng.integers(0, len(words), size=(rows, 3))
    df = pd.DataFrame(
        {
            "id": np.arange(rows, dtype=np.int64),
            "label": rng.integers(0, 10, rows, dtype=np.int32),
            "count": rng.integers(0, 1_000_000, rows, dtype=np.int64),
            "x": rng.standard_normal(rows),
            "y": rng.standard_normal(rows).astype(np.float32),
            "score": rng.random(rows).round(3),
            "weight": rng.exponential(1.0, rows),
            "category": words[pick[:, 0] % 50],
            "user": np.char.add("user_", rng.integers(0, 100_000, rows).astype(str)),
            "text": np.char.add(np.char.add(words[pick[:, 1]], " "), words[pick[:, 2]]),
        }
    )
    df.to_parquet(path, compression=None)
