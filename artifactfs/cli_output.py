"""What the command line prints: JSON, the rows of projects, artifacts, versions, runs and
problems, the text of a version, a diff, a lineage graph and the store reports, and progress
bars on stderr. Nothing here opens a store: the commands hand in what they read."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import click
from fsspec.callbacks import Callback

from .errors import InvalidInputError
from .settings import parse_duration

if TYPE_CHECKING:
    from .artifact import Artifact
    from .copy import CopyReport
    from .diff import VersionDiff
    from .lineage import LineageGraph
    from .maintenance import GcReport
    from .manifest import Entry
    from .markers import PurgeRecord
    from .records import RunRecord
    from .store import ArtifactSummary
    from .verification import Problem


def echo_json(data: Any) -> None:
    """Print ``data`` (JSON values only) as indented JSON."""
    click.echo(json.dumps(data, indent=2))


def emit(rows: Any, as_json: bool, text: Any = None) -> None:
    """Print ``rows`` as JSON (other values as their strings) with --json, else ``text`` if given."""
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
    elif text is not None:
        click.echo(text)


SIZE_COLUMNS = frozenset({"size", "bytes"})


def human_size(n: int) -> str:
    """``n`` bytes for people: 512 B, 14.4 KiB, 3.0 GiB (powers of 1,024)."""
    if n < 1024:
        return f"{n} B"
    units = ("KiB", "MiB", "GiB", "TiB")
    value, i = n / 1024, 0
    while value >= 1024 and i < len(units) - 1:
        value, i = value / 1024, i + 1
    return f"{value:.1f} {units[i]}"


def _cell(key: str, value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "-"
    if key in SIZE_COLUMNS and isinstance(value, int):
        return human_size(value)
    if key.endswith("_at") and isinstance(value, str):
        return value[:19].replace("T", " ")  # to the second, as ls -l shows times
    if value is None or value == "":
        return "-"
    return str(value)


def echo_rows(rows: list[dict[str, Any]]) -> None:
    """A table: a header of the rows' keys, then one aligned line a row (numbers and sizes to
    the right, sizes for people, times to the second; --json keeps the raw values)."""
    if not rows:
        return
    keys = list(rows[0])
    cells = [[_cell(k, row.get(k)) for k in keys] for row in rows]
    header = [k.replace("_", " ") for k in keys]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header)]
    right = [k in SIZE_COLUMNS or all(isinstance(row.get(k), int) for row in rows) for k in keys]

    def line(values: list[str]) -> str:
        parts = [v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right, strict=True)]
        return "  ".join(parts).rstrip()

    click.echo(line(header))
    for c in cells:
        click.echo(line(c))


def echo_info(data: dict[str, Any]) -> None:
    """The store, cache and version in use, and how to change them."""
    for k in ("version", "store", "cache_dir"):
        click.echo(f"{k:10} {data[k]}")
    click.echo(f"(set ${data['store_env']} or --store to use another store, ${data['cache_env']} to move the cache)")


def project_rows(projects: Iterable[str]) -> list[dict[str, Any]]:
    return [{"project": p} for p in projects]


def artifact_rows(artifacts: Iterable[ArtifactSummary]) -> list[dict[str, Any]]:
    return [
        {
            "name": a.name,
            "type": a.type,
            "versions": a.version_count,
            "latest": f"v{a.latest_version}",
            "updated_at": a.updated_at,
        }
        for a in artifacts
    ]


def version_rows(versions: Iterable[Artifact]) -> list[dict[str, Any]]:
    return [
        {
            "version": v.version,
            "aliases": v.aliases,
            "size": v.size,
            "files": v.file_count,
            "created_at": v.created_at,
            "digest": v.digest,
        }
        for v in versions
    ]


def version_data(art: Artifact, run: RunRecord | None, files: list[Entry] | None = None) -> dict[str, Any]:
    """One version: manifest, metadata, aliases, the run that logged it, references, and its
    entries (``files``: those given; default every one), each saying whether it was purged."""
    files = files if files is not None else list(art.entries.values())
    purged = art.purged_files(files)
    return {
        "ref": art.qualified_name,
        "type": art.type,
        "aliases": art.aliases,
        "digest": art.digest,
        "manifest": art.manifest_digest,
        "size": art.size,
        "created_at": art.created_at,
        "description": art.description,
        "metadata": art.metadata,
        "tags": art.tags,
        "linked_from": art.linked_from.qualified_name if art.linked_from is not None else None,
        "logged_by": {"id": run.id, "name": run.name, "job_type": run.job_type} if run else None,
        "references": [a.qualified_name for a in art.references()],
        "file_count": art.file_count,
        "entries": [
            {
                "path": e.path,
                "kind": e.kind,
                "size": e.size,
                "digest": str(e.digest) if e.digest else None,
                "verified": e.extra.get("checksum") is not False,
                "purged": _purged(purged.get(e.path)),
            }
            for e in files
        ],
    }


def _purged(rec: PurgeRecord | None) -> dict[str, Any] | None:
    return None if rec is None else {"purged_at": rec.purged_at, "user": rec.user, "reason": rec.reason}


def file_rows(art: Artifact) -> list[dict[str, Any]]:
    """Every file of a version, when its bytes were purged if they were (else None)."""
    files = art.files()
    purged = art.purged_files(files)
    at = {p: rec.purged_at for p, rec in purged.items()}
    return [{"path": e.path, "kind": e.kind, "size": e.size, "purged_at": at.get(e.path)} for e in files]


def echo_version(art: Artifact, run: RunRecord | None, data: dict[str, Any]) -> None:
    """``version_data`` as text, one entry a line."""
    click.echo(f"{art.qualified_name}  ({art.type})  aliases: {', '.join(art.aliases) or '-'}")
    for k in ("digest", "manifest", "size", "created_at", "description"):
        click.echo(f"  {k:12} {data[k]}")
    click.echo(f"  {'metadata':12} {json.dumps(art.metadata, default=str)}")
    click.echo(f"  {'tags':12} {', '.join(data['tags']) or '-'}")
    if data["linked_from"]:
        click.echo(f"  {'linked from':12} {data['linked_from']}")
    click.echo(f"  {'logged by':12} {f'{run.name} ({run.job_type})' if run else '-'}")
    click.echo(f"  {'references':12} {', '.join(data['references']) or '-'}")
    click.echo(f"  entries ({art.file_count:,}):")
    for e in data["entries"]:
        unverified = "  (unverified: logged with checksum=False)" if not e["verified"] else ""
        if p := e["purged"]:
            by = f" by {p['user']}" if p["user"] else ""
            unverified += f"  (purged {p['purged_at'][:19].replace('T', ' ')}{by}: {p['reason'] or 'no reason given'})"
        click.echo(f"    {e['kind']:9} {e['size']:>12,}  {e['path']}{unverified}")


def diff_text(d: VersionDiff) -> str:
    """Added (+), removed (-) and changed (~) paths with their notes, then the counts."""
    return "\n".join(
        [f"{d.a} -> {d.b}"]
        + [f"+ {p}" for p in d.added]
        + [f"- {p}" for p in d.removed]
        + [f"~ {p}" for p in d.changed]
        + [f"    {n}" for n in d.notes]
        + [f"{len(d.added)} added, {len(d.removed)} removed, {len(d.changed)} changed"]
    )


def lineage_text(graph: LineageGraph, fmt: str) -> str:
    """The graph as a tree, Graphviz dot, Mermaid or JSON."""
    if fmt == "tree":
        return graph.to_tree()
    return {"dot": graph.to_dot, "mermaid": graph.to_mermaid, "json": graph.to_json}[fmt]()


def run_rows(runs: Iterable[RunRecord]) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "name": r.name,
            "job_type": r.job_type,
            "status": r.status,
            "started_at": r.started_at,
            "duration": r.duration,
            "config": r.config,
            "inputs": [i.qualified_name for i in r.inputs],
            "outputs": [o.qualified_name for o in r.outputs],
        }
        for r in runs
    ]


def run_data(r: RunRecord) -> dict[str, Any]:
    """One run, everything its record holds."""
    git = r.extra.get("git")
    return {
        "project": r.project,
        "id": r.id,
        "name": r.name,
        "job_type": r.job_type,
        "status": r.status,
        "started_at": r.started_at,
        "finished_at": r.finished_at,
        "duration": r.duration,
        "host": r.host,
        "error": r.error,
        "git": dict(git) if isinstance(git, dict) else None,
        "config": r.config,
        "inputs": [i.qualified_name for i in r.inputs],
        "outputs": [o.qualified_name for o in r.outputs],
        "summary": r.summary,
        "history": list(r.history),
    }


def run_text(d: dict[str, Any]) -> str:
    """``run_data`` as text: a heading, then one field a line."""
    git = d["git"]
    steps = d["history"]
    keys = sorted({k for row in steps for k in row if k != "_step"})
    lines = [
        f"{d['project']}/{d['id']}  {d['name']}  ({d['job_type'] or '-'})  {d['status']}",
        f"  {'started':10} {_cell('started_at', d['started_at'])}",
        f"  {'finished':10} {_cell('finished_at', d['finished_at'])}"
        + (f"  ({d['duration']:.1f} s)" if d["duration"] is not None else ""),
        f"  {'host':10} {d['host'] or '-'}",
        f"  {'git':10} " + (f"{git.get('commit')}{' (dirty)' if git.get('dirty') else ''}" if git else "-"),
    ]
    if d["error"]:
        lines.append(f"  {'error':10} {d['error']}")
    lines += [
        f"  {'config':10} {json.dumps(d['config'], default=str) if d['config'] else '-'}",
        f"  {'inputs':10} {', '.join(d['inputs']) or '-'}",
        f"  {'outputs':10} {', '.join(d['outputs']) or '-'}",
        f"  {'summary':10} " + ("  ".join(f"{k}={v}" for k, v in d["summary"].items()) or "-"),
        f"  {'history':10} " + (f"{len(steps)} step(s) of {', '.join(keys)}" if steps else "-"),
    ]
    return "\n".join(lines)


def runs_text(rows: list[dict[str, Any]]) -> str:
    """One line a run: start, id, job type, status, and the versions it used and logged."""
    return "\n".join(
        f"{r['started_at'][:19]}  {r['id']}  {r['job_type'] or '-':14} {r['status']:9} "
        f"in: {', '.join(r['inputs']) or '-'}  out: {', '.join(r['outputs']) or '-'}"
        for r in rows
    )


def problem_rows(problems: Iterable[Problem]) -> list[dict[str, Any]]:
    return [{"kind": p.kind, "key": p.key, "message": p.message, "warning": p.warning} for p in problems]


def echo_problems(problems: list[Problem]) -> None:
    """Each problem on stdout, then their count on stderr (or that all is well on stdout);
    warnings are counted apart: they do not make the store unhealthy."""
    for p in problems:
        click.echo(str(p))
    errors = [p for p in problems if not p.warning]
    warned = f" ({len(problems) - len(errors)} warning(s))" if len(problems) > len(errors) else ""
    if errors:
        click.echo(f"{len(errors)} problem(s) found{warned}", err=True)
    else:
        click.echo(f"ok: no problems found{warned}")


def gc_data(report: GcReport) -> dict[str, Any]:
    return {
        "dry_run": report.dry_run,
        "blobs": report.blobs,
        "manifests": report.manifests,
        "temp_files": report.temp_files,
        "packs": report.packs,
        "repacked": report.repacked,
        "bytes": report.bytes,
        "kept_young": report.kept_young,
    }


def echo_gc(report: GcReport, grace: str) -> None:
    """What was freed (or would be, on a dry run) and what was kept as younger than ``grace``."""
    verb = "would free" if report.dry_run else "freed"
    click.echo(
        f"{verb} {report.count} object(s), {report.bytes:,} bytes ({report.blobs} blobs, "
        f"{report.manifests} manifests, {report.packs} packs, {report.temp_files} temp files); "
        f"kept {report.kept_young} younger than {grace}"
        + (f"; {'would repack' if report.dry_run else 'repacked'} {report.repacked} pack(s)" if report.repacked else "")
    )
    if report.dry_run and report.count:
        click.echo("run again with --delete to free them")


def copy_data(report: CopyReport) -> dict[str, Any]:
    return {
        "versions": report.versions,
        "new_versions": report.new_versions,
        "blobs": report.blobs,
        "bytes": report.bytes,
        "runs": report.runs,
        "deleted": report.deleted,
        "missing": report.missing,
        "purged": report.purged,
    }


def echo_copy(report: CopyReport) -> None:
    """What was copied, and the versions that were not, with why."""
    click.echo(
        f"copied {', '.join(report.versions)}: {report.new_versions} new version(s), "
        f"{report.blobs} blob(s), {report.bytes:,} bytes, {report.runs} run record(s)"
    )
    if report.deleted:
        click.echo(f"not copied, deleted in the source: {', '.join(report.deleted)}")
    if report.missing:
        click.echo(f"not copied, not in the source: {', '.join(report.missing)}")
    if report.purged:
        click.echo(f"not copied, purged from the source (its purge records were): {'; '.join(report.purged)}")


class ProgressBar(Callback):  # type: ignore[misc]
    """Draws fsspec progress as a click progress bar on stderr (only on a terminal)."""

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label
        self.bar: Any = None

    def call(self, *args: Any, **kwargs: Any) -> None:
        if self.bar is None and self.size:
            self.bar = click.progressbar(length=self.size, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        if self.bar is not None:
            self.bar.update(self.value - self.bar.pos)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@contextlib.contextmanager
def progress(label: str) -> Iterator[Callback | None]:
    """A progress callback when stderr is a terminal, else None."""
    if not sys.stderr.isatty():
        yield None
        return
    bar = ProgressBar(label)
    try:
        yield bar
    finally:
        bar.close()


def duration(text: str) -> dt.timedelta:
    """``30m``, ``24h``, ``7d``, ``1.5h`` or ``0`` as a timedelta; anything else is a usage error."""
    try:
        return parse_duration(text)
    except InvalidInputError:
        raise click.BadParameter(f"{text!r} is not a duration like 30m, 24h or 7d") from None
