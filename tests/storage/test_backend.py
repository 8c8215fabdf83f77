"""The storage contract: every backend offers the same primitives with the same guarantees."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from artifactfs.backend import Backend, KeyNotFoundError, open_backend
from artifactfs.errors import StoreError
from tests.timeouts import HANG


@pytest.fixture
def backend(store_url: str) -> Backend:
    return open_backend(store_url)


def test_write_read_overwrite(backend: Backend) -> None:
    backend.write("a/b/c.msgpack", b"one")
    assert backend.read("a/b/c.msgpack") == b"one"
    backend.write("a/b/c.msgpack", b"two")
    assert backend.read("a/b/c.msgpack") == b"two"
    assert backend.size("a/b/c.msgpack") == 3
    assert backend.exists("a/b/c.msgpack") and not backend.exists("a/b/nope")


def test_missing_key_is_typed(backend: Backend) -> None:
    with pytest.raises(KeyNotFoundError, match="nope"):
        backend.read("x/nope")


def test_create_if_absent(backend: Backend) -> None:
    assert backend.create("v/0000000000.msgpack", b"first")
    assert not backend.create("v/0000000000.msgpack", b"second")
    assert backend.read("v/0000000000.msgpack") == b"first"


def test_create_has_one_winner_under_threads(backend: Backend) -> None:
    winners: list[int] = []
    barrier = threading.Barrier(8)

    def race(i: int) -> None:
        barrier.wait()
        for key in range(20):
            if backend.create(f"race/{key}", str(i).encode()):
                winners.append(key)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(winners) == list(range(20))


def test_listdir(backend: Backend) -> None:
    assert backend.listdir("nothing/here") == []
    backend.write("d/x.msgpack", b"1")
    backend.write("d/sub/y", b"2")
    assert backend.listdir("d") == ["sub", "x.msgpack"]


def test_read_many(backend: Backend) -> None:
    backend.write("m/a", b"A")
    backend.write("m/b", b"B")
    assert backend.read_many(["m/a", "m/b", "m/c"]) == {"m/a": b"A", "m/b": b"B", "m/c": None}


def test_put_file_and_open(backend: Backend, tmp_path: Path) -> None:
    src = tmp_path / "f.bin"
    src.write_bytes(b"0123456789" * 1000)
    backend.put_file(src, "blobs/f")
    with backend.open("blobs/f") as f:
        f.seek(5)
        assert f.read(5) == b"56789"
    backend.delete("blobs/f")
    assert not backend.exists("blobs/f")


def test_unusable_root_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    backend = open_backend(str(blocker))
    with pytest.raises(StoreError, match="file"):
        backend.write("a/b", b"x")


def test_unknown_protocol_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="nosuchproto"):
        open_backend("nosuchproto://bucket/x")


RACER = """
import sys, time
from artifactfs.backend import Backend, open_backend
url, me, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
b = open_backend(url)
while time.time() < start:
    time.sleep(0.001)
won = [k for k in range(25) if b.create(f"race/{k:010d}.msgpack", me.encode())]
print(" ".join(map(str, won)))
"""


def test_create_has_one_winner_across_8_processes(shared_store_url: str, tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    script = tmp_path / "racer.py"
    script.write_text(RACER)
    start = time.time() + 3.0
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), shared_store_url, f"w{i}", str(start)], stdout=subprocess.PIPE, text=True
        )
        for i in range(8)
    ]
    won: dict[int, str] = {}
    for i, p in enumerate(procs):
        out, _ = p.communicate(timeout=HANG)
        assert p.returncode == 0
        for k in out.split():
            assert int(k) not in won, f"key {k} won twice"
            won[int(k)] = f"w{i}"
    assert sorted(won) == list(range(25))
    backend = open_backend(shared_store_url)
    for k, winner in won.items():
        assert backend.read(f"race/{k:010d}.msgpack") == winner.encode()  # the winner's bytes, not a loser's


def test_backend_that_overwrites_on_create_is_refused() -> None:
    """An old client or a server that ignores If-None-Match must not be trusted with versions."""
    import uuid

    from fsspec.implementations.memory import MemoryFileSystem

    from artifactfs.errors import UnsupportedBackendError

    class Overwriting(MemoryFileSystem):
        def pipe_file(self, path: str, value: bytes, mode: str = "overwrite", **kw: object) -> None:
            super().pipe_file(path, value, mode="overwrite")

    from artifactfs.backend_fsspec import FsspecBackend

    # The class every cloud store gets (memory:// is given one that creates under a lock).
    backend = FsspecBackend(Overwriting(skip_instance_cache=True), f"/probe-{uuid.uuid4().hex}", url="memory://probe")
    with pytest.raises(UnsupportedBackendError, match="Overwriting"):
        backend.create("versions/0000000000.msgpack", b"x")
