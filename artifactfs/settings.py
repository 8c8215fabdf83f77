"""Where the default store and the local blob cache live (environment, else platform folders)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import platformdirs

from .errors import InvalidInputError

__all__ = [
    "CACHE_ENV",
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
