"""SIGKILL a real writer process at each point of log_artifact: nothing visible, nothing lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import artifactfs as afs
from artifactfs import layout
from artifactfs.backend import Backend, open_backend
from tests.timeouts import HANG

WRITER = Path(__file__).with_name("crash_writer.py")

# point -> whether the version is visible after the kill
POINTS = {
    "blob-1": False,
    "blob-40": False,
    "large-blob": False,
    "manifest": False,
    "claim": False,
    "version-record": False,
    "hint": True,  # killed after its version record, before the newest-version hint
    "claim-resolution": True,
    "alias": True,
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    for i in range(60):
        (root / f"d{i % 6}").mkdir(parents=True, exist_ok=True)
        (root / f"d{i % 6}" / f"f{i}.txt").write_text(f"file {i}\n" * (i + 1))
    (root / "large.bin").write_bytes(os.urandom(6 << 20))  # over the one-pass threshold
    return root


@pytest.mark.parametrize("point", list(POINTS))
def test_kill_during_log_artifact(
    shared_store_url: str, tmp_path: Path, folder: Path, point: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    killed = subprocess.run(
        [sys.executable, str(WRITER), shared_store_url, str(folder), point],
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]

    store = afs.open_store(shared_store_url)
    assert store.catalog.version_numbers("p", "ds") == ([0] if POINTS[point] else [])
    assert store.verify(deep=True) == []  # readers see a consistent store
    blobs_before = set(store.backend.walk("blobs"))
    if point == "blob-40":  # the retry below really has a pack to reuse
        assert len(store.backend.walk("packs")) == 1

    uploaded: list[str] = []
    kind = type(open_backend(shared_store_url))
    for name, keys_of in {
        "write": lambda a: [a[0]],
        "adopt": lambda a: [a[1]],
        "put_files": lambda a: [k for _, k in a[0]],
        "write_many": lambda a: list(a[0]),
        "upload_verified": lambda a: [a[1]],
    }.items():
        original = getattr(kind, name)

        def counting(self: Backend, *args: Any, _o: Any = original, _k: Any = keys_of, **kw: Any) -> Any:
            uploaded.extend(k for k in _k(args) if str(k).startswith("blobs/") and not self.exists(str(k)))
            return _o(self, *args, **kw)

        monkeypatch.setattr(kind, name, counting)
    with afs.init(project="p", store=afs.open_store(shared_store_url)) as run:
        art = afs.Artifact("ds", type="dataset")
        art.add_dir(folder)
        logged = run.log_artifact(art, aliases=["best"])
    assert logged.version == "v0"  # the crashed attempt never took a number
    assert logged.aliases == ["latest", "best"]
    assert len({e.digest for e in logged.entries.values()}) == 61
    digests = {layout.blob(e.digest) for e in logged.entries.values() if e.digest and e.where is None}
    assert len(digests) == 1  # all but large.bin are packed
    assert set(uploaded) == digests - blobs_before  # blobs uploaded before the kill are reused
    assert afs.open_store(shared_store_url).verify(deep=True) == []
    out = Path(logged.download(tmp_path / "out"))
    assert (out / "d3" / "f9.txt").read_text() == "file 9\n" * 10
    assert (out / "large.bin").read_bytes() == (folder / "large.bin").read_bytes()
