"""Where the default store and the local blob cache live (environment, else platform folders)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

__all__ = ["CACHE_ENV", "STORE_ENV", "default_cache_dir", "default_store_url"]

STORE_ENV = "ARTIFACTFS_STORE"
CACHE_ENV = "ARTIFACTFS_CACHE_DIR"


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
