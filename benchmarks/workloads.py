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
