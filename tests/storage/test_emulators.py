"""The suite's own emulators: none outlives the test process that started it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.timeouts import HANG

CRASHING_WORKER = """
import os, sys
from pathlib import Path
from tests import emulators
emu = emulators.start("s3", Path(sys.argv[1]))
print(emu.proc.pid, flush=True)
os.abort()  # a test process that crashes runs no teardown
"""


def test_an_emulator_dies_with_a_crashed_test_process(tmp_path: Path) -> None:
    if sys.platform != "linux":
        pytest.skip("parent-death signals are Linux's")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    child = subprocess.run(
        [sys.executable, "-c", CRASHING_WORKER, str(tmp_path)], capture_output=True, text=True, env=env, timeout=HANG
    )
    if not child.stdout.strip():
        pytest.skip(f"the S3 emulator did not start: {child.stderr[-500:]}")
    pid = int(child.stdout.split()[0])
    deadline = time.monotonic() + HANG
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid), "the emulator outlived the process that started it"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"
