"""Child process for the kill tests: logs a folder, SIGKILLing itself at a chosen point.

python crash_writer.py STORE FOLDER KILL_METHOD KILL_KEY_PART KILL_AT_CALL
"""

from __future__ import annotations

import os
import signal
import sys

import artifactfs as afs
from artifactfs.storage import Backend

store, folder, method, part, at = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
KEY_ARG = {"write": 0, "create": 0, "put_file": 1, "adopt": 1}
calls = 0
original = getattr(Backend, method)


def deadly(self: Backend, *args: object, **kw: object) -> object:
    global calls
    if part in str(args[KEY_ARG[method]]):
        calls += 1
        if calls == at:
            os.kill(os.getpid(), signal.SIGKILL)
    return original(self, *args, **kw)


if method != "none":
    setattr(Backend, method, deadly)
with afs.init(project="p", job_type="crash", store=store) as run:
    art = afs.Artifact("ds", type="dataset")
    art.add_dir(folder)
    print(run.log_artifact(art, aliases=["best"]).version)
