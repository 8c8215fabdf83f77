"""The blob cache under a size cap: least recently used blobs evicted first, blobs linked
from download folders held (reported, never broken), a version larger than the cap still
downloaded, and processes downloading and pruning one cache at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs.backend import open_backend
from artifactfs.cache import BlobCache
from artifactfs.settings import parse_size
from tests.timeouts import HANG

FILE = 4096
FILES = 4  # a version: 16 KiB in four blobs (too few to be packed)


def versions(url: str, tmp_path: Path, n: int, files: int = FILES) -> list[str]:
    """``n`` versions of ``p/ds``, each of ``files`` files of their own content."""
    names = []
    for v in range(n):
        src = tmp_path / f"src{v}"
        src.mkdir()
        for i in range(files):
            (src / f"f{i}.bin").write_bytes(bytes([v, i]) * (FILE // 2))
        with afs.init(project="p", store=url) as run:
            art = afs.Artifact("ds", type="dataset")
            art.add_dir(src)
            names.append(run.log_artifact(art).qualified_name)
    return names


def test_the_cap_holds_across_versions_twice_its_size_and_a_held_folder_stays_whole(
    store_url: str, tmp_path: Path
) -> None:
    names = versions(store_url, tmp_path, 8)  # 128 KiB
    cap = 64 * 1024
    cache = BlobCache(tmp_path / "cache", max_bytes=cap)
    store = afs.Store(open_backend(store_url), cache=cache)
    held = Path(store.artifact(names[0]).download(tmp_path / "held"))  # linked: held by its folder
    for i, name in enumerate(names * 2):
        store.artifact(name).download(tmp_path / f"copy{i}", copy=True)
        assert cache.scan().own_bytes <= cap
    report = cache.scan()
    assert report.own_bytes <= cap
    assert report.held_bytes == FILE * FILES and report.held_blobs == FILES  # reported, not evicted
    assert store.artifact(names[0]).verify(held).ok  # the held folder is whole
    assert cache.versions()[0].version == names[-1]  # the most recently used first
    assert {u.version for u in cache.versions()} == set(names)


def test_least_recently_used_blobs_go_first(tmp_path: Path) -> None:
    url = f"memory://cap-{tmp_path.name}"
    names = versions(url, tmp_path, 3)
    cache = BlobCache(tmp_path / "cache", max_bytes=2 * FILE * FILES)
    store = afs.Store(open_backend(url), cache=cache)
    for name in (names[0], names[1], names[0]):  # v0 used again, after v1
        store.artifact(name).download(tmp_path / f"o-{name[-2:]}-{len(list(tmp_path.iterdir()))}", copy=True)
    store.artifact(names[2]).download(tmp_path / "v2", copy=True)  # room for it: v1's blobs go
    kept = {n for n in names if all(cache.has(e.digest) for e in store.artifact(n).entries.values() if e.digest)}
    assert kept == {names[0], names[2]}


def test_a_version_larger_than_the_cap_still_downloads(store_url: str, tmp_path: Path) -> None:
    (name,) = versions(store_url, tmp_path, 1, files=8)  # 32 KiB
    cache = BlobCache(tmp_path / "cache", max_bytes=8 * 1024)
    store = afs.Store(open_backend(store_url), cache=cache)
    art = store.artifact(name)
    assert art.verify(art.download(tmp_path / "linked")).ok  # its blobs are held by the folder
    assert art.verify(art.download(tmp_path / "copied", copy=True)).ok
    assert cache.scan().own_bytes <= 8 * 1024  # the copies' blobs went again as it finished


def test_prune_and_clear_report_what_they_free_and_spare_held_blobs(tmp_path: Path) -> None:
    url = f"memory://prune-{tmp_path.name}"
    names = versions(url, tmp_path, 3)
    cache = BlobCache(tmp_path / "cache", max_bytes=None)
    store = afs.Store(open_backend(url), cache=cache)
    store.artifact(names[0]).download(tmp_path / "held")
    for name in names[1:]:
        store.artifact(name).download(tmp_path / name.replace("/", "_"), copy=True)
    dry = cache.prune(max_bytes=0, dry_run=True)
    assert (dry.removed_blobs, dry.removed_bytes, dry.dry_run) == (2 * FILES, 2 * FILE * FILES, True)
    assert cache.scan().blobs == 3 * FILES  # a dry run removes nothing
    assert cache.prune(older_than=3600).removed_blobs == 0  # all used just now
    done = cache.prune(max_bytes=FILE * FILES)
    assert (done.removed_blobs, done.held_blobs, done.bytes) == (FILES, FILES, 2 * FILE * FILES)
    cleared = cache.clear()
    assert cleared.removed_blobs == 2 * FILES and cache.scan().blobs == 0
    assert store.artifact(names[0]).verify(tmp_path / "held").ok  # its folder keeps its files


@pytest.mark.parametrize(
    ("text", "size"),
    [("20GB", 20 * 10**9), ("1.5 GiB", 3 * 2**29), ("500MB", 500 * 10**6), ("4096", 4096), ("10g", 10**10)],
)
def test_sizes_are_read_in_si_and_binary_units(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "lots", "20 GBs", "-1GB", "1e9"])
def test_a_bad_size_names_the_setting(text: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ARTIFACTFS_CACHE_MAX", text or " x ")
    with pytest.raises(afs.errors.InvalidInputError, match=r"\$ARTIFACTFS_CACHE_MAX must be a size such as 20GB"):
        BlobCache(tmp_path / "c").max_bytes  # noqa: B018


def test_the_default_cap_is_a_tenth_of_the_disk_between_1_and_50_gb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    monkeypatch.delenv("ARTIFACTFS_CACHE_MAX", raising=False)
    total = shutil.disk_usage(tmp_path).total
    assert BlobCache(tmp_path / "c").max_bytes == max(10**9, min(50 * 10**9, total // 10))
    monkeypatch.setenv("ARTIFACTFS_CACHE_MAX", "none")
    assert BlobCache(tmp_path / "c").max_bytes is None


DOWNLOADER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import artifactfs as afs

    store = afs.open_store(sys.argv[1])
    out = Path(sys.argv[2])
    for round in range(3):
        for i, name in enumerate(sys.argv[3:]):
            art = store.artifact(name)
            folder = art.download(out / f"{round}-{i}", copy=(i + round) % 2 == 1)
            assert art.verify(folder).ok, (name, art.verify(folder).to_dict())
    print("ok")
    """
)
PRUNER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from artifactfs.cache import BlobCache

    cache, stop, n = BlobCache(sys.argv[1]), Path(sys.argv[2]), 0
    while not stop.exists() or n == 0:
        cache.prune(max_bytes=0)
        n += 1
    print(n)
    """
)


def test_processes_downloading_and_pruning_one_cache_at_once(shared_store_url: str, tmp_path: Path) -> None:
    names = versions(shared_store_url, tmp_path, 4)
    (tmp_path / "down.py").write_text(DOWNLOADER)
    (tmp_path / "prune.py").write_text(PRUNER)
    env = {**__import__("os").environ, "ARTIFACTFS_CACHE_DIR": str(tmp_path / "cache"), "ARTIFACTFS_CACHE_MAX": "24KB"}
    stop = tmp_path / "stop"
    pruner = subprocess.Popen(
        [sys.executable, str(tmp_path / "prune.py"), str(tmp_path / "cache"), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        down = subprocess.run(
            [sys.executable, str(tmp_path / "down.py"), shared_store_url, str(tmp_path / "out"), *names],
            capture_output=True,
            text=True,
            env=env,
            timeout=HANG,
        )
    finally:
        stop.touch()
        out, err = pruner.communicate(timeout=HANG)
    assert down.returncode == 0, down.stderr[-3000:]
    assert pruner.returncode == 0, err[-3000:]
    assert int(out) > 0


@pytest.mark.parametrize("store_url", ["memory", "s3"], indirect=True)
def test_a_download_whose_blobs_are_evicted_whenever_it_links_them_still_completes(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    import artifactfs.download

    (name,) = versions(store_url, tmp_path, 1, files=2)
    cache_dir = tmp_path / "cache"
    store = afs.Store(open_backend(store_url), cache=BlobCache(cache_dir))
    real = artifactfs.download.link
    evicted = []

    def pruned_first(src: str, target: str) -> bool:  # another process prunes each blob just then
        if src.startswith(str(cache_dir)) and os.path.exists(src):
            os.unlink(src)
            evicted.append(src)
        return real(src, target)

    monkeypatch.setattr(artifactfs.download, "link", pruned_first)
    art = store.artifact(name)
    out = art.download(tmp_path / "out")
    assert len(evicted) >= 2 and art.verify(out).ok  # fetched straight into place at last
