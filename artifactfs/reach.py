"""Which stores this process treats as offline, and why: ``$ARTIFACTFS_OFFLINE`` (every store),
or a store found unreachable once (for the rest of the process).

A store known to be offline is never contacted again: its backend refuses every call before
any connection is opened (:func:`check_reachable`), and :class:`~artifactfs.Store` answers
what it can from what this machine has seen (:mod:`artifactfs.seen`).
"""

from __future__ import annotations

import os
import threading
import time

from .errors import StoreOfflineError

__all__ = ["OFFLINE_ENV", "check_reachable", "forget_offline", "mark_offline", "offline_reason"]

OFFLINE_ENV = "ARTIFACTFS_OFFLINE"
_down: dict[str, tuple[float, str]] = {}  # url -> (when it was found unreachable, why)
_lock = threading.Lock()


def offline_env() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def offline_reason(url: str) -> str | None:
    """Why the store at ``url`` is offline for this process, or None if it is not known to be."""
    if offline_env():
        return f"${OFFLINE_ENV} is set"
    with _lock:
        found = _down.get(url)
    if found is None:
        return None
    when, why = found
    return f"unreachable since {time.strftime('%H:%M:%S', time.localtime(when))}: {why}"


def mark_offline(url: str, why: str) -> None:
    """Treat the store at ``url`` as offline for the rest of this process."""
    with _lock:
        _down.setdefault(url, (time.time(), " ".join(why.split())[:300]))


def forget_offline() -> None:
    """Try every store again (the network is back)."""
    with _lock:
        _down.clear()


def check_reachable(url: str) -> None:
    """:class:`StoreOfflineError` if the store at ``url`` is known to be offline: raised before
    any request, so an offline store costs no connection attempt."""
    reason = offline_reason(url)
    if reason is not None:
        raise StoreOfflineError(f"store {url} is offline ({reason}); nothing was sent to it")
