"""Logging a large draft in bounded memory: a folder is staged as a list of paths, its files
are hashed and sent a chunk at a time, and a sharded manifest's shards are stored as they
fill, while later files are still being read."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from fsspec.callbacks import Callback

import artifactfs as afs
from artifactfs import ingest, manifest, shards
from artifactfs.catalog_manifests import ManifestRecords
from artifactfs.errors import InvalidInputError
from artifactfs.hashing import hash_bytes
from artifactfs.manifest import Manifest
from tests.reads import fresh

N = shards.SINGLE_MAX + 3000


def _log(store: afs.Store, art: afs.Artifact, callback: Callback | None = None) -> afs.Artifact:
    with afs.init(project="p", store=store) as run:
        return run.log_artifact(art, callback=callback)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("streamed") / "src"
    for f in range(5):
        (root / f"d{f}").mkdir(parents=True)
    for i in range(N):
        (root / f"d{i % 5}" / f"f{i:06d}.txt").write_text(str(i % 40))
    return root


def test_shards_are_stored_while_files_are_still_being_read(
    store_url: str, tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    chunk, put_shards = ingest._chunk, ManifestRecords.put_shards

    def counted_chunk(*args: object, **kwargs: object) -> list[manifest.Entry]:
        events.append("chunk")
        return chunk(*args, **kwargs)  # type: ignore[arg-type]

    def counted_put(self: ManifestRecords, items: list[tuple[shards.ShardRef, bytes]]) -> None:
        events.extend("shard" for _ in items)
        put_shards(self, items)

    monkeypatch.setattr(ingest, "CHUNK", 1000)
    monkeypatch.setattr(ingest, "_chunk", counted_chunk)
    monkeypatch.setattr(manifest, "SHARDS_PUT", 1)
    monkeypatch.setattr(ManifestRecords, "put_shards", counted_put)
    store = fresh(store_url, tmp_path / "cache")
    art = afs.Artifact("ds", type="dataset")
    art.add_dir(tree)
    with art.new_file("zz-notes.txt") as f:
        f.write("a single file after the folder's")
    logged = _log(store, art)
    assert events.count("chunk") == -(-(N + 1) // 1000)
    assert events.index("shard") < len(events) - 1 - events[::-1].index("chunk")  # before the last chunk
    assert logged.file_count == N + 1 and logged.manifest.sharded
    # Exactly what a manifest built in memory from the same entries is, byte for byte.
    entries = tuple(logged.entries[p] for p in sorted(logged.entries))
    whole = Manifest("ds", "dataset", entries).encode()
    assert str(whole.content) == logged.digest
    assert str(hash_bytes(whole.data)) == logged.manifest_digest
    assert {r.shard for r, _ in whole.shards} == {r.shard for r in logged.manifest.shards}
    reread = fresh(store_url, tmp_path / "cache").artifact("p/ds:latest")
    assert reread.get_entry("zz-notes.txt").size == len("a single file after the folder's")
    assert reread.get_entry(f"d{(N - 2) % 5}/f{N - 2:06d}.txt").size == len(str((N - 2) % 40))


def test_progress_counts_the_blobs_of_every_chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest, "CHUNK", 300)
    src = tmp_path / "src"
    src.mkdir()
    for i in range(1000):
        (src / f"f{i:04d}").write_text(f"file {i}")

    class Seen(Callback):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.sizes: list[int] = []

        def call(self, hook_name: str | None = None, **kwargs: object) -> None:
            if self.size is not None and (not self.sizes or self.sizes[-1] != self.size):
                self.sizes.append(self.size)

    seen = Seen()
    store = fresh("memory://streamed-progress", tmp_path / "cache")
    art = afs.Artifact("ds", type="dataset")
    art.add_dir(src)
    _log(store, art, seen)
    assert seen.size == seen.value == 1000  # one task, not four that each start again at 0
    assert seen.sizes == sorted(seen.sizes)


def test_entries_that_clash_are_refused_when_added(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for root in (one, two):
        (root / "sub").mkdir(parents=True)
        (root / "sub" / "x.txt").write_text("x")
    (two / "y.txt").write_text("y")
    single = tmp_path / "single.txt"
    single.write_text("s")

    art = afs.Artifact("ds", type="dataset")
    art.add_dir(one)
    with pytest.raises(InvalidInputError, match=re.escape("already has an entry at 'sub/x.txt'")):
        art.add_file(single, "sub/x.txt")
    with pytest.raises(InvalidInputError, match=re.escape("already has an entry at 'sub/x.txt'")):
        art.add_dir(two)
    with pytest.raises(InvalidInputError, match=re.escape("'sub/x.txt' and 'sub'")):
        art.add_file(single, "sub")  # a file where the folder has files
    with pytest.raises(InvalidInputError, match=re.escape("'sub/x.txt' and 'sub/x.txt/deeper'")):
        art.add_file(single, "sub/x.txt/deeper")  # below a file
    taken = re.escape("already has an entry at 'sub/x.txt'")
    with pytest.raises(InvalidInputError, match=taken), art.new_file("sub/x.txt") as f:
        f.write("x")
    with pytest.raises(InvalidInputError, match="cannot both be added"):
        art.add(afs.Table(dataframe=pd.DataFrame({"a": [1]})), "sub/x.txt/table")
    with pytest.raises(InvalidInputError, match=re.escape("'sub/x.txt/sub/x.txt' and 'sub/x.txt' cannot both")):
        art.add_dir(two, name="sub/x.txt")  # a folder where a file is
    art.add_dir(two, name="elsewhere")
    art.add_file(single)

    first = afs.Artifact("ds", type="dataset")
    first.add_file(single, "sub")
    with pytest.raises(InvalidInputError, match=re.escape("'sub/x.txt' and 'sub'")):
        first.add_dir(one)  # its files would be below the file 'sub'

    logged = _log(fresh(str(tmp_path / "store"), tmp_path / "cache"), art)
    assert sorted(logged.entries) == ["elsewhere/sub/x.txt", "elsewhere/y.txt", "single.txt", "sub/x.txt"]


def test_a_draft_counts_and_sizes_its_folders(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        (src / f"f{i}").write_bytes(b"x" * (i + 1))
    art = afs.Artifact("ds", type="dataset")
    art.add_dir(src, name="data")
    with art.new_file("note.txt") as f:
        f.write("ab")
    assert art.size == 1 + 2 + 3 + 2
    assert repr(art) == "<Artifact 'ds' type='dataset' draft, 4 entries>"
