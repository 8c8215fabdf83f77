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


def patch_backend(method: str, part: str, at: int, key_arg: int, after: bool = False) -> None:
    """Die as the ``at``-th call of ``method`` on a key holding ``part`` starts (or returns)."""
    kind = type(afs.open_store(store_url).backend)
    original = getattr(kind, method)

    def deadly(self: Backend, *args: Any, **kw: Any) -> Any:
        hit = part in str(args[key_arg])
        if hit and not after:
            die_on(method + part, at)
        result = original(self, *args, **kw)
        if hit and after:
            die_on(method + part, at)
        return result

    setattr(kind, method, deadly)


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
# The small files go in a pack: blob-1 dies as it starts to be sent, blob-40 once it landed
# but before its index.
if point == "blob-1":
    patch_backend("write", ".pack", 1, 0)
elif point == "blob-40":
    patch_backend("write", ".pack", 1, 0, after=True)
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
