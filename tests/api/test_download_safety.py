"""Downloads replace files by rename: nothing linked into the cache is ever written through,
and repeated or concurrent downloads leave no temporary files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import artifactfs as afs
from tests.httpserver import Served


def log(store: afs.Store, build: object) -> afs.Artifact:
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("ds", type="dataset")
        build(art)  # type: ignore[operator]
        return run.log_artifact(art)


def leftovers(*roots: Path) -> list[Path]:
    return [p for root in roots for p in root.rglob("*.tmp-*")]


def test_reference_download_never_writes_through_a_cache_link(
    store: afs.Store, tmp_path: Path, http_server: Served
) -> None:
    (tmp_path / "weights.bin").write_bytes(b"the cached weights")
    v0 = log(store, lambda a: a.add_file(tmp_path / "weights.bin"))
    shared = Path(v0.download(tmp_path / "dl"))
    other = Path(v0.download(tmp_path / "other"))  # another download of the same blob
    digest = v0.entries["weights.bin"].digest
    assert digest is not None and os.path.samefile(shared / "weights.bin", store.cache.file(digest))

    http_server.files["weights.bin"] = b"remote bytes, recorded by ETag"
    v1 = log(store, lambda a: a.add_reference(http_server.url("weights.bin")))
    assert v1.entries["weights.bin"].digest is None  # a strong ETag was recorded instead
    v1.download(shared)  # over the folder holding the hard link

    assert (shared / "weights.bin").read_bytes() == b"remote bytes, recorded by ETag"
    assert Path(store.cache.file(digest)).read_bytes() == b"the cached weights"
    assert (other / "weights.bin").read_bytes() == b"the cached weights"
    assert store.verify(deep=True) == []
    assert leftovers(tmp_path, store.cache.root) == []


def test_downloading_twice_into_one_folder_leaves_no_temp_files(store: afs.Store, files: Path) -> None:
    art = log(store, lambda a: a.add_dir(files))
    for _ in range(3):
        art.download()  # ./artifacts/ds-v0 each time
    root = Path("artifacts/ds-v0")
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == [
        "a.txt",
        "b.bin",
        "sub/c.txt",
    ]
    assert leftovers(root, store.cache.root) == []


DOWNLOADER = """
import sys, artifactfs as afs
store = afs.open_store(sys.argv[1])
for _ in range(int(sys.argv[3])):
    store.artifact("p/ds:v0").download(sys.argv[2])
"""


def test_concurrent_downloads_leave_no_temp_files(shared_store_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    for i in range(40):
        (folder / f"f{i}.txt").write_text(f"file {i}\n")
    store = afs.open_store(shared_store_url)
    log(store, lambda a: a.add_dir(folder))
    code = str(Path(afs.__file__).parent.parent)  # the children run the code under test
    env = {**os.environ, "PYTHONPATH": code}
    procs = [
        subprocess.Popen([sys.executable, "-c", DOWNLOADER, shared_store_url, str(tmp_path / "out"), "4"], env=env)
        for _ in range(3)
    ]
    assert all(p.wait() == 0 for p in procs)
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == sorted(f"f{i}.txt" for i in range(40))
    assert all((out / f"f{i}.txt").read_text() == f"file {i}\n" for i in range(40))
    assert leftovers(out, Path(os.environ["ARTIFACTFS_CACHE_DIR"])) == []
