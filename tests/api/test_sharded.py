"""Sharded manifests, on every backend: versions of more than SINGLE_MAX entries are stored
as a root and shards, read a shard at a time, and keep their identity."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs import codec, layout, shards
from artifactfs.catalog_manifests import forget_kept
from artifactfs.errors import FormatError, IntegrityError, StoreError
from artifactfs.hashing import hash_bytes
from artifactfs.manifest import Manifest
from artifactfs.records import VersionRecord
from tests.reads import fresh, log, reading

N = shards.SINGLE_MAX + 4000  # several shards, a few seconds to log
FOLDERS = 7


def _write_tree(root: Path, n: int, variant: int = 0) -> Path:
    """``n`` tiny files in FOLDERS folders, of 50 distinct contents (few blobs to send)."""
    for f in range(FOLDERS):
        (root / f"d{f}").mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (root / f"d{i % FOLDERS}" / f"f{i:06d}.txt").write_text(str((i + variant) % 50))
    return root


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_tree(tmp_path_factory.mktemp("sharded") / "src", N)


def manifest_keys(keys: list[str]) -> set[str]:
    return {k for k in keys if k.startswith("manifests/")}


def test_a_sharded_version_round_trips(store_url: str, tree: Path, tmp_path: Path) -> None:
    logged = log(store_url, tree)
    assert logged.file_count == N
    store = fresh(store_url, tmp_path / "cache")
    art = store.artifact("p/ds:latest")
    man = art.manifest
    assert man.sharded and len(man.shards) >= 3
    assert art.digest == logged.digest and art.manifest_digest == logged.manifest_digest
    assert all(len(store.backend.read(layout.manifest(r.shard))) <= 2 * shards.SHARD_MAX_BYTES for r in man.shards)
    assert art.file_count == N and art.size == sum(p.stat().st_size for p in tree.rglob("*.txt"))
    entries = art.entries
    assert sorted(entries) == sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*.txt"))
    out = Path(art.download(tmp_path / "out"))
    for i in (0, N // 2, N - 1):
        rel = f"d{i % FOLDERS}/f{i:06d}.txt"
        assert (out / rel).read_text() == (tree / rel).read_text()
    assert sum(1 for p in out.rglob("*") if p.is_file()) == N
    assert store.verify(deep=True) == []


def test_the_content_digest_is_a_function_of_the_entries(store_url: str, tree: Path, tmp_path: Path) -> None:
    logged = log(store_url, tree)
    # The same entries as a manifest built in memory, however they are laid out when stored.
    entries = tuple(logged.entries[p] for p in sorted(logged.entries))
    assert str(Manifest("other", "other-type", entries, description="x").content_digest) == logged.digest
    again = log(store_url, tree)
    assert again.version == logged.version  # same content: no new version
    copy = tmp_path / "copy"
    _write_tree(copy, N)
    assert log(store_url, copy).version == logged.version
    _write_tree(copy, N, variant=1)
    assert log(store_url, copy).version == "v1"


def test_a_version_logged_as_one_manifest_is_still_the_same_content(store_url: str, tree: Path, tmp_path: Path) -> None:
    """A release before shards logged these files as one manifest, with the digest of it all."""
    logged = log(store_url, tree, "first")
    entries = tuple(logged.entries[p] for p in sorted(logged.entries))
    store = fresh(store_url, tmp_path / "cache")
    old = Manifest("ds", "dataset", entries)._single()  # what that release wrote
    assert old.content != logged.manifest.content_digest
    store.backend.write(layout.manifest(old_digest := hash_bytes(old.data)), old.data)
    store.catalog.create_version(
        VersionRecord("p", "ds", 0, "dataset", old_digest, old.content, logged.size, N, codec.utcnow())
    )
    store.catalog.resolve_claim("p", "ds", old.content, 0, 0)
    again = log(fresh(store_url, tmp_path / "cache"), tree)
    assert again.qualified_name == "p/ds:v0"  # recognised, no new version


def test_one_file_reads_a_bounded_part_of_the_manifest(store_url: str, tree: Path, tmp_path: Path) -> None:
    logged = log(store_url, tree)
    total = sum(r.count for r in logged.manifest.shards)
    assert total == N
    store = fresh(store_url, tmp_path / "another-machine")  # (this one keeps the manifests it read or wrote)
    seen = reading(store.backend)
    art = store.artifact("p/ds:latest")
    i = N // 2 + 3
    path = art.get_path(f"d{i % FOLDERS}/f{i:06d}.txt", root=tmp_path / "one")
    assert Path(path).read_text() == str(i % 50)
    manifests, used = manifest_keys(seen.keys), seen.bytes
    assert len(manifests) == 2  # the root and the one shard holding the file
    whole = sum(len(store.backend.read(layout.manifest(r.shard))) for r in art.manifest.shards)
    assert used <= shards.SHARD_MAX_BYTES + (64 << 10) < whole


def test_a_folder_and_a_diff_read_only_their_shards(store_url: str, tree: Path, tmp_path: Path) -> None:
    first = log(store_url, tree)
    changed = tmp_path / "changed"
    _write_tree(changed, N)
    for i in range(N - 40, N):  # 40 files at the end of each folder
        (changed / f"d{i % FOLDERS}" / f"f{i:06d}.txt").write_text("changed")
    (changed / "d0" / "f000000.txt").unlink()
    (changed / "new").mkdir()
    (changed / "new" / "added.txt").write_text("new")
    second = log(store_url, changed)
    assert second.version == "v1"

    store = fresh(store_url, tmp_path / "cache")
    a, b = store.artifact(first.qualified_name), store.artifact(second.qualified_name)
    seen = reading(store.backend)
    d = afs.diff(a, b)
    assert d.added == ["new/added.txt"] and d.removed == ["d0/f000000.txt"]
    assert sorted(d.changed) == sorted(f"d{i % FOLDERS}/f{i:06d}.txt" for i in range(N - 40, N))
    common = {r.content for r in a.manifest.shards} & {r.content for r in b.manifest.shards}
    differing = [r for m in (a.manifest, b.manifest) for r in m.shards if r.content not in common]
    assert common and manifest_keys(seen.keys) == {layout.manifest(r.shard) for r in differing}

    expected = sorted(e for e in b.entries if e.startswith("d3/"))
    forget_kept()
    b = fresh(store_url, tmp_path / "cache").artifact(second.qualified_name)
    seen = reading(b._catalog.backend)  # type: ignore[union-attr]
    files = b.files("d3")
    assert [e.path for e in files] == expected
    under = {layout.manifest(r.shard) for r in b.manifest.shards if r.covers("d3/", "d30")}
    assert manifest_keys(seen.keys) <= under and len(under) < len(b.manifest.shards)
    page = b.files("d3", start=files[10].path, limit=5)
    assert page == files[10:15]


def test_shards_make_the_store_refuse_older_releases(
    store_url: str, tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = tmp_path / "small"
    _write_tree(small, 5)  # too few to pack: nothing here needs format 3
    log(store_url, small, "small")
    store = fresh(store_url, tmp_path / "cache")
    assert store.catalog.require_store().format == codec.STORE_FORMAT == 2  # nothing sharded yet
    log(store_url, tree)
    store = fresh(store_url, tmp_path / "cache")
    desc = store.catalog.require_store()
    assert desc.format == 3 and desc.algorithm == "blake3"
    # The upgrade kept the store's identity and blob layout.
    assert desc.id is not None and desc.blob_levels == 1
    monkeypatch.setattr(codec, "READ_FORMAT", 2)  # a release before shards
    forget_kept()
    with pytest.raises(FormatError, match="supports format 3"):
        afs.open_store(store_url).artifact("p/small:latest")


def test_gc_keeps_shards_and_frees_them_with_their_version(store_url: str, tree: Path, tmp_path: Path) -> None:
    logged = log(store_url, tree)
    shard_keys = {layout.manifest(r.shard) for r in logged.manifest.shards}
    store = fresh(store_url, tmp_path / "cache")
    store.gc(grace=dt.timedelta(0), dry_run=False)
    assert shard_keys <= set(store.backend.walk("manifests"))
    assert store.verify(deep=True) == []
    assert fresh(store_url, tmp_path / "cache2").artifact("p/ds:v0").file_count == N

    store.delete_version("p/ds:v0")
    report = store.gc(grace=dt.timedelta(0), dry_run=False)
    assert not shard_keys & set(store.backend.walk("manifests"))
    assert report.manifests >= len(shard_keys) + 1
    again = log(store_url, tree)  # logged again after its shards were freed: whole again
    assert again.version == "v1"
    assert fresh(store_url, tmp_path / "cache3").verify(deep=True) == []


def test_a_missing_or_corrupt_shard_is_named(store_url: str, tree: Path, tmp_path: Path) -> None:
    logged = log(store_url, tree)
    refs = logged.manifest.shards
    store = fresh(store_url, tmp_path / "cache")
    store.backend.delete(layout.manifest(refs[1].shard))
    other = store.backend.read(layout.manifest(refs[0].shard))
    store.backend.write(layout.manifest(refs[2].shard), other)  # valid bytes, wrong shard
    problems = store.verify()
    assert {(p.kind, p.key) for p in problems} == {
        ("missing", layout.manifest(refs[1].shard)),
        ("digest", layout.manifest(refs[2].shard)),
    }
    art = store.artifact("p/ds:v0")
    with pytest.raises(IntegrityError, match="missing"):
        art.get_entry(refs[1].first)
    with pytest.raises(IntegrityError, match="does not match"):
        art.get_entry(refs[2].first)
    assert art.get_entry(refs[0].first).path == refs[0].first
    with pytest.raises(StoreError, match="gc stopped"):
        store.gc(grace=dt.timedelta(0), dry_run=False)


def test_a_sharded_version_copies_to_another_store(store_url: str, tree: Path, tmp_path: Path) -> None:
    logged = log(store_url, tree)
    dst = str(tmp_path / "dst")
    report = afs.copy("p/ds:latest", store_url, dst)
    assert report.new_versions == 1
    copied = fresh(dst, tmp_path / "cache").artifact("p/ds:latest")
    assert copied.manifest_digest == logged.manifest_digest and copied.digest == logged.digest
    assert copied.manifest.sharded and copied.file_count == N
    assert afs.copy("p/ds:latest", store_url, dst).new_versions == 0
    assert fresh(dst, tmp_path / "cache").verify(deep=True) == []


def test_a_hostile_root_is_refused(tmp_path: Path, tree: Path) -> None:
    url = str(tmp_path / "store")
    log(url, tree)
    store = fresh(url, tmp_path / "cache")
    rec = store.catalog.version("p", "ds", 0)
    root = codec.decode(store.backend.read(layout.manifest(rec.manifest)), "root")
    cases = {
        "overlap": lambda d: d["shards"][1].update(first=d["shards"][0]["last"]),
        "format": lambda d: d.update(format=1),
        "entries too": lambda d: d.update(entries=[]),
        "no shards": lambda d: d.update(shards=[]),
        "bad count": lambda d: d["shards"][0].update(count=0),
    }
    for what, spoil in cases.items():
        d = codec.decode(store.backend.read(layout.manifest(rec.manifest)), "root")
        spoil(d)
        with pytest.raises(FormatError):
            Manifest.from_bytes(codec.encode(d), what)
    # A root listing another shard's content for a shard is refused when the shard is read.
    d = dict(root)
    d["shards"] = [dict(s) for s in root["shards"]]
    d["shards"][0]["content"] = d["shards"][1]["content"]
    man = Manifest.from_bytes(codec.encode(d), "root", loader=store.catalog.shard)
    with pytest.raises(FormatError, match="content digest"):
        man.entry(d["shards"][0]["first"])
