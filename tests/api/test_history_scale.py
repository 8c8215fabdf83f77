"""History at scale: resolving and committing cost the same at any history length, and the
hints that make them cheap are never trusted (stale, missing or hostile hints)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import artifactfs as afs
from artifactfs import catalog_manifests, layout
from artifactfs.backend import open_backend
from artifactfs.cache import BlobCache
from artifactfs.hints import AliasHint, VersionHint
from tests.history import NEWEST_DELETED, counting, grow
from tests.requests import Requests

# The two histories compared: (versions, events of the alias "best", tombstones). Each also
# has its two newest versions deleted, so ``latest`` is the third newest.
SHORT = (10, 3, 2)
LONG = (1200, 300, 40)


def fresh(url: str, cache: Path) -> afs.Store:
    """A store as a new process opens it: its descriptor read, nothing else in memory."""
    catalog_manifests.forget_kept()  # manifests kept by this process (a new one has none)
    store = afs.Store(open_backend(url), cache=BlobCache(cache))
    store.catalog.descriptor()
    return store


@pytest.fixture
def histories(store_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    urls = {"short": f"{store_url}/short", "long": f"{store_url}/long"}
    for name, size in (("short", SHORT), ("long", LONG)):
        grow(urls[name], tmp_path / "cache", size, tmp_path / "w.bin")
    yield urls


def test_resolving_costs_the_same_at_any_history_length(
    histories: dict[str, str], tmp_path: Path, requests: Requests
) -> None:
    expected = {
        ":latest": f"v{SHORT[0] - NEWEST_DELETED - 1}",
        ":v3": "v3",
        ":best": f"v{SHORT[0] - NEWEST_DELETED - 1}",
    }
    for ref, version in expected.items():
        costs = {}
        for name, url in histories.items():
            store = fresh(url, tmp_path / "cache")
            counted = counting(store.backend)
            requests.sent.clear()
            art = store.artifact(f"p/ckpt{ref}")
            if ref != ":v3":
                assert art.version == (version if name == "short" else f"v{LONG[0] - NEWEST_DELETED - 1}")
            else:
                assert art.version == version
            http = len(requests.sent)
            costs[name] = (counted.rounds, len(counted.keys), http)
            assert counted.rounds <= 3, (ref, name, counted)
            assert len(counted.keys) <= 6, (ref, name, counted.keys)
            assert http <= 6, (ref, name, requests.sent)
        assert costs["short"] == costs["long"], (ref, costs)


def test_log_artifact_costs_the_same_at_any_history_length(
    histories: dict[str, str], tmp_path: Path, requests: Requests
) -> None:
    costs = {}
    for name, url in histories.items():
        store = fresh(url, tmp_path / "cache")
        (tmp_path / "new.bin").write_bytes(f"new weights for {name}".encode())
        with afs.init(project="p", store=store) as run:
            art = afs.Artifact("ckpt", type="model")
            art.add_file(str(tmp_path / "new.bin"))
            counted = counting(store.backend)
            requests.sent.clear()
            logged = run.log_artifact(art)
            keys = [k for k in counted.keys if "/runs/" not in k]
            # the run's own record is not counted (GCS uploads do not name the key in the URL)
            http = requests.sent[: len(requests.sent) - (len(counted.keys) - len(keys))]
        assert logged.version == f"v{(SHORT if name == 'short' else LONG)[0]}"
        # 12 before the search index; its record, sent with the hint, is the 13th
        assert len(keys) <= 13 and len(http) <= 13, (name, keys, http)
        costs[name] = (len(keys), len(http))
    assert costs["short"] == costs["long"], costs


def log(store: afs.Store, text: str, tmp_path: Path) -> afs.Artifact:
    (tmp_path / "f.txt").write_text(text)
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("ds", type="dataset")
        art.add_file(str(tmp_path / "f.txt"))
        return run.log_artifact(art)


def latest_hint(store: afs.Store) -> VersionHint | None:
    try:
        return VersionHint.from_bytes(store.backend.read(layout.version_hint("p", "ds")), "hint")
    except afs.errors.KeyNotFoundError:
        return None


@pytest.mark.parametrize(
    "hint",
    [
        None,  # missing: a store made before hints, or a writer killed before writing it
        b"not msgpack",  # unreadable
        VersionHint(1, 1).to_bytes(),  # stale: behind the end
        VersionHint(500, 500).to_bytes(),  # hostile: past the end
        VersionHint(4, 1).to_bytes(),  # hostile: claims v2..v4 deleted
        VersionHint(10**9, None).to_bytes(),  # hostile: everything deleted, far past the end
    ],
    ids=["missing", "unreadable", "stale", "past-the-end", "hides-the-newest", "all-deleted"],
)
def test_a_wrong_hint_never_hides_a_version_or_reuses_a_number(
    store: afs.Store, tmp_path: Path, hint: bytes | None
) -> None:
    for i in range(5):
        log(store, f"v{i}", tmp_path)
    key = layout.version_hint("p", "ds")
    if hint is None:
        store.backend.delete(key)
    else:
        store.backend.write(key, hint)
    reader = afs.Store(open_backend(store.url), cache=store.cache)
    assert reader.artifact("p/ds:latest").version == "v4"
    assert [a.version for a in reader.versions("p", "ds", limit=2)] == ["v4", "v3"]
    assert [a.version for a in reader.versions("p", "ds")] == ["v0", "v1", "v2", "v3", "v4"]
    writer = afs.Store(open_backend(store.url), cache=store.cache)
    assert log(writer, "v5", tmp_path).version == "v5"  # the next number: no gap, no reuse
    assert store.catalog.version_numbers("p", "ds") == [0, 1, 2, 3, 4, 5]
    assert latest_hint(store) == VersionHint(5, 5)  # the writer set it right again
    assert afs.Store(open_backend(store.url), cache=store.cache).artifact("p/ds:latest").version == "v5"


def test_a_wrong_alias_hint_is_checked(store: afs.Store, tmp_path: Path) -> None:
    for i in range(4):
        log(store, f"v{i}", tmp_path)
        store.set_alias(f"p/ds:v{i}", "best")
    key = layout.alias_hint("p", "ds", "best")
    for hint in (AliasHint(1, 1), AliasHint(0, 0), AliasHint(3, 0), AliasHint(99, 0), None):
        if hint is None:
            store.backend.delete(key)
        else:
            store.backend.write(key, hint.to_bytes())
        reader = afs.Store(open_backend(store.url), cache=store.cache)
        assert reader.artifact("p/ds:best").version == "v3", hint
        assert reader.artifact("p/ds:v3").aliases == ["latest", "best"], hint
    store.set_alias("p/ds:v1", "best")  # the next event follows the newest, whatever the hint said
    assert store.artifact("p/ds:best").version == "v1"
    assert len(store.backend.listdir(layout.alias_dir("p", "ds", "best"))) == 5


def test_deleting_the_newest_versions_keeps_latest_one_read_away(store: afs.Store, tmp_path: Path) -> None:
    for i in range(6):
        log(store, f"v{i}", tmp_path)
    store.delete_version("p/ds:v5")
    store.delete_version("p/ds:v4")
    assert latest_hint(store) == VersionHint(5, 3)
    reader = afs.Store(open_backend(store.url), cache=store.cache)
    assert reader.artifact("p/ds:latest").version == "v3"
    assert log(reader, "v6", tmp_path).version == "v6"  # numbers are never reused
    store.delete_version("p/ds:v6")
    for n in (3, 2, 1, 0):
        store.delete_version(f"p/ds:v{n}")
    with pytest.raises(afs.errors.ArtifactNotFoundError, match="only deleted versions"):
        afs.Store(open_backend(store.url), cache=store.cache).artifact("p/ds:latest")


def test_reading_never_writes(store: afs.Store, tmp_path: Path) -> None:
    for i in range(3):
        log(store, f"v{i}", tmp_path)
    store.set_alias("p/ds:v1", "best")
    for key in (layout.version_hint("p", "ds"), layout.alias_hint("p", "ds", "best")):
        store.backend.delete(key)  # stale hints are what a writer would refresh
    reader = afs.Store(open_backend(store.url), cache=BlobCache(tmp_path / "reader-cache"))

    def refuse(*args: Any, **kw: Any) -> Any:
        raise AssertionError(f"a reader wrote to the store: {args[:1]}")

    for name in ("write", "create", "delete", "write_many", "put_file", "put_files", "upload_verified"):
        setattr(reader.backend, name, refuse)
    assert reader.artifact("p/ds:latest").aliases == ["latest"]
    assert reader.artifact("p/ds:best").version == "v1"
    assert [a.version for a in reader.versions("p", "ds", limit=2)] == ["v2", "v1"]
    reader.artifact("p/ds:v0").download(tmp_path / "out")
    assert reader.lineage("p/ds:v2").nodes
    assert [s.name for s in reader.artifacts("p")] == ["ds"]


def test_a_writer_killed_before_its_hint_hides_nothing(
    shared_store_url: str, tmp_path: Path, files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import signal
    import subprocess
    import sys

    from tests.timeouts import HANG

    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parents[2]))
    store = afs.open_store(shared_store_url)
    log(store, "v0", tmp_path)
    log(store, "v1", tmp_path)
    writer = Path(__file__).with_name("crash_writer.py")
    killed = subprocess.run(
        [sys.executable, str(writer), shared_store_url, str(files), "hint"],
        capture_output=True,
        text=True,
        timeout=HANG,
        env=os.environ,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert latest_hint(store) == VersionHint(1, 1)  # the killed writer's v2 is not in the hint
    reader = afs.open_store(shared_store_url)
    assert reader.artifact("p/ds:latest").version == "v2"
    assert log(afs.open_store(shared_store_url), "v3", tmp_path).version == "v3"
    assert latest_hint(store) == VersionHint(3, 3)
    assert afs.open_store(shared_store_url).verify() == []


READER = """
import sys
import artifactfs as afs
store = afs.open_store(sys.argv[1])
assert store.artifact("p/ds:latest").version == "v2"
assert store.artifact("p/ds:best").version == "v1"
assert [a.version for a in store.versions("p", "ds", limit=2)] == ["v2", "v1"]
assert [s.name for s in store.artifacts("p")] == ["ds"]
assert store.lineage("p/ds:v2").nodes
store.artifact("p/ds:v0").download(sys.argv[2])
print("read", store.artifact("p/ds:v2").aliases)
"""


WRITER = """
import sys
import artifactfs as afs
try:
    afs.open_store(sys.argv[1]).set_alias("p/ds:v0", "other")
except afs.errors.ArtifactFSError:
    sys.exit(3)
"""


def test_a_read_only_store_folder_can_be_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every read works on a folder nobody can write to (made read-only by a read-only bind
    mount when running as root, whom file modes do not stop)."""
    import os
    import shutil
    import subprocess
    import sys

    url = tmp_path / "store"
    store = afs.open_store(str(url))
    for i in range(3):
        log(store, f"v{i}", tmp_path)
    store.set_alias("p/ds:v1", "best")
    for key in (layout.version_hint("p", "ds"), layout.alias_hint("p", "ds", "best")):
        store.backend.delete(key)  # hints a writer would refresh: a reader must not
    script = tmp_path / "reader.py"
    script.write_text(READER)
    monkeypatch.setenv("ARTIFACTFS_CACHE_DIR", str(tmp_path / "reader-cache"))
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parents[2]))
    reader = [sys.executable, str(script), str(url), str(tmp_path / "out")]
    if os.geteuid() != 0:
        for folder, _, names in os.walk(url):
            for n in names:
                os.chmod(os.path.join(folder, n), 0o444)
            os.chmod(folder, 0o555)
        command = reader
    else:
        if shutil.which("unshare") is None or subprocess.run(["unshare", "-m", "true"]).returncode != 0:
            pytest.skip("running as root without unshare -m: no way to make a folder read-only here")
        mount = f'mount --bind {url} {url} && mount -o remount,ro,bind {url} && exec "$@"'
        command = ["unshare", "-m", "sh", "-c", mount, "sh", *reader]
    writer = [*command[: len(command) - len(reader)], sys.executable, "-c", WRITER, str(url)]
    try:
        res = subprocess.run(command, capture_output=True, text=True, timeout=300)
        refused = subprocess.run(writer, capture_output=True, text=True, timeout=300)
    finally:
        if os.geteuid() != 0:
            for folder, _, _ in os.walk(url):
                os.chmod(folder, 0o755)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip() == "read ['latest']"
    assert refused.returncode == 3, refused.stderr[-3000:]  # the folder really is read-only


def test_a_hint_that_cannot_be_written_costs_a_search_not_the_commit(
    store: afs.Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log(store, "v0", tmp_path)
    write = store.backend.write

    def refuse_hints(key: str, data: bytes) -> None:
        if key.startswith(layout.artifact_dir("p", "ds") + "/hints/"):
            raise afs.errors.StoreError(f"writing {key} in store {store.url} failed: denied")
        write(key, data)

    store.backend.write = refuse_hints  # type: ignore[method-assign]
    with caplog.at_level("WARNING", logger="artifactfs"):
        assert log(store, "v1", tmp_path).version == "v1"
        store.set_alias("p/ds:v1", "best")
    warned = [r.getMessage() for r in caplog.records]
    assert any("hints/latest.msgpack" in m and store.url in m for m in warned), warned
    assert any("hints/alias-best.msgpack" in m for m in warned), warned
    assert latest_hint(store) == VersionHint(0, 0)  # stale, and readers search past it
    reader = afs.Store(open_backend(store.url), cache=store.cache)
    assert reader.artifact("p/ds:latest").version == "v1"
    assert reader.artifact("p/ds:best").version == "v1"
