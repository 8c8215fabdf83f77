"""Where the default store and the local blob cache live (environment, else platform folders)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import platformdirs

from .errors import CacheWarning, InvalidInputError, LocalFileError, warn
from .mounts import NETWORK_TYPES, filesystem_type, is_network

__all__ = [
    "CACHE_DB_ENV",
    "CACHE_ENV",
    "cache_db_dir",
    "CACHE_MAX_ENV",
    "cache_max",
    "default_cache_max",
    "parse_size",
    "CONCURRENCY_ENV",
    "CONNECT_TIMEOUT_ENV",
    "OPTIONS_ENV",
    "STORE_ENV",
    "connect_timeout",
    "default_cache_dir",
    "default_concurrency",
    "default_store_url",
    "storage_options_for",
]

STORE_ENV = "ARTIFACTFS_STORE"
CACHE_ENV = "ARTIFACTFS_CACHE_DIR"
OPTIONS_ENV = "ARTIFACTFS_STORAGE_OPTIONS"
CONCURRENCY_ENV = "ARTIFACTFS_CONCURRENCY"
CONNECT_TIMEOUT_ENV = "ARTIFACTFS_CONNECT_TIMEOUT"


def connect_timeout() -> float:
    """``$ARTIFACTFS_CONNECT_TIMEOUT``: seconds the first request to a remote store may take,
    the backend library's retries included (default 20)."""
    raw = os.environ.get(CONNECT_TIMEOUT_ENV, "20")
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0 < value < 86_400:
        raise InvalidInputError(f"${CONNECT_TIMEOUT_ENV} must be a number of seconds above 0, got {raw!r}")
    return value


def default_concurrency() -> int:
    """``$ARTIFACTFS_CONCURRENCY`` (requests in flight on remote stores), else 64."""
    raw = os.environ.get(CONCURRENCY_ENV, "64")
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise InvalidInputError(f"${CONCURRENCY_ENV} must be a positive integer, got {raw!r}")
    return value


_SCHEME_ALIASES = {"gcs": "gs", "abfs": "az", "s3a": "s3"}


def storage_options_for(url: str) -> dict[str, Any]:
    """fsspec options for ``url`` from ``$ARTIFACTFS_STORAGE_OPTIONS``.

    The variable holds a JSON object keyed by URL scheme, e.g.
    ``{"s3": {"endpoint_url": "http://127.0.0.1:9000"}, "gs": {"token": "anon"}}``;
    ``gcs``/``gs``, ``abfs``/``az`` and ``s3a``/``s3`` are the same key.
    """
    raw = os.environ.get(OPTIONS_ENV)
    if not raw or "://" not in url:
        return {}
    try:
        table = json.loads(raw)
    except ValueError as e:
        raise InvalidInputError(f"${OPTIONS_ENV} is not valid JSON: {e}") from None
    if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
        raise InvalidInputError(f"${OPTIONS_ENV} must be a JSON object of objects keyed by URL scheme")
    scheme = url.split("://", 1)[0]
    scheme = _SCHEME_ALIASES.get(scheme, scheme)
    for key, options in table.items():
        if _SCHEME_ALIASES.get(key, key) == scheme:
            return dict(options)
    return {}


def default_store_url() -> str:
    """``$ARTIFACTFS_STORE``, else ``<user data dir>/artifactfs/store`` (``~/.local/share/...`` on Linux)."""
    env = os.environ.get(STORE_ENV)
    if env:
        return env
    return str(Path(platformdirs.user_data_dir("artifactfs", appauthor=False)) / "store")


def default_cache_dir() -> Path:
    """``$ARTIFACTFS_CACHE_DIR``, else ``<user cache dir>/artifactfs`` (``~/.cache/artifactfs`` on Linux)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("artifactfs", appauthor=False))


CACHE_MAX_ENV = "ARTIFACTFS_CACHE_MAX"
DEFAULT_CACHE_SHARE = 0.10  # of the disk that holds the cache ...
DEFAULT_CACHE_CEILING = 50 * 10**9  # ... but never more than 50 GB
DEFAULT_CACHE_FLOOR = 10**9  # ... nor less than 1 GB
_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "k": 10**3,
    "m": 10**6,
    "g": 10**9,
    "t": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*")


def parse_size(text: str, what: str = "a size") -> int:
    """``"20GB"`` (SI: 20 * 10**9), ``"1.5 GiB"`` (binary), ``"500MB"``, ``"4096"`` (bytes)."""
    m = _SIZE.fullmatch(text)
    unit = m[2].lower() if m else ""
    if m is None or unit not in _UNITS:
        raise InvalidInputError(f"{what} must be a size such as 20GB, 500MB or 1.5GiB, got {text!r}")
    return int(float(m[1]) * _UNITS[unit])


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str, what: str = "a duration") -> dt.timedelta:
    """``30m``, ``24h``, ``7d``, ``2w``, ``1.5h`` or ``0`` as a timedelta."""
    m = _DURATION.fullmatch(text.strip())
    if text.strip() == "0":
        return dt.timedelta(0)
    if m is None:
        raise InvalidInputError(f"{what} must be a duration such as 30m, 24h or 7d, got {text!r}")
    try:
        return dt.timedelta(**{_DURATION_UNITS[m[2]]: float(m[1])})
    except OverflowError:
        raise InvalidInputError(f"{what}: {text!r} is longer than any duration this tool can hold") from None


def default_cache_max(root: Path) -> int:
    """The cap when none is set: 10% of the disk that holds the cache, between 1 and 50 GB."""
    probe = root
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        total = shutil.disk_usage(probe).total
    except OSError:
        return DEFAULT_CACHE_CEILING
    return max(DEFAULT_CACHE_FLOOR, min(DEFAULT_CACHE_CEILING, int(total * DEFAULT_CACHE_SHARE)))


def cache_max(root: Path) -> int | None:
    """``$ARTIFACTFS_CACHE_MAX`` (``none``: no cap), else :func:`default_cache_max`."""
    raw = os.environ.get(CACHE_MAX_ENV, "").strip()
    if raw.lower() in ("none", "unlimited", "off"):
        return None
    return parse_size(raw, f"${CACHE_MAX_ENV}") if raw else default_cache_max(root)


CACHE_DB_ENV = "ARTIFACTFS_CACHE_DB_DIR"
LOCAL_DB_BASE = "/var/tmp"  # local disk on Linux and macOS, and kept across reboots


def cache_db_dir(cache_root: Path) -> Path:
    """Where the cache's SQLite files live: ``$ARTIFACTFS_CACHE_DB_DIR``, else the cache folder;
    for a cache on a network filesystem (where SQLite's locking is unsafe), a folder of this
    machine's own under ``/var/tmp``, said once as a warning; an error if that is on a network
    filesystem too."""
    env = os.environ.get(CACHE_DB_ENV)
    if env:
        return Path(env).expanduser()
    probe = cache_root
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    kind = filesystem_type(probe)
    if kind not in NETWORK_TYPES:
        return cache_root
    base = Path(LOCAL_DB_BASE) if Path(LOCAL_DB_BASE).is_dir() else Path(tempfile.gettempdir())
    local = base / f"artifactfs-{os.getuid() if hasattr(os, 'getuid') else 'user'}" / _digest(str(cache_root))
    if is_network(base):
        raise LocalFileError(
            f"the cache at {cache_root} is on {kind}, where SQLite's locking is unsafe, and so is {base}: "
            f"set ${CACHE_DB_ENV} to a folder on a local disk (or ${CACHE_ENV} to move the whole cache)"
        )
    if str(cache_root) not in _warned:
        _warned.add(str(cache_root))
        warn(
            CacheWarning(
                f"the cache at {cache_root} is on {kind}, where SQLite's locking is unsafe: its databases "
                f"are kept in {local} on this machine (${CACHE_DB_ENV} chooses the folder)"
            )
        )
    return local


_warned: set[str] = set()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
