"""Real local faults for tests, in a child process: a full disk and a read-only folder (small
tmpfs mounts in a private mount namespace), a file size limit (RLIMIT_FSIZE), and files root
could not read either (root's permission override dropped with setpriv)."""

from __future__ import annotations

import os
import resource
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import artifactfs as afs

CODE = str(Path(afs.__file__).parent.parent)


def child(
    code: str,
    *args: str,
    mounts: dict[str, str] | None = None,
    unprivileged: bool = False,
    max_file_size: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -c code args`` with the faults asked for; the child runs the code under test.

    ``mounts``: folder -> tmpfs options (``size=1m`` for a nearly full disk, ``ro`` for a
    read-only one). ``unprivileged``: without root's permission override (a no-op for others).
    """
    cmd = [sys.executable, "-c", code, *args]
    if unprivileged and os.geteuid() == 0:
        cmd = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *cmd]
    if mounts:
        if os.geteuid() != 0 or shutil.which("unshare") is None:
            pytest.skip("mounting a small tmpfs needs root and unshare(1)")
        for folder in mounts:
            Path(folder).mkdir(parents=True, exist_ok=True)
        script = " && ".join(f"mount -t tmpfs -o {opts} tmpfs {shlex.quote(f)}" for f, opts in mounts.items())
        cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c", f'{script} && exec "$@"', "sh", *cmd]

    def limits() -> None:
        if max_file_size is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
            resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_size, max_file_size))

    env = {**os.environ, "PYTHONPATH": CODE}
    return subprocess.run(cmd, env=env, capture_output=True, text=True, preexec_fn=limits)


API = """
import sys, artifactfs as afs
try:
    {call}
except afs.errors.ArtifactFSError as e:
    print(type(e).__name__, "|", e)
    sys.exit(3)
print("ok")
"""

CLI = "import sys; from artifactfs.cli import main; sys.argv[0] = 'artifactfs'; main()"


def api(call: str, **faults: object) -> subprocess.CompletedProcess[str]:
    """Run one API call in a child with ``faults`` (see :func:`child`); it prints the error's
    type and message and exits 3, or prints ok."""
    return child(API.format(call=call), **faults)  # type: ignore[arg-type]


def cli(*args: str, **faults: object) -> subprocess.CompletedProcess[str]:
    return child(CLI, *args, **faults)  # type: ignore[arg-type]
