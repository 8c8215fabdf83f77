"""A commit that fails at any step leaves no visible version, and the next one works."""

from __future__ import annotations

from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs import layout
from artifactfs.errors import StoreError


class Fault(Exception):
    pass


def failing(store: afs.Store, monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    """Make every backend write fail for keys containing ``when`` (the real store otherwise)."""
    keys_of = {
        "write": lambda a: [a[0]],
        "create": lambda a: [a[0]],
        "put_file": lambda a: [a[1]],
        "adopt": lambda a: [a[1]],
        "put_files": lambda a: [k for _, k in a[0]],
        "write_many": lambda a: list(a[0]),
        "upload_verified": lambda a: [a[1]],
    }
    for method, keys in keys_of.items():
        original = getattr(store.backend, method)

        def broken(*args: object, _original: object = original, _keys: object = keys, **kw: object) -> object:
            key = " ".join(map(str, _keys(args)))  # type: ignore[operator]
            if when in key:
                raise StoreError(f"injected failure writing {key}") from Fault()
            return _original(*args, **kw)  # type: ignore[operator]

        monkeypatch.setattr(store.backend, method, broken)


@pytest.mark.parametrize("when", ["blobs/", "manifests/", ".claim", "versions/"])
def test_failed_commit_leaves_no_version(
    store: afs.Store, files: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("ds", type="dataset")
        art.add_dir(files)
        with monkeypatch.context() as m:
            failing(store, m, when)
            with pytest.raises(StoreError) as info:
                run.log_artifact(art)
            assert isinstance(info.value.__cause__, Fault)
        assert store.backend.listdir(layout.versions_dir("p", "ds")) == []
        store.claim_lease = 0.0  # the dead claim (if any) is superseded at once
        again = afs.Artifact("ds", type="dataset")
        again.add_dir(files)
        logged = run.log_artifact(again)
    assert logged.version == "v0"
    logged.download(files.parent / "out")
    for entry in logged.entries.values():
        assert entry.digest is not None and store.backend.exists(layout.blob(entry.digest))


def test_relogging_identical_content_writes_nothing_new(store: afs.Store, files: Path) -> None:
    from tests.conftest import snapshot

    def log() -> None:
        with afs.init(project="p", store=store) as run:
            art = afs.Artifact("ds", type="dataset")
            art.add_dir(files)
            run.log_artifact(art, aliases=["best"])

    log()
    before = {k for k in snapshot(store) if "/runs/" not in k}
    log()
    assert {k for k in snapshot(store) if "/runs/" not in k} == before
