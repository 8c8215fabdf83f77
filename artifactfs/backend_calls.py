"""One request per question, below the fsspec libraries' own calls where they send two.

s3fs, gcsfs and adlfs answer ``info`` on an absent object with a second request (a listing,
to tell a folder from a missing file) and ``ls`` on an empty folder with another (does the
folder exist at all?); s3fs's ``cat_file`` asks an object's size before reading it. On a
store that answers in 40 ms, each of those doubles what a user waits for, so the store's
reads go through these instead (each falls back to the library's own call on other
filesystems). Also: reading the libraries' answers (details of a ``find``, modified times).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

__all__ = ["abandon", "details", "mtime", "names_below", "size_of", "whole"]


async def whole(fs: Any, path: str) -> Any:
    """One GET of a whole object. Asked from byte 0, so the library sends the request alone
    (without a range, s3fs first asks the size, to split large objects)."""
    try:
        return await fs._cat_file(path, start=0)
    except FileNotFoundError:
        raise
    except Exception:
        if await size_of(fs, path) == 0:  # an empty object has no byte 0 to range over
            return b""
        raise


async def size_of(fs: Any, path: str) -> int:
    """The size of one object in one request (FileNotFoundError if absent)."""
    kind = type(fs).__name__
    if kind == "S3FileSystem":
        bucket, key, _ = fs.split_path(path)
        return int((await fs._call_s3("head_object", Bucket=bucket, Key=key))["ContentLength"])
    if kind == "GCSFileSystem":
        return int((await fs._get_object(path))["size"])
    if kind == "AzureBlobFileSystem":
        from azure.core.exceptions import ResourceNotFoundError

        container, blob, _ = fs.split_path(path)
        async with fs.service_client.get_blob_client(container=container, blob=blob) as client:
            try:
                return int((await client.get_blob_properties()).size)
            except ResourceNotFoundError as e:
                raise FileNotFoundError(path) from e
    info = await fs._info(path)
    if info.get("type") == "directory":
        raise FileNotFoundError(path)
    return int(info.get("size") or 0)


async def names_below(fs: Any, path: str) -> list[str]:
    """The paths directly below the folder ``path``, one request per page of names."""
    kind = type(fs).__name__
    if kind == "S3FileSystem":
        return [e["name"] for e in await fs._lsdir(path, refresh=True)]
    if kind == "GCSFileSystem":
        bucket = fs.split_path(path)[0]
        items, prefixes = await fs._do_list_objects(path)
        return [i["name"] for i in items] + [f"{bucket}/{p}" for p in prefixes]
    if kind == "AzureBlobFileSystem":
        container, key, _ = fs.split_path(path)
        async with fs.service_client.get_container_client(container=container) as client:
            below = key.rstrip("/") + "/"
            return [f"{container}/{b.name}" async for b in client.walk_blobs(name_starts_with=below)]
    fs.invalidate_cache(path)
    return list(await fs._ls(path, detail=False))


def details(found: Any) -> dict[str, Any]:
    """What ``find(..., detail=True)`` gave: path -> info (adlfs gives a list for a file)."""
    return found if isinstance(found, dict) else {}


def mtime(info: dict[str, Any]) -> float:
    """Modified time from an fsspec info dict, whatever the backend calls it (0 if unknown)."""
    for k in ("mtime", "LastModified", "last_modified", "updated", "created", "timeCreated"):
        v = info.get(k)
        if v is None:
            continue
        if isinstance(v, int | float):
            return float(v)
        if isinstance(v, dt.datetime):
            return (v if v.tzinfo else v.replace(tzinfo=dt.UTC)).timestamp()
        if isinstance(v, str):
            try:
                parsed = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
            except ValueError:
                continue
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).timestamp()
    return 0.0


def abandon(out: Any) -> None:
    """Throw away a write-mode fsspec file without committing it (no key appears)."""
    with contextlib.suppress(Exception):
        out.discard()  # aborts a multipart (S3) or resumable (GCS) upload already begun
    out.forced = True  # so close() does not flush the rest; Azure's staged blocks stay uncommitted
    with contextlib.suppress(Exception):
        out.close()
