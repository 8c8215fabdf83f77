"""Part of a version downloaded, and a local folder checked against a version or made into it
(every backend; data reads counted at the backend)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs.errors import EntryNotFoundError, LocalFileError
from tests.reads import Read, fresh, log, reading


def tree(root: Path) -> Path:
    """Six files of distinct content: too few to be packed, so each is one blob."""
    files = {
        "data/a.csv": "a,1\n",
        "data/b.csv": "b,22\n",
        "data/tmp/c.csv": "c,333\n",
        "img/x.png": "png bytes",
        "img/deep/y.png": "more png bytes",
        "README.md": "# readme\n",
    }
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def blob_reads(seen: Read, art: afs.Artifact) -> set[str]:
    """The entries whose blobs were read (a blob key ends with its digest)."""
    read = {k.rsplit("/", 1)[-1] for k in seen.keys if k.startswith("blobs/")}
    return {e.path for e in art.entries.values() if e.digest is not None and e.digest.hex in read}


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        ({"include": "*.csv", "exclude": ["data/tmp/*"]}, ["data/a.csv", "data/b.csv"]),
        ({"path_prefix": "img/"}, ["img/deep/y.png", "img/x.png"]),
        ({"include": ["img", "README.md"], "exclude": "*/deep/*"}, ["README.md", "img/x.png"]),
        ({"path_prefix": "data/", "include": "*/tmp/*"}, ["data/tmp/c.csv"]),
    ],
)
def test_a_partial_download_fetches_only_the_selected_blobs(
    store_url: str, tmp_path: Path, selection: dict[str, object], expected: list[str]
) -> None:
    log(store_url, tree(tmp_path / "src"))
    store = fresh(store_url, tmp_path / "cache")
    art = store.artifact("p/ds:v0")
    seen = reading(store.backend)
    out = Path(art.download(tmp_path / "out", **selection))  # type: ignore[arg-type]
    assert files_under(out) == expected
    assert blob_reads(seen, art) == set(expected)
    for path in expected:
        assert (out / path).read_bytes() == (tmp_path / "src" / path).read_bytes()


def test_a_selection_that_takes_nothing_is_an_error(store_url: str, tmp_path: Path) -> None:
    log(store_url, tree(tmp_path / "src"))
    art = fresh(store_url, tmp_path / "cache").artifact("p/ds:v0")
    with pytest.raises(EntryNotFoundError, match=r"no entry of p/ds:v0 is matching \*\.parquet"):
        art.download(tmp_path / "out", include="*.parquet")


def test_verify_names_missing_changed_and_extra_files_and_checkout_fixes_them(store_url: str, tmp_path: Path) -> None:
    src = tree(tmp_path / "src")
    log(store_url, src)
    store = fresh(store_url, tmp_path / "cache")
    art = store.artifact("p/ds:v0")
    out = Path(art.download(tmp_path / "out"))
    assert art.verify(out).ok and art.verify(out)
    os.chmod(out / "data", 0o755)
    (out / "data" / "a.csv").unlink()  # missing
    changed = out / "img" / "x.png"
    changed.unlink()  # (a read-only link into the cache: replaced, never written through)
    changed.write_text("PNG BYTES")  # changed: the same size, other bytes
    (out / "notes.txt").write_text("mine")  # extra
    (out / "img" / "new").mkdir()
    (out / "img" / "new" / "z.png").write_text("z")  # extra, in a folder of its own
    status = art.verify(out)
    assert (status.missing, status.changed, status.extra) == (
        ["data/a.csv"],
        ["img/x.png"],
        ["img/new/z.png", "notes.txt"],
    )
    assert not status.ok and not status
    assert status.to_dict()["missing"] == ["data/a.csv"]

    seen = reading(store.backend)
    before = art.checkout(out)
    assert before.missing == status.missing and before.extra == status.extra
    assert art.verify(out).ok
    assert files_under(out) == files_under(src)
    assert not (out / "img" / "new").exists()  # the folder its extra file left empty is gone
    assert changed.read_bytes() == (src / "img" / "x.png").read_bytes()
    assert blob_reads(seen, art) <= {"data/a.csv", "img/x.png"}  # nothing else fetched (a cached blob: none)


def test_checkout_makes_a_new_or_partial_folder_the_selection(store_url: str, tmp_path: Path) -> None:
    log(store_url, tree(tmp_path / "src"))
    art = fresh(store_url, tmp_path / "cache").artifact("p/ds:v0")
    out = tmp_path / "new" / "folder"
    art.checkout(out, include="*.png")
    assert files_under(out) == ["img/deep/y.png", "img/x.png"]
    assert art.verify(out, include="*.png").ok
    assert art.verify(out).missing == ["README.md", "data/a.csv", "data/b.csv", "data/tmp/c.csv"]
    art.checkout(out, path_prefix="data/")  # the pngs are extra now
    assert files_under(out) == ["data/a.csv", "data/b.csv", "data/tmp/c.csv"]


def test_verify_of_a_folder_that_is_not_one_is_a_clear_error(tmp_path: Path) -> None:
    url = str(tmp_path / "store")
    log(url, tree(tmp_path / "src"))
    art = afs.open_store(url).artifact("p/ds:v0")
    (tmp_path / "file").write_text("x")
    with pytest.raises(LocalFileError, match="is not a folder"):
        art.verify(tmp_path / "file")
    with pytest.raises(LocalFileError, match="is not a folder"):
        art.verify(tmp_path / "absent")
