"""Local faults (a full disk, a file too large, a forbidden or read-only folder) are typed
errors naming the path and what to do; the CLI prints one line and exits 1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs.errors import InvalidNameError
from tests.localfs import api, cli


@pytest.fixture
def logged(tmp_path: Path) -> str:
    """A local store holding p/ds:v0: one 3 MiB file and a small one."""
    store = str(tmp_path / "store")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "big.bin").write_bytes(os.urandom(3 << 20))
    (tmp_path / "data" / "small.txt").write_text("small\n")
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("ds", type="dataset")
        art.add_dir(tmp_path / "data")
        run.log_artifact(art)
    return store


def one_error_line(done: object, *needles: str) -> None:
    lines = done.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert done.returncode == 1 and len(lines) == 1 and lines[0].startswith("error: "), done.stderr  # type: ignore[attr-defined]
    assert all(n in lines[0] for n in needles), lines[0]
    assert "Traceback" not in done.stderr  # type: ignore[attr-defined]


def test_a_full_disk_during_a_download(logged: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = api(f"afs.open_store({logged!r}).artifact('p/ds:v0').download({str(out)!r})", mounts={str(out): "size=1m"})
    assert done.returncode == 3 and done.stdout.startswith("LocalFileError |"), done.stdout + done.stderr
    assert "disk is full" in done.stdout and str(out) in done.stdout
    one_error_line(cli("--store", logged, "get", "p/ds:v0", str(out), mounts={str(out): "size=1m"}), "disk is full")


def test_a_file_too_large_for_its_filesystem(logged: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = api(
        f"afs.open_store({logged!r}).artifact('p/ds:v0').download({str(out)!r}, copy=True)", max_file_size=1 << 20
    )
    assert done.returncode == 3 and done.stdout.startswith("LocalFileError |"), done.stdout + done.stderr
    assert "too large" in done.stdout.lower() or "larger than" in done.stdout
    one_error_line(cli("--store", logged, "get", "p/ds:v0", str(out), "--copy", max_file_size=1 << 20), "larger than")


def test_an_unreadable_file_or_folder_in_add_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "locked").mkdir(parents=True)
    (data / "ok.txt").write_text("ok")
    (data / "secret.txt").write_text("secret")
    (data / "secret.txt").chmod(0)
    store = str(tmp_path / "store")
    log = (
        f"run = afs.init(project='p', store={store!r}); art = afs.Artifact('ds', type='dataset'); "
        f"art.add_dir({str(data)!r}); run.log_artifact(art)"
    )
    done = api(log, unprivileged=True)
    assert done.returncode == 3 and done.stdout.startswith("LocalFileError |"), done.stdout + done.stderr
    assert "secret.txt" in done.stdout and "permission" in done.stdout.lower()
    one_error_line(
        cli("--store", store, "put", str(data), "-p", "p", "-n", "ds", "-t", "dataset", unprivileged=True),
        "secret.txt",
    )
    (data / "secret.txt").chmod(0o644)
    (data / "locked").chmod(0)
    done = api(log, unprivileged=True)
    assert done.returncode == 3 and "LocalFileError" in done.stdout and "locked" in done.stdout
    (data / "locked").chmod(0o755)


def test_a_read_only_cache_folder(shared_store_url: str, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.bin").write_bytes(os.urandom(1000))
    with afs.init(project="p", store=shared_store_url) as run:
        art = afs.Artifact("ds", type="dataset")
        art.add_dir(tmp_path / "data")
        run.log_artifact(art)
    cache = os.environ["ARTIFACTFS_CACHE_DIR"]
    out = tmp_path / "out"
    call = f"afs.open_store({shared_store_url!r}).artifact('p/ds:v0').download({str(out)!r})"
    done = api(call, mounts={cache: "ro,size=1m"})
    if "://" not in shared_store_url:  # a local store's blobs are copied; the cache is only a bonus
        assert done.returncode == 0 and (out / "a.bin").stat().st_size == 1000, done.stdout + done.stderr
        return
    assert done.returncode == 3 and done.stdout.startswith("LocalFileError |"), done.stdout + done.stderr
    assert cache in done.stdout and "ARTIFACTFS_CACHE_DIR" in done.stdout
    one_error_line(
        cli("--store", shared_store_url, "get", "p/ds:v0", str(out), mounts={cache: "ro,size=1m"}), "blob cache"
    )


def test_a_name_no_filesystem_can_hold_is_refused_when_added(store: afs.Store) -> None:
    art = afs.Artifact("ds", type="dataset")
    with pytest.raises(InvalidNameError, match="255 bytes"), art.new_file("x" * 300) as f:
        f.write("never downloadable")
    with pytest.raises(InvalidNameError, match="255 bytes"):
        art.add_file(__file__, name="dir/" + "é" * 200)  # 400 bytes in UTF-8
