"""``artifactfs link``, ``unlink``, ``registry`` and ``retention set|show|apply``, through the
real command."""

from __future__ import annotations

import json
from pathlib import Path

import artifactfs as afs
from tests.cli.test_local_folders import afs_cli


def test_link_promote_and_unlink(env: dict[str, str]) -> None:
    code, out, err = afs_cli(env, "link", "p/ds:v0", "golden", "--alias", "staging")
    assert code == 0, err
    assert out.strip() == "linked: registry/golden:v0 -> p/ds:v0  aliases: latest, staging"
    assert afs_cli(env, "link", "p/ds:latest", "golden")[1].startswith("already linked: registry/golden:v0")
    assert afs_cli(env, "alias", "set", "registry/golden:v0", "production")[0] == 0
    code, out, _ = afs_cli(env, "registry", "--json")
    assert json.loads(out) == [
        {"collection": "golden", "type": "dataset", "versions": 1, "updated": json.loads(out)[0]["updated"]}
    ]
    code, out, _ = afs_cli(env, "registry", "golden")
    assert "registry/golden:v0" in out and "p/ds:v0" in out and "production, staging" in out
    code, out, _ = afs_cli(env, "show", "registry/golden:production")
    assert "linked from  p/ds:v0" in out

    code, _, err = afs_cli(env, "delete", "p/ds:v0", "--force")
    assert code == 1 and "registry/golden:v0" in err and "unlink it first" in err
    code, _, err = afs_cli(env, "unlink", "registry/golden:v0")
    assert code == 1 and "--force" in err and "force=True" not in err
    code, out, err = afs_cli(env, "unlink", "registry/golden:production", "--force")
    assert code == 0 and out.strip() == "unlinked registry/golden:v0", err
    assert afs_cli(env, "delete", "p/ds:v0")[0] == 0
    code, _, err = afs_cli(env, "link", "p/ds:v0", "golden")
    assert code == 1 and "error:" in err and "Traceback" not in err


def test_retention_policies_from_the_command_line(env: dict[str, str], tmp_path: Path) -> None:
    store = afs.open_store(env["ARTIFACTFS_STORE"])
    with afs.init(project="p", store=store) as run:
        for i in range(3):
            art = afs.Artifact("ds", type="dataset")
            with art.new_file("n.txt") as f:
                f.write(str(i))
            run.log_artifact(art)
    store.set_alias("p/ds:v1", "best")
    code, out, err = afs_cli(env, "retention", "set", "p", "--keep-last", "1", "--protect", "best")
    assert code == 0 and out.strip() == "p: keep the last 1; never delete versions aliased best", err
    code, out, _ = afs_cli(env, "retention", "show", "p/ds", "--json")
    shown = json.loads(out)
    assert (shown["scope"], shown["keep_last"], shown["protect"]) == ("project", 1, ["best"])
    code, out, _ = afs_cli(env, "retention", "apply", "p", "--dry-run")
    assert out.splitlines() == ["2 version(s) to delete", "  p/ds:v0", "  p/ds:v2"]
    assert [a.version for a in store.versions("p", "ds")] == ["v0", "v1", "v2", "v3"]
    code, out, err = afs_cli(env, "retention", "apply", "p", "--yes")
    assert code == 0 and "deleted 2 version(s)" in out, err
    assert [a.version for a in store.versions("p", "ds")] == ["v1", "v3"]
    assert afs_cli(env, "retention", "set", "p", "--clear")[1].strip() == "p: no policy"
    assert afs_cli(env, "retention", "show", "p")[1].strip() == "p: no retention policy"
    code, _, err = afs_cli(env, "retention", "set", "p")
    assert code == 2 and "say what to keep" in err
    code, _, err = afs_cli(env, "retention", "set", "p", "--older-than", "soon")
    assert code == 1 and "older_than" in err
