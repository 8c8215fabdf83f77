"""References to objects whose server gives no strong validator are hashed when logged, so
changed bytes of the same length are caught; checksum=False opts out and says so."""

from __future__ import annotations

from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs.errors import IntegrityError
from tests.httpserver import Served


def log_reference(store: afs.Store, url: str, **kw: object) -> afs.Artifact:
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("refs", type="dataset")
        art.add_reference(url, **kw)  # type: ignore[arg-type]
        return run.log_artifact(art)


@pytest.mark.parametrize("etag", [None, "weak"], ids=["no-etag", "weak-etag"])
def test_no_strong_validator_means_the_bytes_are_hashed(
    store: afs.Store, tmp_path: Path, http_server: Served, etag: str | None
) -> None:
    http_server.etag = etag
    http_server.files["data.csv"] = b"a,b\n1,2\n"
    logged = log_reference(store, http_server.url("data.csv"))
    entry = logged.entries["data.csv"]
    assert entry.digest is not None and entry.size == 8 and "etag" not in entry.extra
    out = Path(logged.download(tmp_path / "ok"))
    assert (out / "data.csv").read_bytes() == b"a,b\n1,2\n"
    http_server.files["data.csv"] = b"a,b\n9,9\n"  # same length, same Last-Modified
    with pytest.raises(IntegrityError, match=r"data\.csv"):
        logged.download(tmp_path / "changed")
    assert not (tmp_path / "changed" / "data.csv").exists()


def test_a_strong_etag_is_recorded_and_checked(store: afs.Store, tmp_path: Path, http_server: Served) -> None:
    http_server.files["data.csv"] = b"a,b\n1,2\n"
    logged = log_reference(store, http_server.url("data.csv"))
    entry = logged.entries["data.csv"]
    assert entry.digest is None and str(entry.extra["etag"]).startswith("ETag=")
    http_server.files["data.csv"] = b"a,b\n9,9\n"
    with pytest.raises(IntegrityError, match="changed since it was logged"):
        logged.download(tmp_path / "changed")


def test_checksum_false_records_the_uri_only(store: afs.Store, tmp_path: Path, http_server: Served) -> None:
    from click.testing import CliRunner

    from artifactfs.cli import cli

    http_server.etag = None
    http_server.files["live.json"] = b'{"v": 1}'
    logged = log_reference(store, http_server.url("live.json"), checksum=False)
    entry = logged.entries["live.json"]
    assert entry.digest is None and entry.extra["checksum"] is False
    http_server.files["live.json"] = b'{"v": 22}'  # fetched as it is now: nothing to verify against
    out = Path(logged.download(tmp_path / "out"))
    assert (out / "live.json").read_bytes() == b'{"v": 22}'
    shown = CliRunner().invoke(cli, ["--store", store.url, "show", "p/refs:v0"], obj={})
    assert shown.exit_code == 0 and "unverified" in shown.output
