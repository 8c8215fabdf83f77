"""Which filesystem holds a path, from the mount table: network filesystems (NFS, Lustre,
SMB, ...) are told apart, because SQLite's file locking is not safe on them.

Only Linux has ``/proc/self/mounts``; elsewhere no path is taken for a network one (macOS and
Windows users rarely keep a cache on NFS; ``$ARTIFACTFS_CACHE_DB_DIR`` covers the rest).
"""

from __future__ import annotations

import os

__all__ = ["NETWORK_TYPES", "filesystem_type", "is_network"]

MOUNTS = "/proc/self/mounts"
NETWORK_TYPES = frozenset(
    {
        "nfs",
        "nfs4",
        "lustre",
        "cifs",
        "smb3",
        "smbfs",
        "9p",
        "afs",
        "gpfs",
        "beegfs",
        "ceph",
        "glusterfs",
        "panfs",
        "fuse.sshfs",
        "fuse.ceph",
        "fuse.glusterfs",
        "fuse.gcsfuse",
        "fuse.s3fs",
        "fuse.goofys",
        "fuse.rclone",
        "fuse.juicefs",
    }
)


def filesystem_type(path: str | os.PathLike[str]) -> str | None:
    """The type of the filesystem that holds ``path`` (the longest mount point above it), or
    None where there is no mount table to read."""
    target = os.path.realpath(path)
    try:
        with open(MOUNTS, encoding="utf-8", errors="replace") as f:
            rows = [line.split() for line in f]
    except OSError:
        return None
    best, kind = "", None
    for row in rows:
        if len(row) < 3:
            continue
        point = row[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, row[2]
    return kind


def is_network(path: str | os.PathLike[str]) -> bool:
    return filesystem_type(path) in NETWORK_TYPES
