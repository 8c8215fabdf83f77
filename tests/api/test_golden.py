"""The checked-in format-1 store must stay readable by every release."""

from __future__ import annotations

import shutil
from pathlib import Path

import artifactfs as afs

GOLDEN = Path(__file__).parent.parent / "golden" / "store-v1"


def test_golden_store_reads(tmp_path: Path) -> None:
    root = tmp_path / "store"
    shutil.copytree(GOLDEN, root)  # read a copy: the checked-in files stay untouched
    store = afs.open_store(root)
    assert store.projects() == ["golden"]
    ds = store.artifact("golden/ds:best")
    assert (ds.version, ds.type, ds.description, ds.metadata) == ("v0", "dataset", "golden", {"rows": 3})
    out = Path(ds.download(tmp_path / "out"))
    assert (out / "hello.txt").read_text() == "hello golden\n"
    df = ds.get_table("t").dataframe()
    assert df["i"].tolist() == [1, 2, 3] and df["s"].tolist()[:2] == ["a", "b"]
    model = store.artifact("golden/model:latest")
    assert [r.qualified_name for r in model.references()] == ["golden/ds:v0"]
    (run,) = store.runs("golden")
    assert run.config == {"seed": 1} and run.status == "finished" and len(run.outputs) == 2


def test_newer_store_format_is_refused(tmp_path: Path) -> None:
    import pytest

    from artifactfs import codec
    from artifactfs.errors import FormatError

    root = tmp_path / "store"
    shutil.copytree(GOLDEN, root)
    (root / "artifactfs.msgpack").write_bytes(codec.encode({"format": 2, "kind": "store", "algorithm": "blake3"}))
    with pytest.raises(FormatError, match="supports format 2"):
        afs.open_store(root)
    with pytest.raises(FormatError, match="supports format 2"):
        afs.init(project="golden", store=str(root))
