"""Bad option values are usage errors; a missing or unreachable store is one line and exit 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import artifactfs as afs
from artifactfs.cli import cli
from artifactfs.errors import StoreNotFoundError
from tests.emulators import AZURE_KEY, free_port


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), obj={})
    return result.exit_code, result.output


@pytest.mark.parametrize("grace", ["nanh", "infd", "1e400d", "99999999999d", "-1h", "h", "24", "1.5", "5x"])
def test_bad_grace_values_are_usage_errors(tmp_path: Path, grace: str) -> None:
    code, out = invoke("--store", str(tmp_path / "s"), "gc", "--grace", grace)
    assert code == 2 and "duration" in out and "Traceback" not in out


@pytest.mark.parametrize("grace", ["0", "30m", "1.5h", "7d", "2w", "45s"])
def test_good_grace_values(store: afs.Store, files: Path, grace: str) -> None:
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("ds", type="dataset")
        art.add_dir(files)
        run.log_artifact(art)
    code, out = invoke("--store", store.url, "gc", "--grace", grace)
    assert code == 0, out


def test_reading_a_store_that_does_not_exist(store_url: str, tmp_path: Path) -> None:
    store = afs.open_store(store_url)
    assert not store.exists
    for read in (
        store.projects,
        lambda: store.artifacts("p"),
        lambda: store.versions("p", "ds"),
        lambda: store.artifact("p/ds:latest"),
        lambda: store.runs("p"),
        lambda: store.run("p", "r1"),
        store.verify,
        store.gc,
    ):
        with pytest.raises(StoreNotFoundError, match="no store at"):
            read()
    assert isinstance(StoreNotFoundError("x"), afs.errors.StoreError)
    code, out = invoke("--store", store_url, "ls")
    assert code == 1 and out.startswith("error: no store at") and len(out.strip().splitlines()) == 1
    assert not afs.open_store(store_url).exists  # reading made nothing
    if "://" not in store_url:
        assert not Path(store_url).exists()
    with afs.init(project="p", store=store_url) as run:  # writing makes it
        art = afs.Artifact("ds", type="dataset")
        with art.new_file("a.txt") as f:
            f.write("a")
        run.log_artifact(art)
    assert afs.open_store(store_url).projects() == ["p"]


def _unreachable(scheme: str) -> tuple[str, dict[str, object]]:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    if scheme == "gs":
        return "gs://bucket/store", {"endpoint_url": endpoint, "token": "anon"}
    if scheme == "s3":
        return "s3://bucket/store", {"endpoint_url": endpoint, "key": "k", "secret": "s"}
    conn = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        f"AccountKey={AZURE_KEY};BlobEndpoint={endpoint}/devstoreaccount1;"
    )
    return "az://container/store", {"connection_string": conn}


@pytest.mark.parametrize("scheme", ["gs", "s3", "az"])
def test_an_unreachable_store_is_one_line_and_exit_1(scheme: str, tmp_path: Path) -> None:
    url, options = _unreachable(scheme)
    env = {
        **os.environ,
        "ARTIFACTFS_STORAGE_OPTIONS": json.dumps({scheme: options}),
        "ARTIFACTFS_CONNECT_TIMEOUT": "3",
        "PYTHONPATH": str(Path(afs.__file__).parent.parent),
    }
    done = subprocess.run(
        [sys.executable, "-c", "from artifactfs.cli import main; main()", "--store", url, "ls"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and url.split("/")[2] in lines[0], done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
