"""Fetch everything a version was made from: its upstream data, code, runs and config."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fsspec.callbacks import Callback

from .hashing import Digest
from .records import ArtifactVersionId
from .store import Store, open_store

__all__ = ["reproduce"]


def reproduce(
    ref: str,
    dest: str | os.PathLike[str],
    *,
    store: Store | str | None = None,
    callback: Callback | None = None,
) -> Path:
    """Materialise the exact upstream closure of ``ref`` into ``dest``; return ``dest``.

    Every upstream version (data, code, and ``ref`` itself) is downloaded, verified, to
    ``dest/<project>/<name>/v<N>/``, and ``dest/lineage.json`` lists each version with its
    digests and path, each run with its job type, config and git commit, and the edges
    between them.
    """
    st = store if isinstance(store, Store) else open_store(store)
    graph = st.lineage(ref, "upstream")
    root = Path(dest)
    root.mkdir(parents=True, exist_ok=True)
    versions: list[dict[str, Any]] = []
    for node in graph.artifacts():
        a = node.attrs
        ident = ArtifactVersionId(a["project"], a["name"], a["version"], Digest.parse(a["manifest"]))
        entry: dict[str, Any] = {"ref": node.label.removesuffix(" (deleted)"), **a}
        if a["deleted"]:
            entry["path"] = None  # deleted: its record is known, its bytes are gone
        else:
            target = root / a["project"] / a["name"] / f"v{a['version']}"
            st.resolve(ident).download(target, callback=callback)
            entry["path"] = os.path.relpath(target, root)
        versions.append(entry)
    runs = [{"id": n.attrs["run_id"], "label": n.label, **n.attrs} for n in graph.runs()]
    doc = {
        "target": graph.nodes[graph.root].label,
        "store": st.url,
        "versions": sorted(versions, key=lambda v: v["ref"]),
        "runs": sorted(runs, key=lambda r: r["started_at"]),
        "edges": [
            {"from": graph.nodes[e.src].label, "to": graph.nodes[e.dst].label, "kind": e.kind} for e in graph.edges
        ],
    }
    (root / "lineage.json").write_text(json.dumps(doc, indent=2, default=str) + "\n")
    return root
