"""Child process for the repack kill tests: runs gc (grace 0), SIGKILLing itself at a point.

    python crash_gc.py STORE_URL POINT

Points: new-pack (as the new pack starts to be written), moved (as the forwarding record
starts to be written: the new pack and its index are there), delete-index (as the old pack's
index is deleted), delete-pack (as the old pack is deleted, its index gone).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
from typing import Any

import artifactfs as afs
from artifactfs.backend import Backend

store_url, point = sys.argv[1:3]
store = afs.open_store(store_url)
kind = type(store.backend)
parts = {"new-pack": ("write", ".pack"), "moved": ("write", ".moved"), "delete-index": ("delete", ".index")}
parts["delete-pack"] = ("delete", ".pack")
method, part = parts[point]
original = getattr(kind, method)


def deadly(self: Backend, key: str, *args: Any, **kw: Any) -> Any:
    if key.endswith(part):
        os.kill(os.getpid(), signal.SIGKILL)
    return original(self, key, *args, **kw)


setattr(kind, method, deadly)
store.gc(grace=dt.timedelta(0), dry_run=False)
print("gc finished without reaching", point)
