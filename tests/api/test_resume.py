"""An interrupted download of a large blob goes on from what it had fetched (every backend
that is fetched through the cache; bytes counted at the backend)."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import pytest

import artifactfs as afs
from artifactfs import cache as cache_module
from artifactfs.errors import StoreError
from tests.reads import fresh, log, reading

SIZE = 5 << 20  # streamed (above 4 MiB), and resumable with the threshold lowered to 1 MiB
CUT = 2 << 20


class Dropping:
    """A reader whose connection drops after ``cut`` bytes (a ``StoreError``, as a backend's)."""

    def __init__(self, inner: IO[bytes], cut: int) -> None:
        self.inner, self.left = inner, cut

    def read(self, n: int = -1) -> bytes:
        if self.left <= 0:
            raise StoreError("reading the blob failed: connection reset by peer")
        data = self.inner.read(n if n >= 0 else self.left)[: self.left]
        self.left -= len(data)
        return data

    def __enter__(self) -> Dropping:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.inner.close()


@pytest.mark.parametrize("store_url", ["memory", "gcs", "azure", "s3"], indirect=True)
def test_an_interrupted_download_resumes_from_its_partial_file(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "RESUMABLE", 1 << 20)
    src = tmp_path / "src"
    src.mkdir()
    (src / "big.bin").write_bytes(bytes(range(256)) * (SIZE // 256))
    log(store_url, src)

    store = fresh(store_url, tmp_path / "cache")
    art = store.artifact("p/ds:v0")
    opened = store.backend.open_sized
    monkeypatch.setattr(store.backend, "open_sized", lambda key, size, start=0: Dropping(opened(key, size, start), CUT))
    with pytest.raises(StoreError, match="connection reset"):
        art.download(tmp_path / "first")
    partial = list((tmp_path / "cache" / "partial").iterdir())
    assert len(partial) == 1 and partial[0].stat().st_size == CUT  # what came is kept

    store = fresh(store_url, tmp_path / "cache")
    seen = reading(store.backend)
    out = Path(store.artifact("p/ds:v0").download(tmp_path / "second"))
    assert (out / "big.bin").read_bytes() == (src / "big.bin").read_bytes()
    blob = [k for k in seen.by_key if k.startswith("blobs/")]
    assert len(blob) == 1 and seen.by_key[blob[0]] == SIZE - CUT  # only the rest was read
    assert not list((tmp_path / "cache" / "partial").iterdir())


def test_a_partial_file_that_is_not_a_beginning_of_the_blob_is_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "RESUMABLE", 1 << 20)
    url = f"memory://resume-{tmp_path.name}"
    src = tmp_path / "src"
    src.mkdir()
    (src / "big.bin").write_bytes(b"x" * SIZE)
    log(url, src)
    store = fresh(url, tmp_path / "cache")
    digest = store.artifact("p/ds:v0").get_entry("big.bin").digest
    assert digest is not None
    part = tmp_path / "cache" / "partial" / f"{digest.algorithm}-{digest.hex}"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"y" * CUT)  # garbage left by something else
    with pytest.raises(afs.errors.IntegrityError, match="the partial copy was dropped"):
        store.artifact("p/ds:v0").download(tmp_path / "first")
    assert part.stat().st_size == 0
    out = Path(store.artifact("p/ds:v0").download(tmp_path / "second"))  # and the next try starts over
    assert (out / "big.bin").read_bytes() == b"x" * SIZE
