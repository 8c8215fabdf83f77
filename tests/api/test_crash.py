"""SIGKILL a real writer process at each point of log_artifact: nothing visible, nothing lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs import layout
from artifactfs.storage import Backend

WRITER = Path(__file__).with_name("crash_writer.py")

# (method, part of the key, which matching call dies, whether the version is visible after)
POINTS = {
    "first-blob": ("write", "blobs/", 1, False),
    "mid-blobs": ("write", "blobs/", 40, False),
    "large-blob-rename": ("adopt", "blobs/", 1, False),
    "manifest": ("write", "manifests/", 1, False),
    "claim": ("create", ".claim", 1, False),
    "version-record": ("create", "versions/", 1, False),
    "claim-resolution": ("create", "digests/", 2, True),
    "alias": ("create", "aliases/", 1, True),
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    for i in range(60):
        (root / f"d{i % 6}").mkdir(parents=True, exist_ok=True)
        (root / f"d{i % 6}" / f"f{i}.txt").write_text(f"file {i}\n" * (i + 1))
    (root / "large.bin").write_bytes(os.urandom(6 << 20))  # over the one-pass threshold
    return root


def run_writer(store: Path, folder: Path, method: str, part: str, at: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(WRITER), str(store), str(folder), method, part, str(at)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("point", list(POINTS))
def test_kill_during_log_artifact(tmp_path: Path, folder: Path, point: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store_path = tmp_path / "store"
    method, part, at, visible = POINTS[point]
    killed = run_writer(store_path, folder, method, part, at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    store = afs.open_store(store_path)
    versions = store._version_numbers("p", "ds")
    assert versions == ([0] if visible else [])
    assert store.verify(deep=True) == []  # readers see a consistent store
    blobs_before = set(store.backend.walk("blobs"))

    writes: list[str] = []
    for name in ("write", "put_file", "adopt"):
        original = getattr(Backend, name)
        key_arg = 0 if name == "write" else 1

        def counting(self: Backend, *args: object, _o: object = original, _i: int = key_arg, **kw: object) -> object:
            if str(args[_i]).startswith("blobs/") and not self.exists(str(args[_i])):
                writes.append(str(args[_i]))
            return _o(self, *args, **kw)  # type: ignore[operator]

        monkeypatch.setattr(Backend, name, counting)
    with afs.init(project="p", store=afs.open_store(store_path)) as run:
        art = afs.Artifact("ds", type="dataset")
        art.add_dir(folder)
        logged = run.log_artifact(art, aliases=["best"])
    assert logged.version == "v0"  # the crashed attempt never took a number
    assert logged.aliases == ["latest", "best"]
    digests = {layout.blob(e.digest) for e in logged.entries.values() if e.digest}
    assert len(digests) == 61
    assert set(writes) == digests - blobs_before  # blobs uploaded before the kill are reused
    assert afs.open_store(store_path).verify(deep=True) == []
    out = Path(logged.download(tmp_path / "out"))
    assert (out / "d3" / "f9.txt").read_text() == "file 9\n" * 10
    assert (out / "large.bin").read_bytes() == (folder / "large.bin").read_bytes()
