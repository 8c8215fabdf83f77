"""Fetch everything a version was made from: its upstream data, code, runs and config."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fsspec.callbacks import Callback

from .errors import ArtifactFSError, IncompleteLineageError, IntegrityError, local_file_error
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
    between them. If any upstream version is gone (deleted, or not in this store) or has lost
    a blob, what exists is still fetched and listed, and then :class:`IncompleteLineageError`
    names everything missing: a partial closure is not a reproduction.
    """
    st = store if isinstance(store, Store) else open_store(store)
    graph = st.lineage(ref, "upstream")
    root = Path(dest)
    versions: list[dict[str, Any]] = []
    missing: list[str] = []
    try:
        root.mkdir(parents=True, exist_ok=True)
        for node in sorted(graph.artifacts(), key=lambda n: n.label):
            a = node.attrs
            ident = ArtifactVersionId(a["project"], a["name"], a["version"], Digest.parse(a["manifest"]))
            name = ident.qualified_name
            entry: dict[str, Any] = {"ref": name, **a, "path": None}
            if a.get("missing"):
                missing.append(f"{name} (not in this store)")
            elif a["deleted"]:
                missing.append(f"{name} (deleted)")
            else:
                target = root / a["project"] / a["name"] / f"v{a['version']}"
                try:
                    st.resolve(ident).download(target, callback=callback)
                    entry["path"] = os.path.relpath(target, root)
                except IntegrityError as e:  # a blob lost or damaged
                    missing.append(f"{name} ({e})")
            versions.append(entry)
        runs = [{"id": n.attrs["run_id"], "label": n.label, **n.attrs} for n in graph.runs()]
        doc = {
            "target": graph.nodes[graph.root].label,
            "store": st.url,
            "complete": not missing,
            "missing": missing,
            "versions": versions,
            "runs": sorted(runs, key=lambda r: r["started_at"]),
            "edges": [
                {"from": graph.nodes[e.src].label, "to": graph.nodes[e.dst].label, "kind": e.kind} for e in graph.edges
            ],
        }
        tmp = root / f"lineage.json.tmp-{os.getpid()}"
        tmp.write_text(json.dumps(doc, indent=2, default=str) + "\n")
        os.replace(tmp, root / "lineage.json")
    except OSError as e:
        if isinstance(e, ArtifactFSError):
            raise
        raise local_file_error(e, "write the reproduction into", e.filename or root) from e
    if missing:
        raise IncompleteLineageError(
            f"cannot reproduce {graph.nodes[graph.root].label}: {len(missing)} upstream version(s) are missing: "
            f"{'; '.join(missing)}. What exists was fetched into {root} (see lineage.json)"
        )
    return root
