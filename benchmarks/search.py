"""Q: finding versions by metadata among 10,000, each backend.

A store of 100 artifacts of 100 versions each (nested metadata: ``eval.accuracy``,
``eval.loss``, ``params.lr``, ``owner``), made quickly: one version logged, the others'
manifests, version records and index records written as their writers would write them.
On a fresh Store, "models of user3 with accuracy above 0.5, newest first, 10 at most"
(about 700 match) three ways:
reading every manifest (what a query costs without the index: ``versions()`` of every
artifact, then a filter in Python), ``search`` before the index is compacted (10,000 index
records), and ``search`` after ``compact_index``. Times and requests are the emulator's own
(no added latency); requests are counted at the HTTP client (the local folder: keys asked).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

from . import cloud
from .harness import REPO, Results, Target
from .history import backend_env, fresh_store, measure

ARTIFACTS, PER = 100, 100
WHERE = "metadata.eval.accuracy > 0.5 and metadata.owner == 'user3'"


def grow(afs: Any, url: str, work: Path, artifacts: int, per: int) -> None:
    """``artifacts`` × ``per`` versions of ``p/m<i>`` with their manifests and index rows."""
    from artifactfs import layout
    from artifactfs.hashing import hash_bytes
    from artifactfs.manifest import Manifest
    from artifactfs.search_index import IndexRow

    store = afs.open_store(url)
    src = work / "q-weights.bin"
    src.write_bytes(b"weights")
    with afs.init(project="p", store=store) as run:
        art = afs.Artifact("m0", type="model")
        art.add_file(str(src))
        run.log_artifact(art)
    first = store.catalog.version("p", "m0", 0)
    entries = store.catalog.version_manifest(first).entries
    records: dict[str, bytes] = {}
    start = dt.datetime.fromisoformat(first.created_at)
    for a in range(artifacts):
        for v in range(per):
            if a == 0 and v == 0:
                continue
            n = a * per + v
            metadata = {"eval": {"accuracy": n / (artifacts * per), "loss": 1 - n / 1e4}, "params": {"lr": 1e-3}}
            metadata["owner"] = f"user{n % 7}"
            m = Manifest(f"m{a}", "model", entries, f"model {n}", metadata, (), first.manifest.algorithm)
            data = m.encode().data
            digest = hash_bytes(data, first.manifest.algorithm)
            created = (start + dt.timedelta(seconds=n)).isoformat()
            rec = dataclasses.replace(
                first, name=f"m{a}", version=v, manifest=digest, content=digest, created_at=created
            )
            records[layout.manifest(digest)] = data
            records[layout.version_record("p", f"m{a}", v)] = rec.to_bytes()
            row = IndexRow("p", f"m{a}", v, 0, "model", rec.created_at, f"model {n}", metadata)
            records[f"index/records/{n:020d}-{os.urandom(6).hex()}.msgpack"] = row.to_bytes()
    keys = list(records)
    for i in range(0, len(keys), 2000):
        store.backend.write_many({k: records[k] for k in keys[i : i + 2000]})
    for a in range(artifacts):  # the newest-version hints, as the last writer of each leaves them
        store.catalog.committed(store.catalog.version("p", f"m{a}", per - 1))


def scan(store: Any) -> list[str]:
    """The query without the index: every manifest read."""
    hits = []
    for summary in store.artifacts("p"):
        for art in store.versions("p", summary.name):
            m = art.metadata
            if m.get("eval", {}).get("accuracy", 0) > 0.5 and m.get("owner") == "user3":
                hits.append((art.created_at, art.qualified_name))
    return [q for _, q in sorted(hits, reverse=True)[:10]]


def run(
    results: Results,
    work: Path,
    backends: list[str],
    artifacts: int = ARTIFACTS,
    per: int = PER,
    ways: tuple[str, ...] = ("scan", "uncompacted", "compacted"),
) -> None:
    sys.path.insert(0, str(REPO))
    import artifactfs as afs

    cloud.count_requests()
    os.environ["ARTIFACTFS_CACHE_DIR"] = str(work / "q-cache")
    size = f"{artifacts * per:,} versions"
    for name in ["local", *backends]:
        with backend_env(name, work) as (new_root, proxy):
            if proxy:  # no added latency: the emulators' own speed
                os.environ["ARTIFACTFS_STORAGE_OPTIONS"] = proxy.options["direct"]
            url = new_root()
            grow(afs, url, work, artifacts, per)
            local = proxy is None
            key = f"Q {name}"
            baseline = "scan manifests" if "scan" in ways else "search, compacted"
            results.workload(key, f"{WHERE}, newest 10 of {size}, {name}", baseline)
            found: dict[str, list[str]] = {}

            def ask(store: Any, label: str) -> None:
                found[label] = [h.qualified_name for h in store.search(type="model", where=WHERE, limit=10)]

            if "scan" in ways:
                store = fresh_store(afs, url)
                m = measure(lambda s=store: found.update(scan=scan(s)), store, local=local)
                results.add(key, "scan manifests", m)
            if "uncompacted" in ways:
                store = fresh_store(afs, url)
                results.add(key, "search, uncompacted", measure(lambda s=store: ask(s, "before"), store, local=local))
            fresh_store(afs, url).compact_index()
            for r in range(3):
                store = fresh_store(afs, url)
                results.add(key, "search, compacted", measure(lambda s=store: ask(s, f"after{r}"), store, local=local))
            answers = {tuple(v) for v in found.values()}
            assert len(answers) == 1, f"the three ways disagree: {found}"
        print(f"Q {name} done", file=sys.stderr)


def targets(backends: list[str]) -> list[Target]:
    out = []
    for b in ["local", *backends]:
        out.append(Target(f"Q {b} search ≤ 0.5 s after compaction", f"Q {b}", "search, compacted", "seconds", 0.5))
        out.append(Target(f"Q {b} search ≤ 10 requests + 10 checks", f"Q {b}", "search, compacted", "abs:requests", 20))
    return out
