"""Several processes logging to one local store at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs import layout
from artifactfs.hints import VersionHint
from tests.timeouts import HANG

WRITER = textwrap.dedent(
    """
    import sys, time
    import artifactfs as afs
    store, payload, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
    art = afs.Artifact("ds", type="dataset")
    with art.new_file("data.txt") as f:
        f.write(payload)
    while time.time() < start:
        time.sleep(0.001)
    with afs.init(project="p", store=store) as run:
        print(run.log_artifact(art, aliases=["newest"]).version)
    """
)


def run_writers(store: str, payloads: list[str], tmp_path: Path) -> list[str]:
    import time

    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    start = time.time() + 2.0  # all processes import first, then race
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(store), p, str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in payloads
    ]
    outs = []
    for p in procs:
        out, err = p.communicate()
        assert p.returncode == 0, err[-3000:]
        outs.append(out.strip())
    return outs


def test_distinct_content_gets_distinct_versions(shared_store_url: str, tmp_path: Path) -> None:
    store = shared_store_url
    outs = run_writers(store, [f"payload {i}" for i in range(8)], tmp_path)
    assert sorted(outs, key=lambda v: int(v[1:])) == [f"v{i}" for i in range(8)]
    versions = afs.open_store(store).versions("p", "ds")
    assert [v.version for v in versions] == [f"v{i}" for i in range(8)]
    contents = {Path(v.get_path("data.txt", root=tmp_path / v.version)).read_text() for v in versions}
    assert contents == {f"payload {i}" for i in range(8)}
    assert afs.open_store(store).artifact("p/ds:newest").version in outs


def test_identical_content_gets_one_version(shared_store_url: str, tmp_path: Path) -> None:
    store = shared_store_url
    outs = run_writers(store, ["same"] * 8, tmp_path)
    assert outs == ["v0"] * 8
    assert len(afs.open_store(store).versions("p", "ds")) == 1


ALIAS_MOVER = textwrap.dedent(
    """
    import sys, time
    import artifactfs as afs
    store, version, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
    st = afs.open_store(store)
    while time.time() < start:
        time.sleep(0.001)
    for _ in range(5):
        st.set_alias(f"p/ds:{version}", "best")
    """
)


def test_concurrent_alias_moves(shared_store_url: str, tmp_path: Path) -> None:
    import time

    store = shared_store_url
    run_writers(store, [f"payload {i}" for i in range(8)], tmp_path)
    script = tmp_path / "mover.py"
    script.write_text(ALIAS_MOVER)
    start = time.time() + 2.0
    procs = [subprocess.Popen([sys.executable, str(script), store, f"v{i}", str(start)]) for i in range(8)]
    assert [p.wait(timeout=HANG) for p in procs] == [0] * 8
    st = afs.open_store(store)
    best = st.artifact("p/ds:best")
    assert best.version in {f"v{i}" for i in range(8)}
    assert st.verify() == []
    events = st.backend.listdir("projects/p/artifacts/ds/aliases/best")
    assert 1 <= len(events) <= 40 and len(events) == len(set(events))


@pytest.mark.parametrize("hint", ["missing", "stale", "past-the-end"])
def test_concurrent_writers_behind_a_wrong_hint(shared_store_url: str, tmp_path: Path, hint: str) -> None:
    """No hint (a store made before them), a hint left behind by a writer (stale), or one
    written by a hostile writer past the end: the writers that start from it still take
    dense, unique numbers, and readers see them all."""
    store = shared_store_url
    assert run_writers(store, ["first", "second", "third"][:1], tmp_path) == ["v0"]
    assert run_writers(store, ["second"], tmp_path) == ["v1"]
    assert run_writers(store, ["third"], tmp_path) == ["v2"]
    st = afs.open_store(store)
    if hint == "missing":
        st.backend.delete(layout.version_hint("p", "ds"))
    else:
        wrong = VersionHint(0, 0) if hint == "stale" else VersionHint(10**6, 10**6)
        st.backend.write(layout.version_hint("p", "ds"), wrong.to_bytes())
    outs = run_writers(store, [f"payload {i}" for i in range(6)], tmp_path)
    assert sorted(outs, key=lambda v: int(v[1:])) == [f"v{i}" for i in range(3, 9)]
    fresh = afs.open_store(store)
    assert fresh.catalog.version_numbers("p", "ds") == list(range(9))
    assert fresh.artifact("p/ds:latest").version == "v8"
    assert [v.version for v in fresh.versions("p", "ds", limit=3)] == ["v8", "v7", "v6"]
