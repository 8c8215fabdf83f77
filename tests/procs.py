"""Running several Python processes of the suite at once."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.timeouts import HANG

ROOT = Path(__file__).resolve().parents[1]


def run_together(script: str, argvs: Sequence[Sequence[str]]) -> None:
    """Start ``python -c script`` once per argument list, all at once; each must exit 0."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, *argv],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stderr=subprocess.PIPE,
        )
        for argv in argvs
    ]
    for p in procs:
        _, err = p.communicate(timeout=HANG)
        assert p.returncode == 0, err.decode()[-2000:]
