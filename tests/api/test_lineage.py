"""Lineage graphs, code snapshots and reproduce() on a multi-step pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import artifactfs as afs
from artifactfs.errors import InvalidInputError


def pipeline(store: afs.Store, tmp_path: Path) -> dict[str, str]:
    """raw -> [prep run, code] -> processed -> [train run, code] -> model (references processed)."""
    code = tmp_path / "src"
    (code / "pkg").mkdir(parents=True)
    (code / "prep.py").write_text("print('prep')\n")
    (code / "pkg" / "train.py").write_text("print('train')\n")
    (code / "notes.txt").write_text("not code\n")
    (code / "__pycache__").mkdir()
    (code / "__pycache__" / "x.py").write_text("cached\n")
    with afs.init(project="p", job_type="ingest", store=store) as run:
        raw = afs.Artifact("raw", type="dataset")
        with raw.new_file("raw.csv") as f:
            f.write("a\n1\n")
        raw_v = run.log_artifact(raw)
        ingest = run.id
    with afs.init(project="p", job_type="prep", config={"frac": 0.5}, store=store) as run:
        code_v = run.log_code(code)
        src = run.use_artifact("raw:latest")
        out = afs.Artifact("processed", type="dataset")
        with out.new_file("p.csv") as f:
            f.write("a\n1\n")
        processed = run.log_artifact(out)
        prep = run.id
    with afs.init(project="p", job_type="train", config={"lr": 0.1}, store=store) as run:
        run.log_code(code)  # unchanged code: the same version
        ds = run.use_artifact("processed:latest")
        m = afs.Artifact("model", type="model")
        with m.new_file("w.bin", mode="wb") as f:
            f.write(b"w")
        m.add_reference(ds)
        model = run.log_artifact(m)
        train = run.id
    assert src.qualified_name == raw_v.qualified_name
    return {
        "raw": raw_v.qualified_name,
        "code": code_v.qualified_name,
        "processed": processed.qualified_name,
        "model": model.qualified_name,
        "ingest": ingest,
        "prep": prep,
        "train": train,
    }


def test_upstream_closure_is_exact(store: afs.Store, tmp_path: Path) -> None:
    ids = pipeline(store, tmp_path)
    g = store.lineage(ids["model"], "upstream")
    assert sorted(n.id for n in g.nodes.values()) == sorted(
        [f"artifact:{ids[k]}" for k in ("model", "processed", "raw", "code")]
        + [f"run:p/{ids[k]}" for k in ("ingest", "prep", "train")]
    )
    edges = {(e.src.split(":", 1)[1], e.dst.split(":", 1)[1], e.kind) for e in g.edges}
    assert edges == {
        (ids["processed"], ids["model"], "references"),
        (f"p/{ids['train']}", ids["model"], "logged"),
        (ids["processed"], f"p/{ids['train']}", "used"),
        (ids["code"], f"p/{ids['train']}", "used"),
        (f"p/{ids['prep']}", ids["processed"], "logged"),
        (ids["raw"], f"p/{ids['prep']}", "used"),
        (ids["code"], f"p/{ids['prep']}", "used"),
        (f"p/{ids['ingest']}", ids["raw"], "logged"),
    }
    assert store.artifact(ids["code"]).type == "code"
    assert sorted(store.artifact(ids["code"]).entries) == ["pkg/train.py", "prep.py"]
    one = store.lineage(ids["model"], "upstream", depth=1)
    assert sorted(n.id for n in one.nodes.values()) == sorted(
        [f"artifact:{ids['model']}", f"artifact:{ids['processed']}", f"run:p/{ids['train']}"]
    )


def test_downstream_and_shortcuts(store: afs.Store, tmp_path: Path) -> None:
    ids = pipeline(store, tmp_path)
    g = store.artifact(ids["raw"]).downstream()
    labels = {n.id for n in g.nodes.values()}
    assert f"artifact:{ids['model']}" in labels and f"run:p/{ids['train']}" in labels
    assert store.artifact(ids["model"]).upstream().root == f"artifact:{ids['model']}"
    both = store.lineage(ids["processed"], "both")
    assert f"artifact:{ids['raw']}" in both.nodes and f"artifact:{ids['model']}" in both.nodes
    with pytest.raises(InvalidInputError):
        store.lineage(ids["model"], "sideways")  # type: ignore[arg-type]


def test_exports(store: afs.Store, tmp_path: Path) -> None:
    ids = pipeline(store, tmp_path)
    g = store.lineage(ids["model"])
    tree = g.to_tree()
    assert tree.splitlines()[0] == ids["model"]
    assert "[logged] run" in tree and f"[used] {ids['raw']}" in tree
    assert g.to_dot().startswith("digraph lineage {") and "->" in g.to_dot()
    assert g.to_mermaid().startswith("flowchart LR") and "-->|used|" in g.to_mermaid()
    data = json.loads(g.to_json())
    assert data["root"] == f"artifact:{ids['model']}" and len(data["nodes"]) == 7


def test_run_records_config_and_git(store: afs.Store, tmp_path: Path) -> None:
    import subprocess

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "main.py").write_text("x = 1\n")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(
        ["git", "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qam", "x", "--allow-empty"],
        cwd=repo,
        check=True,
    )
    subprocess.run(["git", "add", "main.py"], cwd=repo, check=True)
    with afs.init(project="p", job_type="train", config={"lr": 0.1}, store=store) as run:
        run.log_code(repo)
    rec = store.run("p", run.id)
    assert rec.config == {"lr": 0.1}
    assert rec.extra["git"]["dirty"] is True and len(rec.extra["git"]["commit"]) == 40


def test_log_code_errors(store: afs.Store, tmp_path: Path) -> None:
    from artifactfs.errors import LocalPathNotFoundError

    with afs.init(project="p", store=store) as run:
        with pytest.raises(LocalPathNotFoundError):
            run.log_code(tmp_path / "missing")
        (tmp_path / "empty").mkdir()
        with pytest.raises(InvalidInputError, match="no files"):
            run.log_code(tmp_path / "empty")


def test_reproduce(store: afs.Store, tmp_path: Path) -> None:
    ids = pipeline(store, tmp_path)
    out = afs.reproduce(ids["model"], tmp_path / "repro", store=store)
    doc = json.loads((out / "lineage.json").read_text())
    assert doc["target"] == ids["model"]
    assert sorted(v["ref"] for v in doc["versions"]) == sorted(ids[k] for k in ("code", "model", "processed", "raw"))
    assert {r["job_type"]: r["config"] for r in doc["runs"]} == {
        "ingest": {},
        "prep": {"frac": 0.5},
        "train": {"lr": 0.1},
    }
    assert (out / "p" / "raw" / "v0" / "raw.csv").read_text() == "a\n1\n"
    assert (out / "p" / "code" / "v0" / "pkg" / "train.py").read_text() == "print('train')\n"
    assert all(v["digest"].startswith("blake3:") for v in doc["versions"])


def test_upstream_reads_do_not_grow_with_the_project(tmp_path: Path) -> None:
    """Upstream of one version costs the same reads in a small and in a larger project."""
    from artifactfs.backend import Backend

    def reads_for_upstream(store: afs.Store, ref: str) -> int:
        calls = 0
        for name in ("read", "read_many", "listdir"):
            original = getattr(store.backend, name)

            def counting(*a: object, _o: object = original, **kw: object) -> object:
                nonlocal calls
                calls += 1
                return _o(*a, **kw)  # type: ignore[operator]

            setattr(store.backend, name, counting)
        fresh = afs.Store(store.backend, cache=store.cache)
        fresh.lineage(ref, "upstream")
        return calls

    counts = []
    for extra in (0, 60):
        store = afs.open_store(tmp_path / f"s{extra}")
        ids = pipeline(store, tmp_path / f"w{extra}")
        for i in range(extra):  # unrelated runs and versions
            with afs.init(project="p", job_type="noise", store=store) as run:
                a = afs.Artifact(f"noise{i % 6}", type="dataset")
                with a.new_file("x") as f:
                    f.write(str(i))
                run.log_artifact(a)
        counts.append(reads_for_upstream(store, ids["model"]))
    assert counts[0] == counts[1]
    assert Backend  # the counted methods are the storage layer's only reads


def test_a_level_of_the_walk_is_read_at_once(tmp_path: Path) -> None:
    """The inputs of a run, and the versions of one level, are read together: each of the
    six inputs' reads waits until three are in flight at once (on a walk that reads them one
    after another, the wait never ends and the test fails by its timeout)."""
    import threading

    from artifactfs.records import ArtifactVersionId
    from tests.timeouts import HANG

    store = afs.open_store(str(tmp_path / "s"))
    with afs.init(project="p", job_type="prep", store=store) as run:
        inputs = []
        for i in range(6):
            art = afs.Artifact(f"in{i}", type="dataset")
            with art.new_file("x.txt") as f:
                f.write(str(i))
            inputs.append(run.log_artifact(art))
    with afs.init(project="p", job_type="train", store=store) as run:
        for a in inputs:
            run.use_artifact(a.qualified_name)
        model = afs.Artifact("model", type="model")
        with model.new_file("w.bin") as f:
            f.write("w")
        run.log_artifact(model)

    reader = afs.open_store(str(tmp_path / "s"))
    together = threading.Barrier(3, timeout=HANG)
    find = reader.catalog.find
    waited: list[str] = []

    def gathered(ident: ArtifactVersionId) -> object:
        if ident.name.startswith("in") and len(waited) < 3:
            waited.append(ident.name)
            together.wait()
        return find(ident)

    reader.catalog.find = gathered  # type: ignore[method-assign]
    graph = reader.lineage("p/model:v0", depth=3)
    assert len(waited) == 3
    assert {n.label for n in graph.artifacts()} >= {f"p/in{i}:v0" for i in range(6)}
