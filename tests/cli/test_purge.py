"""``artifactfs purge``: says what it will remove and asks first; then ``show``, ``ls``, ``get``,
``cat`` and ``verify`` of the version treat the file as purged."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from artifactfs.cli import cli
from artifactfs.store import open_store
from tests.cli.test_local_folders import afs_cli


def purge(env: dict[str, str], *args: str, input: str | None = None) -> tuple[int, str]:
    res = CliRunner().invoke(cli, ["--store", env["ARTIFACTFS_STORE"], "purge", *args], obj={}, input=input)
    return res.exit_code, res.output


def test_purge_asks_first_then_every_command_shows_the_file_purged(env: dict[str, str], tmp_path: Path) -> None:
    store = open_store(env["ARTIFACTFS_STORE"])
    digest = store.artifact("p/ds:v0").get_entry("data/b.csv").digest
    code, out = purge(env, "p/ds:v0", "data/b.csv", "--dry-run")
    assert code == 0, out
    assert "purge data/b.csv of p/ds:v0" in out and f"digest    {digest}" in out
    assert "5 bytes" in out and "held by   1 version(s)" in out and "a single blob" in out
    code, out = purge(env, "p/ds:v0", "data/b.csv", input="n\n")
    assert code == 1 and "Remove these bytes from the store for good?" in out and "Aborted" in out
    code, out = purge(env, "p/ds:v0", "data/b.csv")  # no answer (no terminal): nothing is purged
    assert code == 1 and not store.backend.walk("purged")

    code, out = purge(env, "p/ds:v0", "data/b.csv", "--reason", "personal data", input="y\n")
    assert code == 0, out
    assert f"purged data/b.csv of p/ds:v0 ({digest}, 5 bytes) from 1 version(s): 1 object(s) deleted" in out
    assert "audit record purged/" in out and "(personal data)" in out
    assert store.artifact("p/ds:v0").purged == ["data/b.csv"]

    code, out, err = afs_cli(env, "show", "p/ds:v0")
    assert code == 0, err
    marked = [line for line in out.splitlines() if "(purged " in line]
    assert len(marked) == 1 and "data/b.csv" in marked[0] and "personal data" in marked[0]
    code, out, err = afs_cli(env, "ls", "p/ds:v0", "--json")
    assert code == 0, err
    rows = {r["path"]: r for r in json.loads(out)}
    assert rows["data/b.csv"]["purged_at"] and rows["data/a.csv"]["purged_at"] is None and len(rows) == 6
    code, out, err = afs_cli(env, "get", "p/ds:v0", str(tmp_path / "o"))
    assert code == 0 and "warning: p/ds:v0: 1 file(s) not downloaded" in err and "data/b.csv" in err
    out_dir = tmp_path / "o" / "data"
    assert (out_dir / "a.csv").read_text() == "a,1\n" and not (out_dir / "b.csv").exists()
    code, out, err = afs_cli(env, "cat", "p/ds:v0", "data/b.csv")
    assert code == 1 and err.startswith("error: p/ds:v0 entry 'data/b.csv' was purged") and "personal data" in err
    code, out, err = afs_cli(env, "verify")
    assert code == 0, out + err

    code, out, err = afs_cli(env, "purge", "p/ds:v0", "data/b.csv", "--yes", "--json")  # again: reports it done
    assert code == 0, err
    done = json.loads(out)
    assert done["already_purged"] and done["deleted"] == [] and done["record"]["reason"] == "personal data"


def test_purge_refuses_what_it_cannot_purge(env: dict[str, str]) -> None:
    code, out = purge(env, "p/ds:v0", "data/c.csv", "--yes")
    assert code == 1 and out.startswith("error: p/ds:v0 has no file 'data/c.csv'") and "did you mean" in out
    code, out = purge(env, "p/ds:v0", "img", "--yes")
    assert code == 1 and "is a folder" in out
