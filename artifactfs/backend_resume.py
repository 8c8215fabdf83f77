"""Large blob uploads that survive an interruption.

A blob larger than one upload block goes up in blocks through the cloud's own resumable
mechanism: an S3 multipart upload, Azure's uncommitted blocks, a GCS resumable session. When
the process stops halfway (killed, a lost connection, a full disk), that state stays with the
cloud, and the next attempt at the same blob, from this machine or another, sends only what
is not there yet. Blob keys are content digests, so an S3 upload or an Azure block list for
the key is always for the same bytes; each block is still checked before it is kept: an S3
part by its ETag (the MD5 of its bytes), an Azure block by its id (which holds that MD5), a
GCS session by the MD5 of the whole object once it is complete (a GCS session cannot be found
from the bucket, so its address is kept in the cache folder's ``uploads.sqlite3``).

A file that changes while it is sent abandons the upload; any other failure leaves it to
resume. Uploads never resumed are the cloud's to expire (an S3 lifecycle rule
``AbortIncompleteMultipartUpload``; Azure drops uncommitted blocks after a week, GCS a session).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from fsspec.asyn import sync

from . import settings
from .errors import SourceChangedError
from .hashing import Digest, new_file_hasher
from .localdb import LocalDb
from .sources import open_source, read_at_most, source_changed

__all__ = ["RESUMABLE_PROTOCOLS", "upload_resumable"]

RESUMABLE_PROTOCOLS = {
    **dict.fromkeys(("s3", "s3a"), "s3"),
    **dict.fromkeys(("az", "abfs", "abfss"), "azure"),
    **dict.fromkeys(("gs", "gcs"), "gcs"),
}


class SessionGone(Exception):
    """The upload an earlier attempt began is no longer there to resume."""


class _Upload:
    """One blob's upload in blocks: which blocks the cloud holds already, and how to add one."""

    def has(self, index: int, offset: int, data: bytes, md5: str) -> bool:
        raise NotImplementedError

    def send(self, index: int, offset: int, data: bytes, md5: str) -> None:
        raise NotImplementedError

    def finish(self, md5s: list[str], whole_md5: str) -> bool:
        """Make the object from the blocks; False if what the cloud made is not these bytes."""
        raise NotImplementedError

    def forget(self) -> None:
        """Abandon the upload (the source changed, or what was stored is not the source)."""


def upload_resumable(fs: Any, path: str, local: str, digest: Digest, size: int, block: int) -> bool:
    """Upload ``local`` (hashed as ``digest``, ``size`` bytes) to ``path`` in blocks of
    ``block`` bytes, resuming an upload an earlier attempt left; False if ``fs`` has no
    resumable uploads (the caller sends it its own way)."""
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    kind = RESUMABLE_PROTOCOLS.get(protocol)
    if kind is None:
        return False
    for attempt in (0, 1):
        up = _STARTERS[kind](fs, path, size, block, attempt == 0)
        try:
            if _send_file(up, local, digest, size, block):
                return True
        except SessionGone:
            pass
        up.forget()  # what was resumed is gone or is not this blob: start over once, from nothing
    raise SourceChangedError(f"{local}: the upload to {path} did not hold the bytes sent, twice")


def _send_file(up: _Upload, local: str, digest: Digest, size: int, block: int) -> bool:
    hasher, whole = new_file_hasher(digest.algorithm), hashlib.md5()
    md5s: list[str] = []
    sent = 0

    def check(read: int, extra: bytes) -> None:
        got = Digest(digest.algorithm, hasher.hexdigest())
        if read != size or extra or got != digest:
            raise source_changed(local, digest, size, got, read + len(extra))

    with open_source(local) as src:
        try:
            while sent < size and (chunk := read_at_most(src, local, min(block, size - sent))):
                hasher.update(chunk)
                whole.update(chunk)
                md5 = hashlib.md5(chunk).hexdigest()
                if sent + len(chunk) == size:  # checked whole before the last block ends the upload
                    check(size, read_at_most(src, local, 1))
                if not up.has(len(md5s), sent, chunk, md5):
                    up.send(len(md5s), sent, chunk, md5)
                md5s.append(md5)
                sent += len(chunk)
            if sent < size:  # the file is shorter than it was
                check(sent, b"")
        except SourceChangedError:
            up.forget()
            raise
    return up.finish(md5s, whole.hexdigest())


# ---------------------------------------------------------------------------------- S3
class _S3(_Upload):
    def __init__(self, fs: Any, path: str, size: int, block: int, resume: bool) -> None:
        self.fs, self.block = fs, block
        self.bucket, self.key, _ = fs.split_path(path)
        self.parts: dict[int, tuple[str, int]] = {}  # part number -> (ETag, size)
        self.upload_id = self._find() if resume else None
        if self.upload_id is None:
            made = fs.call_s3("create_multipart_upload", Bucket=self.bucket, Key=self.key)
            self.upload_id = made["UploadId"]

    def _find(self) -> str | None:
        found = self.fs.call_s3("list_multipart_uploads", Bucket=self.bucket, Prefix=self.key)
        ours = [u for u in found.get("Uploads", []) if u["Key"] == self.key]
        if not ours:
            return None
        upload_id: str = max(ours, key=lambda u: u["Initiated"])["UploadId"]
        marker = 0
        while True:
            page = self.fs.call_s3(
                "list_parts", Bucket=self.bucket, Key=self.key, UploadId=upload_id, PartNumberMarker=marker
            )
            for p in page.get("Parts", []):
                self.parts[p["PartNumber"]] = (p["ETag"].strip('"'), p["Size"])
            if not page.get("IsTruncated"):
                return upload_id
            marker = page["NextPartNumberMarker"]

    def has(self, index: int, offset: int, data: bytes, md5: str) -> bool:
        return self.parts.get(index + 1) == (md5, len(data))

    def send(self, index: int, offset: int, data: bytes, md5: str) -> None:
        out = self.fs.call_s3(
            "upload_part", Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=index + 1, Body=data
        )
        self.parts[index + 1] = (out["ETag"].strip('"'), len(data))

    def finish(self, md5s: list[str], whole_md5: str) -> bool:
        parts = [{"PartNumber": i + 1, "ETag": f'"{self.parts[i + 1][0]}"'} for i in range(len(md5s))]
        try:
            self.fs.call_s3(
                "complete_multipart_upload",
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self.upload_id,
                MultipartUpload={"Parts": parts},
            )
        except Exception:
            # Another process may have completed this very upload first: then the blob is there.
            self.fs.invalidate_cache(f"{self.bucket}/{self.key}")
            with contextlib.suppress(FileNotFoundError):
                if self.fs.info(f"{self.bucket}/{self.key}")["size"] == sum(s for _, s in self.parts.values()):
                    return True
            raise
        self.fs.invalidate_cache(f"{self.bucket}/{self.key}")
        return True

    def forget(self) -> None:
        with contextlib.suppress(Exception):
            self.fs.call_s3("abort_multipart_upload", Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)


# ---------------------------------------------------------------------------------- Azure
class _Azure(_Upload):
    def __init__(self, fs: Any, path: str, size: int, block: int, resume: bool) -> None:
        from azure.storage.blob import BlobBlock

        self.fs, self.path, self._block = fs, path, BlobBlock
        container, blob, _ = fs.split_path(path)
        self.client = fs.service_client.get_blob_client(container=container, blob=blob)
        self.staged: set[str] = set()
        if resume:
            with contextlib.suppress(Exception):  # no blob and no blocks yet
                _, uncommitted = sync(fs.loop, self.client.get_block_list, "uncommitted")
                self.staged = {b.id for b in uncommitted}

    @staticmethod
    def block_id(index: int, md5: str) -> str:
        # One length for every id of a blob (Azure's rule); the MD5 makes a staged block
        # that is not these bytes a different id.
        return f"afs-{index:06d}-{md5}"

    def has(self, index: int, offset: int, data: bytes, md5: str) -> bool:
        return self.block_id(index, md5) in self.staged

    def send(self, index: int, offset: int, data: bytes, md5: str) -> None:
        block_id = self.block_id(index, md5)
        sync(self.fs.loop, self.client.stage_block, block_id=block_id, data=data, length=len(data))
        self.staged.add(block_id)

    def finish(self, md5s: list[str], whole_md5: str) -> bool:
        blocks = [self._block(block_id=self.block_id(i, m)) for i, m in enumerate(md5s)]
        sync(self.fs.loop, self.client.commit_block_list, blocks)
        self.fs.invalidate_cache(self.path)
        return True


# ---------------------------------------------------------------------------------- GCS
_SESSIONS_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS sessions (path TEXT PRIMARY KEY, size INTEGER, block INTEGER,"
    " location TEXT, started REAL, committed INTEGER)",
)
SESSION_DAYS = 6  # GCS keeps a resumable session a week


def _sessions() -> LocalDb:
    root = settings.default_cache_dir()
    return LocalDb(settings.cache_db_dir(root) / "uploads.sqlite3", _SESSIONS_SCHEMA)


class _Gcs(_Upload):
    def __init__(self, fs: Any, path: str, size: int, block: int, resume: bool) -> None:
        from gcsfs.core import initiate_upload

        self.fs, self.size = fs, size
        self.bucket, self.key, _ = fs.split_path(path)
        self.path = f"{self.bucket}/{self.key}"
        self.db = _sessions()
        self.committed, self.resumed = 0, False
        self.result: dict[str, Any] | None = None
        self.location = self._find(block) if resume else None
        if self.location is None:
            self.location = sync(fs.loop, initiate_upload, fs, self.bucket, self.key)
            self.db.write(
                "INSERT OR REPLACE INTO sessions VALUES (?, ?, ?, ?, ?, 0)",
                [(self.path, size, block, self.location, time.time())],
            )

    def _find(self, block: int) -> str | None:
        # What the session holds is what it acknowledged, as recorded here after each chunk: a
        # status query would do, but the GCS emulator ends the upload on one. Should the
        # session have kept more (the process died between its answer and the record), the
        # overlap is sent again; the MD5 check at the end catches any mismatch.
        rows = self.db.rows(
            "SELECT location, committed FROM sessions WHERE path = ? AND size = ? AND block = ? AND started > ?",
            (self.path, self.size, block, time.time() - SESSION_DAYS * 86400),
        )
        if not rows:
            return None
        self.committed = int(rows[0][1])
        self.resumed = True
        return str(rows[0][0])

    def has(self, index: int, offset: int, data: bytes, md5: str) -> bool:
        return offset + len(data) <= self.committed

    def send(self, index: int, offset: int, data: bytes, md5: str) -> None:
        while self.committed < offset + len(data):
            start = max(offset, self.committed)
            chunk = data[start - offset :]
            last = start + len(chunk) == self.size
            # A chunk before the last gives no total (as gcsfs does: the emulator then keeps it open).
            total = str(self.size) if last else "*"
            try:
                headers, text = sync(
                    self.fs.loop,
                    self.fs._call,
                    "POST",
                    self.location,
                    headers={
                        "Content-Range": f"bytes {start}-{start + len(chunk) - 1}/{total}",
                        "Content-Type": "application/octet-stream",
                        "Content-Length": str(len(chunk)),
                    },
                    data=chunk,
                )
            except FileNotFoundError as e:
                if self.resumed:  # the session expired or was ended: start a new one
                    raise SessionGone from e
                raise
            if last and text:  # the object, made
                self.committed, self.result = self.size, json.loads(text)
            elif "Range" in headers:  # kept up to there (GCS may keep less than it was sent)
                self.committed = int(headers["Range"].split("-")[1]) + 1
            else:
                self.committed = start + len(chunk)
            self.db.write("UPDATE sessions SET committed = ? WHERE path = ?", [(self.committed, self.path)])

    def finish(self, md5s: list[str], whole_md5: str) -> bool:
        self.db.write("DELETE FROM sessions WHERE path = ?", [(self.path,)])
        self.fs.invalidate_cache(self.path)
        stored = (self.result or {}).get("md5Hash")
        if stored is None:  # no MD5 from the server: check the size at least
            try:
                return bool(self.fs.info(self.path)["size"] == self.size)
            except FileNotFoundError:
                return False
        return base64.b64decode(stored).hex() == whole_md5

    def forget(self) -> None:
        self.db.write("DELETE FROM sessions WHERE path = ?", [(self.path,)])
        with contextlib.suppress(Exception):  # cancel the session (GCS answers 499)
            sync(self.fs.loop, self.fs._call, "DELETE", self.location)
        if self.result is not None:
            with contextlib.suppress(Exception):
                self.fs.rm_file(self.path)


_STARTERS: dict[str, Callable[[Any, str, int, int, bool], _Upload]] = {"s3": _S3, "azure": _Azure, "gcs": _Gcs}
