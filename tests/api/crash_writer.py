"""Child process for the kill tests: logs a folder, SIGKILLing itself at a chosen point.

    python crash_writer.py STORE_URL FOLDER POINT

Points name a step of log_artifact (see POINTS in test_crash.py). Store options come from
$ARTIFACTFS_STORAGE_OPTIONS, as for any store opened by URL.
"""

from __future__ import annotations

import os
import signal
import sys
from collections import Counter
from typing import Any

import artifactfs as afs
from artifactfs.backend import Backend

store_url, folder, point = sys.argv[1:4]
calls: Counter[str] = Counter()


def die_on(counter: str, at: int) -> None:
    calls[counter] += 1
    if calls[counter] == at:
        os.kill(os.getpid(), signal.SIGKILL)


def patch_backend(method: str, part: str, at: int, key_arg: int) -> None:
    kind = type(afs.open_store(store_url).backend)
    original = getattr(kind, method)

    def deadly(self: Backend, *args: Any, **kw: Any) -> Any:
        if part in str(args[key_arg]):
            die_on(method + part, at)
        return original(self, *args, **kw)

    setattr(kind, method, deadly)


def patch_remote_put(at: int, after: bool = False) -> None:
    """Die inside the backend's own concurrent upload of small blobs: when the ``at``-th blob
    starts, or (``after``) once ``at`` blobs have landed, with the others still in flight."""
    store = afs.open_store(store_url)
    cls = type(store.backend.fs)
    original = cls._pipe_file

    async def deadly(self: Any, path: str, *args: Any, **kw: Any) -> Any:
        blob = "/blobs/" in str(path)
        if blob and not after:
            die_on("put", at)
        result = await original(self, path, *args, **kw)
        if blob and after:
            die_on("put", at)
        return result

    cls._pipe_file = deadly


def patch_large_upload() -> None:
    """Die while a large file is streamed to a remote store, after its first block is read."""
    from artifactfs import sources as storage

    original = storage.read_at_most

    def deadly(src: Any, local: str, n: int) -> bytes:
        data = original(src, local, n)
        if local.endswith("large.bin"):
            die_on("large", 1)
        return data

    storage.read_at_most = deadly


local = "://" not in store_url
if point == "blob-1":
    patch_backend("write", "blobs/", 1, 0) if local else patch_remote_put(1)
elif point == "blob-40":
    patch_backend("write", "blobs/", 40, 0) if local else patch_remote_put(30, after=True)
elif point == "large-blob":
    patch_backend("adopt", "blobs/", 1, 1) if local else patch_large_upload()
elif point == "manifest":
    patch_backend("create", "manifests/", 1, 0)
elif point == "claim":
    patch_backend("create", ".claim", 1, 0)
elif point == "version-record":
    patch_backend("create", "versions/", 1, 0)
elif point == "hint":
    patch_backend("write", "hints/latest", 1, 0)
elif point == "claim-resolution":
    patch_backend("create", "digests/", 2, 0)
elif point == "alias":
    patch_backend("create", "aliases/", 1, 0)
else:
    raise SystemExit(f"unknown point {point}")

with afs.init(project="p", job_type="crash", store=store_url) as run:
    art = afs.Artifact("ds", type="dataset")
    art.add_dir(folder)
    print(run.log_artifact(art, aliases=["best"]).version)
