"""Large uploads that survive their process: a blob whose upload was cut off halfway is sent
again from where the cloud's own state (S3 multipart upload, Azure uncommitted blocks, GCS
resumable session) left it, by the next process that logs it; what it finds is checked."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs import backend_base, backend_resume, layout
from artifactfs.backend import open_backend
from artifactfs.cache import BlobCache
from artifactfs.hashing import hash_bytes
from tests.conftest import CLOUD, cloud_root
from tests.requests import Requests
from tests.timeouts import HANG

BLOCK = 5 << 20  # S3's smallest part, a multiple of GCS's 256 KiB
SIZE = 4 * BLOCK + 12_345  # five blocks, the last short

# A logging process that dies, with no clean-up, once it has sent two blocks of the blob.
DIES_HALFWAY = """
import os, sys
import artifactfs as afs
from artifactfs import backend_base, backend_resume, layout

backend_base.UPLOAD_BLOCK = int(sys.argv[3])
sent = []
for kind in (backend_resume._S3, backend_resume._Azure, backend_resume._Gcs):
    def send(self, *args, _send=kind.send):
        if len(sent) == 2:
            os._exit(3)
        _send(self, *args)
        sent.append(args[0])
    kind.send = send
with afs.init(project="p", store=sys.argv[1]) as run:
    art = afs.Artifact("weights", type="model")
    art.add_file(sys.argv[2], name="model.bin")
    run.log_artifact(art)
"""


@pytest.fixture(params=CLOUD)
def cloud_url(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    yield cloud_root(request, request.param, monkeypatch)


def log_file(url: str, path: Path, cache: Path) -> afs.Artifact:
    store = afs.Store(open_backend(url), cache=BlobCache(cache))
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("weights", type="model")
        art.add_file(str(path), name="model.bin")
        return run.log_artifact(art)


def test_an_upload_cut_off_halfway_resumes_in_the_next_process(
    cloud_url: str, tmp_path: Path, requests: Requests, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(SIZE)
    weights = tmp_path / "model.bin"
    weights.write_bytes(data)
    root = Path(__file__).resolve().parents[2]
    child = subprocess.run(
        [sys.executable, "-c", DIES_HALFWAY, cloud_url, str(weights), str(BLOCK)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
        timeout=HANG,
    )
    assert child.returncode == 3, child.stderr[-2000:]
    backend = open_backend(cloud_url)
    assert backend.walk("blobs") == {}  # nothing committed: the upload is the cloud's pending state

    monkeypatch.setattr(backend_base, "UPLOAD_BLOCK", BLOCK)
    requests.sent.clear()
    requests.bodies.clear()
    art = log_file(cloud_url, weights, tmp_path / "cache")
    digest = hash_bytes(data)
    sent = requests.bytes_sent(digest.hex) or sum(n for _, _, n in requests.bodies)
    assert sent <= SIZE - 2 * BLOCK + (64 << 10), f"sent {sent} of {SIZE} bytes again"
    assert sent >= SIZE - 2 * BLOCK
    assert art.version == "v0"
    fresh = afs.Store(open_backend(cloud_url), cache=BlobCache(tmp_path / "other-cache"))
    assert Path(fresh.artifact("p/weights:v0").get_path("model.bin", root=tmp_path / "out")).read_bytes() == data


def test_a_resumed_upload_does_not_trust_blocks_that_are_not_these_bytes(
    cloud_url: str, tmp_path: Path, requests: Requests, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another upload of the key left blocks of other bytes (a file changed halfway through
    an earlier attempt, say): they are sent again, and the blob holds what was hashed."""
    monkeypatch.setattr(backend_base, "UPLOAD_BLOCK", BLOCK)
    data = os.urandom(SIZE)
    digest = hash_bytes(data)
    other = tmp_path / "other.bin"
    other.write_bytes(os.urandom(SIZE))
    backend = open_backend(cloud_url)
    path = backend.path(layout.blob(digest))  # type: ignore[attr-defined]
    kind = backend_resume.RESUMABLE_PROTOCOLS[cloud_url.split("://")[0]]
    up = backend_resume._STARTERS[kind](backend.fs, path, SIZE, BLOCK, False)  # type: ignore[attr-defined]
    wrong = other.read_bytes()
    for i in range(2):
        up.send(i, i * BLOCK, wrong[i * BLOCK : (i + 1) * BLOCK], "0" * 32)
    weights = tmp_path / "model.bin"
    weights.write_bytes(data)
    art = log_file(cloud_url, weights, tmp_path / "cache")
    fresh = afs.Store(open_backend(cloud_url), cache=BlobCache(tmp_path / "other-cache"))
    got = fresh.artifact(f"p/weights:{art.version}").get_path("model.bin", root=tmp_path / "out")
    assert Path(got).read_bytes() == data
