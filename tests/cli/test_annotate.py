"""``artifactfs tag``, ``annotate``, ``alias history`` and ``put`` of unchanged content with
new annotations, through the real command."""

from __future__ import annotations

import json
from pathlib import Path

import artifactfs as afs
from tests.cli.test_local_folders import afs_cli


def test_tags_and_annotations_from_the_command_line(env: dict[str, str], tmp_path: Path) -> None:
    store = afs.open_store(env["ARTIFACTFS_STORE"])
    digest = store.artifact("p/ds:v0").digest
    code, out, err = afs_cli(env, "tag", "add", "p/ds:v0", "reviewed", "candidate")
    assert code == 0, err
    assert out.strip() == "p/ds:v0  tags: candidate, reviewed"
    assert afs_cli(env, "tag", "rm", "p/ds:v0", "candidate")[1].strip() == "p/ds:v0  tags: reviewed"

    code, out, err = afs_cli(
        env, "annotate", "p/ds:latest", "--set", "eval.accuracy=0.93", "--set", "owner=ana", "-d", "checked", "--json"
    )
    assert code == 0, err
    shown = json.loads(out)
    assert shown["metadata"]["eval"] == {"accuracy": 0.93} and shown["metadata"]["owner"] == "ana"
    assert shown["description"] == "checked" and shown["tags"] == ["reviewed"]
    art = afs.open_store(env["ARTIFACTFS_STORE"]).artifact("p/ds:v0")
    assert art.digest == digest and art.metadata["eval"]["accuracy"] == 0.93
    code, out, _ = afs_cli(env, "show", "p/ds:v0")
    assert "tags         reviewed" in out and '"accuracy": 0.93' in out

    code, _, err = afs_cli(env, "annotate", "p/ds:v0", "--metadata", "[1]")
    assert code == 1 and "--metadata must be a JSON object" in err
    code, _, err = afs_cli(env, "annotate", "p/ds:v0")
    assert code == 2 and "say what to change" in err
    code, _, err = afs_cli(env, "annotate", "p/ds:v0", "--set", "no-equals-sign")
    assert code == 1 and "--set takes KEY=VALUE" in err and "'no-equals-sign'" in err
    code, _, err = afs_cli(env, "tag", "add", "p/ds:v0", "has space")
    assert code == 1 and "tag" in err


def test_put_of_the_same_content_says_what_it_recorded(env: dict[str, str], tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "x.txt").write_text("x")
    args = ["put", str(data), "-p", "p", "-n", "notes", "-t", "dataset"]
    assert afs_cli(env, *args)[0] == 0
    code, out, err = afs_cli(env, *args, "-d", "now described", "--tag", "gold")
    assert code == 0, err
    assert "unchanged: the same content is p/notes:v0 already; no new version was made" in out
    assert "its description and tags recorded as annotations" in out
    art = afs.open_store(env["ARTIFACTFS_STORE"]).artifact("p/notes:v0")
    assert art.description == "now described" and art.tags == ["gold"]


def test_alias_history(env: dict[str, str]) -> None:
    assert afs_cli(env, "alias", "set", "p/ds:v0", "production")[0] == 0
    assert afs_cli(env, "alias", "rm", "p/ds", "production")[0] == 0
    code, out, err = afs_cli(env, "alias", "history", "p/ds", "production", "--json")
    assert code == 0, err
    assert [r["version"] for r in json.loads(out)] == ["v0", "-"]
    assert afs_cli(env, "alias", "history", "p/ds", "staging")[1].strip() == "alias staging was never set"


def test_search_and_reindex(env: dict[str, str]) -> None:
    assert afs_cli(env, "annotate", "p/ds:v0", "--set", "eval.accuracy=0.93", "--tag", "reviewed")[0] == 0
    code, out, err = afs_cli(env, "search", "--tag", "reviewed", "--where", "metadata.eval.accuracy > 0.9", "--json")
    assert code == 0, err
    assert [h["version"] for h in json.loads(out)] == ["p/ds:v0"]
    code, out, _ = afs_cli(env, "search", "--where", "metadata.eval.accuracy > 0.95")
    assert code == 0 and out.strip() == "no version matches"
    code, _, err = afs_cli(env, "search", "--where", "metadata.eval.accuracy > lots")
    assert code == 1 and "where: metadata.eval.accuracy holds double values" in err
    code, out, _ = afs_cli(env, "reindex")
    assert code == 0 and out.strip() == "indexed 1 version(s)"
    assert "p/ds:v0" in afs_cli(env, "search", "-t", "dataset")[1]
