"""Versions seen on this machine, answered while their store cannot be reached: a local store
folder moved away, a bucket whose server stopped answering, and $ARTIFACTFS_OFFLINE. Once a
store is known to be offline, no request is sent to it (counted at the HTTP client)."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs.backend import open_backend
from artifactfs.cache import BlobCache
from artifactfs.errors import ArtifactNotFoundError, OfflineWarning, StoreOfflineError
from tests.conftest import CLOUD, cloud_root
from tests.reads import fresh
from tests.requests import Requests


def three_versions(url: str, tmp_path: Path) -> Path:
    """p/ds v0 (aliased best), v1, v2 of a small folder; returns the folder (as v2)."""
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        (src / "a.txt").write_text(f"version {i}\n")
        (src / "b.txt").write_text("same in every version\n")
        with afs.init(project="p", store=url) as run:
            art = afs.Artifact("ds", type="dataset")
            art.add_dir(src)
            run.log_artifact(art, aliases=["best"] if i == 0 else None)
    return src


def seen_here(url: str, cache: Path, tmp_path: Path) -> None:
    """What a user did online: downloaded v1, and asked for best and latest."""
    store = fresh(url, cache)
    store.artifact("p/ds:v1").download(tmp_path / "online")
    assert store.artifact("p/ds:best").version == "v0"
    assert store.artifact("p/ds:latest").version == "v2"


def check_offline(store: afs.Store, tmp_path: Path, url: str) -> None:
    art = store.artifact("p/ds:v1")
    out = Path(art.download(tmp_path / "offline"))
    assert (out / "a.txt").read_text() == "version 1\n"
    assert art.verify(out).ok
    with pytest.warns(
        OfflineWarning, match=rf"store {url} is offline .*p/ds:best is v0, as this machine last saw"
    ) as w:
        assert store.artifact("p/ds:best").version == "v0"
    assert w[0].filename == __file__  # where the user asked, not inside artifactfs
    with pytest.warns(OfflineWarning, match=r"p/ds:latest is v2"):
        assert store.artifact("p/ds:latest").version == "v2"
    with pytest.raises(ArtifactNotFoundError, match=r"offline .*cached versions of p/ds: v0, v1, v2"):
        store.artifact("p/ds:v3")
    with pytest.raises(ArtifactNotFoundError, match=r"p/ds:prod was not read on this machine before"):
        store.artifact("p/ds:prod")


def test_a_store_folder_moved_away_answers_what_was_seen_here(tmp_path: Path) -> None:
    url, cache = str(tmp_path / "store"), tmp_path / "cache"
    three_versions(url, tmp_path)
    seen_here(url, cache, tmp_path)
    (tmp_path / "store").rename(tmp_path / "moved")
    store = fresh(url, cache)
    with pytest.warns(OfflineWarning, match=rf"store {url} cannot be reached \(no store at .*offline for the rest"):
        store.artifact("p/ds:v0")
    check_offline(store, tmp_path, url)


def test_a_store_never_read_here_gives_the_usual_error(tmp_path: Path) -> None:
    with pytest.raises(afs.errors.StoreNotFoundError):
        afs.open_store(str(tmp_path / "nothing")).artifact("p/ds:v0")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again at once: connections are refused


@pytest.mark.parametrize("backend", CLOUD)
def test_a_bucket_that_stopped_answering_is_asked_once(
    request: pytest.FixtureRequest,
    backend: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    requests: Requests,
) -> None:
    url, cache = cloud_root(request, backend, monkeypatch), tmp_path / "cache"
    three_versions(url, tmp_path)
    seen_here(url, cache, tmp_path)
    # The server stops: to the client, its port refuses connections. (The bucket's URL stays;
    # the emulator other tests share keeps running.)
    options = os.environ["ARTIFACTFS_STORAGE_OPTIONS"]
    port = request.getfixturevalue("emulators")[backend].endpoint.rsplit(":", 1)[1].split("/")[0]
    monkeypatch.setenv("ARTIFACTFS_STORAGE_OPTIONS", options.replace(f":{port}", f":{closed_port()}"))
    monkeypatch.setenv("ARTIFACTFS_CONNECT_TIMEOUT", "5")  # bounds the one failing request
    assert json.loads(os.environ["ARTIFACTFS_STORAGE_OPTIONS"]) != json.loads(options)
    store = afs.Store(open_backend(url), cache=BlobCache(cache))
    requests.sent.clear()
    with pytest.warns(OfflineWarning, match=r"cannot be reached .*did not answer within 5 s"):
        store.artifact("p/ds:v0")  # the failure that shows the store is offline
    tried = len(requests.sent)
    assert tried >= 1
    check_offline(store, tmp_path, url)
    check = afs.Store(open_backend(url), cache=BlobCache(cache))  # another handle, same process
    assert check.artifact("p/ds:v1").version == "v1"
    with pytest.raises(StoreOfflineError, match=r"is offline .*nothing was sent to it"):
        check.versions("p", "ds")
    assert len(requests.sent) == tried  # nothing was sent once it was known offline


@pytest.mark.parametrize("backend", ["local", *CLOUD])
def test_offline_mode_sends_nothing(
    request: pytest.FixtureRequest,
    backend: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    requests: Requests,
) -> None:
    url = str(tmp_path / "store") if backend == "local" else cloud_root(request, backend, monkeypatch)
    cache = tmp_path / "cache"
    three_versions(url, tmp_path)
    seen_here(url, cache, tmp_path)
    monkeypatch.setenv("ARTIFACTFS_OFFLINE", "1")
    requests.sent.clear()
    check_offline(afs.Store(open_backend(url), cache=BlobCache(cache)), tmp_path, url)
    assert requests.sent == []


def test_offline_warnings_point_at_the_users_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """However deep in artifactfs a warning starts (a run's use_artifact, the first request
    that finds the store gone), it names the user's file and line."""
    url, cache = str(tmp_path / "store"), tmp_path / "cache"
    three_versions(url, tmp_path)
    seen_here(url, cache, tmp_path)
    monkeypatch.setenv("ARTIFACTFS_CACHE_DIR", str(cache))
    (tmp_path / "store").rename(tmp_path / "moved")
    with pytest.warns(OfflineWarning) as caught, afs.init(project="p", store=url, mode="offline") as run:
        assert run.use_artifact("ds:best").version == "v0"
    assert caught.list and {w.filename for w in caught.list} == {__file__}
