"""Peer tools, each installed into a virtual environment of its own under the benchmark folder.

Versions are pinned so that a later run measures the same peers. ``--peers`` installs what is
missing (from PyPI, a few minutes the first time); without it, peers are left out of the table.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

PEERS = {
    "pins": ["pins==0.9.2", "pandas", "pyarrow"],
    "dvc": ["dvc==3.67.1"],
    "wandb": ["wandb==0.31.0"],
}


def ensure(root: Path, name: str) -> Path:
    """The ``bin`` folder of ``name``'s virtual environment, made and installed if missing."""
    env = root / name
    marker = env / ".installed"
    if not marker.exists():
        print(f"installing {name} into {env} ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(env)
        subprocess.run(
            [str(env / "bin" / "python"), "-m", "pip", "install", "--quiet", *PEERS[name]],
            check=True,
        )
        marker.write_text(" ".join(PEERS[name]) + "\n")
    return env / "bin"
