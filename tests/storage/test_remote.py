"""Behaviour that only remote stores have: ranged table reads, URL forms, backend failures."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import aiohttp
import numpy as np
import pandas as pd
import pytest

import artifactfs as afs
from artifactfs.errors import StoreError
from artifactfs.table import ROW_GROUP_SIZE
from tests.conftest import CLOUD, cloud_root


@pytest.fixture(params=CLOUD)
def cloud_url(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    return cloud_root(request, request.param, monkeypatch)


@pytest.fixture
def requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """(method, url) of every HTTP request the fsspec backends make while the test runs."""
    seen: list[tuple[str, str]] = []
    original = aiohttp.ClientSession._request

    async def counting(self: aiohttp.ClientSession, method: str, url: Any, *a: Any, **kw: Any) -> Any:
        seen.append((method, str(url)))
        return await original(self, method, url, *a, **kw)

    monkeypatch.setattr(aiohttp.ClientSession, "_request", counting)
    yield seen


def test_table_slice_fetches_only_its_row_groups(cloud_url: str, requests: list[tuple[str, str]]) -> None:
    n = ROW_GROUP_SIZE * 12
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.random(n), "y": rng.integers(0, 1 << 62, n)})  # ~25 MB of Parquet
    with afs.init(project="p", store=cloud_url) as run:
        art = afs.Artifact("t", type="dataset")
        art.add(afs.Table(dataframe=df), "big")
        logged = run.log_artifact(art)
    size = logged.entries["big.parquet"].size
    assert size > 20 << 20
    requests.clear()
    with logged.get_table("big") as t:
        part = t.slice(ROW_GROUP_SIZE * 7 + 3, 5)
    assert part.column("x").to_pylist() == df["x"].iloc[ROW_GROUP_SIZE * 7 + 3 : ROW_GROUP_SIZE * 7 + 8].tolist()
    gets = [u for m, u in requests if m == "GET"]
    # footer + one row group (~2 MB) in 1 MiB blocks: a handful of ranged reads, not 25 MB
    assert 1 <= len(gets) <= 8, gets


@pytest.mark.parametrize(("scheme", "alias"), [("gs", "gcs"), ("az", "abfs")])
def test_url_aliases_open_the_same_store(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, scheme: str, alias: str
) -> None:
    url = cloud_root(request, "gcs" if scheme == "gs" else "azure", monkeypatch)
    with afs.init(project="p", store=url) as run:
        art = afs.Artifact("ds", type="dataset")
        with art.new_file("a.txt") as f:
            f.write("hello")
        run.log_artifact(art)
    other = alias + url[len(scheme) :]
    assert afs.open_store(other).artifact("p/ds:v0").digest == afs.open_store(url).artifact("p/ds:v0").digest


def test_unreachable_store_names_store_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    opts = {
        "endpoint_url": f"http://127.0.0.1:{port}",
        "key": "k",
        "secret": "s",
        "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 1},
    }
    monkeypatch.setenv("ARTIFACTFS_STORAGE_OPTIONS", json.dumps({"s3": opts}))
    with pytest.raises(StoreError) as info:
        afs.open_store("s3://bucket/store")
    assert "s3://bucket/store" in str(info.value) and "artifactfs.msgpack" in str(info.value)


def test_wrong_credentials_name_store_and_key(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    url = cloud_root(request, "azure", monkeypatch)
    options = json.loads(os.environ["ARTIFACTFS_STORAGE_OPTIONS"])
    conn = options["az"]["connection_string"]
    bad = conn.replace("AccountKey=", "AccountKey=AAAA")
    monkeypatch.setenv("ARTIFACTFS_STORAGE_OPTIONS", json.dumps({"az": {"connection_string": bad}}))
    with pytest.raises(StoreError) as info, afs.init(project="p", store=url):
        pass
    assert url in str(info.value)
