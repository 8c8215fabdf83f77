"""Leases that keep gc from deleting what an in-flight commit relies on (as restic's locks).

A commit holds a lease (``locks/commits/<id>``) from before its first look at what the store
already has until its version record exists; a gc holds a lock (``locks/gc/<id>``) while it
deletes. Each side writes its own record, then lists the other side's:

- commit: write the lease, then list gc locks; if a live one is there, drop the lease, wait
  until none is left, and start again;
- gc: write its lock, then list gc locks (if another live one is there, stop: one gc deletes
  at a time) and commit leases, and wait until every commit lease is gone or dead; then mark
  again what versions appeared meanwhile, and only then delete.

Whichever writes second sees the first (every supported backend lists its own and others'
writes at once), so a commit either finishes before gc marks again or starts after gc is done:
a blob or manifest a commit re-uses is never deleted under it. One lease per commit, not a
write per re-used blob.

A lease is renewed every ``ttl / 4`` seconds by a thread while its holder works. It is dead
when not renewed for ``ttl`` seconds, or at once when its process is gone from this machine.
A holder that could not renew in time (the process was suspended, the network was down)
learns it before it relies on the lease again (:meth:`Held.check`) and stops.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator

from . import codec, layout
from .backend import Backend
from .errors import FormatError, StoreError
from .markers import Lease

__all__ = ["LEASE_TTL", "NODE", "Held", "alive", "commit_lease", "gc_lock", "gone", "live_leases"]

LEASE_TTL = 120.0  # seconds without renewal after which another machine takes a lease as dead
HOSTNAME = socket.gethostname()


def _node() -> str:
    """This machine and process namespace: pids are only comparable within one."""
    parts = [HOSTNAME]
    with contextlib.suppress(OSError):
        with open("/proc/sys/kernel/random/boot_id") as f:
            parts.append(f.read().strip())
        parts.append(str(os.stat("/proc/self/ns/pid").st_ino))
    return "/".join(parts)


NODE = _node()


def gone(host: str | None, pid: int | None) -> bool:
    """Whether the process ``pid`` of ``host`` (a :data:`NODE`) is known to be gone: only
    processes of this machine and pid namespace can be asked."""
    if host != NODE or not pid or pid < 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, owned by someone else
    return False


_HELD: set[str] = set()  # ids of the leases this process holds now


def alive(lease: Lease, now: float | None = None) -> bool:
    """Whether ``lease``'s holder may still be at work: its process is not known to be gone,
    and it renewed the lease within its ttl. A lease of this very process that it no longer
    holds is dead too (its removal failed: a store error, an operation that raised midway)."""
    if lease.host == NODE and lease.pid == os.getpid() and lease.id not in _HELD:
        return False
    return not gone(lease.host, lease.pid) and (time.time() if now is None else now) - lease.renewed < lease.ttl


def live_leases(backend: Backend, folder: str) -> list[Lease]:
    """The leases in ``folder`` whose holders may still be at work (unreadable ones protect
    nothing: nobody can renew them)."""
    names = backend.listdir(folder)
    if not names:
        return []
    found = backend.read_many(f"{folder}/{n}" for n in names)
    out = []
    for name, (key, data) in zip(names, found.items(), strict=True):
        if data is None:
            continue
        try:
            lease = Lease.from_bytes(data, f"lease {key}", lease_id=name.removesuffix(".msgpack"))
        except FormatError:
            continue
        if alive(lease):
            out.append(lease)
    return out


class Held:
    """A lease this process holds: written at once, renewed by a thread until :meth:`release`."""

    def __init__(self, backend: Backend, role: str, ttl: float) -> None:
        self.backend, self.ttl = backend, ttl
        self.lease = Lease(role, uuid.uuid4().hex, NODE, os.getpid(), codec.utcnow(), time.time(), ttl)
        self.key = layout.commit_lease(self.lease.id) if role == "commit" else layout.gc_lock(self.lease.id)
        self._renewed = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        _HELD.add(self.lease.id)
        try:
            backend.write(self.key, self.lease.to_bytes())
        except BaseException:
            _HELD.discard(self.lease.id)
            raise

    def start(self) -> None:
        self._thread = threading.Thread(target=self._renew, name=f"artifactfs-{self.lease.role}-lease", daemon=True)
        self._thread.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl / 4):
            started = time.monotonic()
            lease = self.lease
            renewed = Lease(lease.role, lease.id, lease.host, lease.pid, lease.created_at, time.time(), lease.ttl)
            try:
                self.backend.write(self.key, renewed.to_bytes())
            except StoreError:
                continue  # check() notices once the lease has lapsed
            self._renewed = started

    def check(self) -> None:
        """Raise :class:`StoreError` if the lease may have lapsed (not renewed within ``ttl``):
        others may then have taken its holder for dead."""
        if time.monotonic() - self._renewed >= self.ttl * 0.9:
            raise StoreError(
                f"store {self.backend.url}: this {self.lease.role} could not renew its lease for "
                f"{self.ttl:.0f} s (suspended, or the store unreachable); stopped before relying on it: "
                "nothing was made visible, run it again"
            )

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        _HELD.discard(self.lease.id)  # (first: left behind, it is dead to this process anyway)
        with contextlib.suppress(StoreError):
            self.backend.delete(self.key)


@contextlib.contextmanager
def commit_lease(backend: Backend, ttl: float = LEASE_TTL) -> Iterator[Held]:
    """Hold a commit lease for the ``with`` block, waiting first for any gc that is deleting."""
    while True:
        held = Held(backend, "commit", ttl)
        if not live_leases(backend, layout.gc_locks_dir()):
            break
        held.release()
        pause = 0.05
        while live_leases(backend, layout.gc_locks_dir()):
            time.sleep(pause)
            pause = min(pause * 2, 1.0)
    held.start()
    try:
        yield held
    finally:
        held.release()


@contextlib.contextmanager
def gc_lock(backend: Backend, ttl: float = LEASE_TTL, doing: str = "gc") -> Iterator[Held]:
    """Hold a gc lock for the ``with`` block; :class:`StoreError` if another live gc holds one
    (``doing``: what to run again then; a purge deletes under the same lock)."""
    held = Held(backend, "gc", ttl)
    others = [g for g in live_leases(backend, layout.gc_locks_dir()) if g.id != held.lease.id]
    if others:
        held.release()
        other = others[0]
        raise StoreError(
            f"another gc is deleting from store {backend.url} (host {other.host.split('/')[0]}, "
            f"pid {other.pid}, since {other.created_at}); run {doing} again once it is done"
        )
    held.start()
    try:
        yield held
    finally:
        held.release()
