"""Fixtures of the command-line tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.test_local_folders import tree
from tests.reads import log


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A store holding p/ds:v0, and a cache of this test's own."""
    url = str(tmp_path / "store")
    log(url, tree(tmp_path / "src"))
    return {"ARTIFACTFS_STORE": url, "ARTIFACTFS_CACHE_DIR": str(tmp_path / "cache")}
