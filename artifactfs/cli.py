"""The ``artifactfs`` command line: thin commands over the public API."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import click
from fsspec.callbacks import Callback

from . import __version__
from .diff import diff as diff_versions
from .errors import ArtifactFSError, SkippedPathWarning
from .settings import CACHE_ENV, STORE_ENV, default_cache_dir, default_store_url
from .store import open_store

__all__ = ["main"]


class _Group(click.Group):
    """Turns errors into one line on stderr and exit code 1 (``--debug`` for a traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ArtifactFSError, OSError) as e:  # (an OSError here is one no layer named yet)
            if ctx.obj and ctx.obj.get("debug"):
                raise
            message = str(e) if isinstance(e, ArtifactFSError) else f"{e.strerror or e}: {e.filename or ''}"
            click.echo(f"error: {' '.join(message.split())}", err=True)
            sys.exit(1)


@click.group(cls=_Group)
@click.option("--store", "store_url", envvar=STORE_ENV, help="Store URL or path (default: $ARTIFACTFS_STORE).")
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
@click.version_option(__version__, prog_name="artifactfs")
@click.pass_context
def cli(ctx: click.Context, store_url: str | None, debug: bool) -> None:
    """Versioned artifacts on any fsspec filesystem.

    Exit codes: 0 success, 1 error (one line on stderr), 2 bad usage.
    """
    ctx.ensure_object(dict)
    ctx.obj["store"] = store_url
    ctx.obj["debug"] = debug
    # Backend libraries log their retries and give-ups with tracebacks; the command prints one
    # line for any error, so their logs are shown only with --debug.
    if debug:
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
    elif not logging.getLogger().handlers:
        logging.getLogger().addHandler(logging.NullHandler())


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def info(ctx: click.Context, as_json: bool) -> None:
    """Show the store and local cache in use.

    \b
    Example:
      artifactfs info
      ARTIFACTFS_STORE=gs://bucket/prefix artifactfs info --json
    """
    data = {
        "version": __version__,
        "store": ctx.obj["store"] or default_store_url(),
        "default_store": default_store_url(),
        "cache_dir": str(default_cache_dir()),
        "store_env": STORE_ENV,
        "cache_env": CACHE_ENV,
    }
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for k in ("version", "store", "cache_dir"):
        click.echo(f"{k:10} {data[k]}")
    click.echo(f"(set ${STORE_ENV} or --store to use another store, ${CACHE_ENV} to move the cache)")


@cli.command("ls")
@click.argument("path", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def ls(ctx: click.Context, path: str | None, as_json: bool) -> None:
    """List projects, the artifacts of PROJECT, or the versions of PROJECT/NAME.

    \b
    Examples:
      artifactfs ls
      artifactfs ls sentiment-analysis
      artifactfs ls sentiment-analysis/processed-dataset
    """
    store = open_store(ctx.obj["store"])
    rows: list[dict[str, Any]]
    if not path:
        rows = [{"project": p} for p in store.projects()]
    elif "/" not in path:
        rows = [
            {
                "name": a.name,
                "type": a.type,
                "versions": a.version_count,
                "latest": f"v{a.latest_version}",
                "updated_at": a.updated_at,
            }
            for a in store.artifacts(path)
        ]
    else:
        project, name = path.split("/", 1)
        rows = [
            {
                "version": v.version,
                "aliases": v.aliases,
                "size": v.size,
                "files": len(v.entries),
                "created_at": v.created_at,
                "digest": v.digest,
            }
            for v in store.versions(project, name)
        ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo("  ".join(", ".join(map(str, v)) if isinstance(v, list) else str(v) for v in row.values()))


def _store(ctx: click.Context) -> Any:
    return open_store(ctx.obj["store"])


def _emit(rows: Any, as_json: bool, text: Any = None) -> None:
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
    elif text is not None:
        click.echo(text)


@cli.command()
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def show(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Show one version: manifest, metadata, aliases, logged-by run and references.

    \b
    Example:
      artifactfs show sentiment-analysis/sentiment-model:candidate
    """
    art = _store(ctx).artifact(ref)
    run = art.logged_by()
    data = {
        "ref": art.qualified_name,
        "type": art.type,
        "aliases": art.aliases,
        "digest": art.digest,
        "manifest": art.manifest_digest,
        "size": art.size,
        "created_at": art.created_at,
        "description": art.description,
        "metadata": art.metadata,
        "logged_by": {"id": run.id, "name": run.name, "job_type": run.job_type} if run else None,
        "references": [a.qualified_name for a in art.references()],
        "entries": [
            {
                "path": e.path,
                "kind": e.kind,
                "size": e.size,
                "digest": str(e.digest) if e.digest else None,
                "verified": e.extra.get("checksum") is not False,
            }
            for e in art.entries.values()
        ],
    }
    if as_json:
        _emit(data, True)
        return
    click.echo(f"{art.qualified_name}  ({art.type})  aliases: {', '.join(art.aliases) or '-'}")
    for k in ("digest", "manifest", "size", "created_at", "description"):
        click.echo(f"  {k:12} {data[k]}")
    click.echo(f"  {'metadata':12} {json.dumps(art.metadata, default=str)}")
    click.echo(f"  {'logged by':12} {f'{run.name} ({run.job_type})' if run else '-'}")
    click.echo(f"  {'references':12} {', '.join(data['references']) or '-'}")
    click.echo(f"  entries ({len(art.entries)}):")
    for e in art.entries.values():
        unverified = "  (unverified: logged with checksum=False)" if e.extra.get("checksum") is False else ""
        click.echo(f"    {e.kind:9} {e.size:>12,}  {e.path}{unverified}")


@cli.command()
@click.argument("path", type=click.Path(exists=True))
@click.option("--project", "-p", required=True, help="Project to log into.")
@click.option("--name", "-n", required=True, help="Artifact name.")
@click.option("--type", "-t", "type_", required=True, help="Artifact type (dataset, model, ...).")
@click.option("--alias", "-a", "aliases", multiple=True, help="Alias to point at the version (repeatable).")
@click.option("--description", "-d", help="Description of the version.")
@click.option("--strict", is_flag=True, help="Refuse a folder holding paths that cannot be logged (links, FIFOs...).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def put(
    ctx: click.Context,
    path: str,
    project: str,
    name: str,
    type_: str,
    aliases: tuple[str, ...],
    description: str | None,
    strict: bool,
    as_json: bool,
) -> None:
    """Log a file or a folder as a new version (a run of job type "cli").

    \b
    Example:
      artifactfs put ./data --project sentiment-analysis --name raw-reviews --type dataset --alias latest-raw
    """
    from pathlib import Path

    from .artifact import Artifact
    from .run import init

    with init(project=project, job_type="cli", store=_store(ctx)) as run:
        art = Artifact(name, type=type_, description=description)
        if Path(path).is_dir():
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", SkippedPathWarning)
                art.add_dir(path, strict=strict)
            for w in caught:
                click.echo(f"warning: {w.message}", err=True)
        else:
            art.add_file(path)
        with progress("uploading") as cb:
            logged = run.log_artifact(art, aliases=list(aliases), callback=cb)
    _emit(
        {"ref": logged.qualified_name, "digest": logged.digest, "aliases": logged.aliases},
        as_json,
        f"logged {logged.qualified_name}  aliases: {', '.join(logged.aliases)}",
    )


@cli.command()
@click.argument("ref")
@click.argument("dest", required=False)
@click.option("--copy", is_flag=True, help="Write private, writable copies instead of read-only links to the cache.")
@click.pass_context
def get(ctx: click.Context, ref: str, dest: str | None, copy: bool) -> None:
    """Download a version to DEST (default ./artifacts/<name>-v<N>); every byte is verified.

    Files are read-only hard links into the local blob cache when both are on one
    filesystem, so downloading the same bytes again writes nothing.

    \b
    Example:
      artifactfs get sentiment-analysis/processed-dataset:latest ./data
    """
    art = _store(ctx).artifact(ref)
    with progress("downloading") as cb:
        path = art.download(dest, copy=copy, callback=cb)
    click.echo(path)


@cli.command()
@click.argument("ref")
@click.argument("path")
@click.pass_context
def cat(ctx: click.Context, ref: str, path: str) -> None:
    """Write the bytes of one file of a version to stdout.

    \b
    Example:
      artifactfs cat sentiment-analysis/sentiment-model:v3 config.json
    """
    import tempfile
    from pathlib import Path

    art = _store(ctx).artifact(ref)
    with tempfile.TemporaryDirectory() as tmp:
        local = art.get_path(path, root=tmp)
        sys.stdout.buffer.write(Path(local).read_bytes())
        sys.stdout.flush()


@cli.group()
def alias() -> None:
    """Point custom aliases at versions, or remove them."""


@alias.command("set")
@click.argument("ref")
@click.argument("name")
@click.pass_context
def alias_set(ctx: click.Context, ref: str, name: str) -> None:
    """Point alias NAME at version REF (moving it from any other version).

    \b
    Example:
      artifactfs alias set sentiment-analysis/sentiment-model:v3 production
    """
    _store(ctx.find_root()).set_alias(ref, name)
    click.echo(f"{name} -> {ref}")


@alias.command("rm")
@click.argument("ref")
@click.argument("name")
@click.pass_context
def alias_rm(ctx: click.Context, ref: str, name: str) -> None:
    """Remove alias NAME from the artifact REF names.

    \b
    Example:
      artifactfs alias rm sentiment-analysis/sentiment-model:production production
    """
    _store(ctx.find_root()).remove_alias(ref, name)
    click.echo(f"removed {name}")


@cli.command()
@click.argument("a")
@click.argument("b")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def diff(ctx: click.Context, a: str, b: str, as_json: bool) -> None:
    """Entries added, removed and changed between two versions (B may be name:vN of A's project).

    \b
    Example:
      artifactfs diff sentiment-analysis/processed-dataset:v0 v1
    """
    store = _store(ctx)
    left = store.artifact(a)
    right = store.artifact(
        b if "/" in b else f"{left.project}/{left.name}:{b}" if ":" not in b else f"{left.project}/{b}"
    )
    d = diff_versions(left, right)
    out = d.to_dict()
    text = "\n".join(
        [f"{d.a} -> {d.b}"]
        + [f"+ {p}" for p in d.added]
        + [f"- {p}" for p in d.removed]
        + [f"~ {p}" for p in d.changed]
        + [f"    {n}" for n in d.notes]
        + [f"{len(d.added)} added, {len(d.removed)} removed, {len(d.changed)} changed"]
    )
    _emit(out, as_json, text)


@cli.command()
@click.argument("ref")
@click.option("--up", is_flag=True, help="What it was made from (the default).")
@click.option("--down", is_flag=True, help="What was made from it.")
@click.option("--both", is_flag=True, help="Both directions.")
@click.option("--depth", type=click.IntRange(min=0), help="Follow at most this many edges.")
@click.option(
    "--format", "fmt", type=click.Choice(["tree", "dot", "mermaid", "json"]), default="tree", show_default=True
)
@click.pass_context
def lineage(ctx: click.Context, ref: str, up: bool, down: bool, both: bool, depth: int | None, fmt: str) -> None:
    """Show the runs and versions a version came from (--up) or led to (--down).

    \b
    Examples:
      artifactfs lineage sentiment-analysis/sentiment-model:v3
      artifactfs lineage sentiment-analysis/processed-dataset:v0 --down --format mermaid
    """
    chosen = [name for name, on in (("--up", up), ("--down", down), ("--both", both)) if on]
    if len(chosen) > 1:
        raise click.UsageError(f"{' and '.join(chosen)} conflict: pick one direction (--both shows both)")
    direction = "downstream" if down else "both" if both else "upstream"
    graph = _store(ctx).lineage(ref, direction, depth)
    if fmt == "tree":
        click.echo(graph.to_tree(), nl=False)
    else:
        click.echo({"dot": graph.to_dot, "mermaid": graph.to_mermaid, "json": graph.to_json}[fmt](), nl=False)


@cli.command()
@click.argument("project")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def runs(ctx: click.Context, project: str, as_json: bool) -> None:
    """List the runs of PROJECT, oldest first.

    \b
    Example:
      artifactfs runs sentiment-analysis --json
    """
    rows = [
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
        for r in _store(ctx).runs(project)
    ]
    text = "\n".join(
        f"{r['started_at'][:19]}  {r['id']}  {r['job_type'] or '-':14} {r['status']:9} "
        f"in: {', '.join(r['inputs']) or '-'}  out: {', '.join(r['outputs']) or '-'}"
        for r in rows
    )
    _emit(rows, as_json, text)


@cli.command()
@click.argument("ref")
@click.argument("dest")
@click.pass_context
def reproduce(ctx: click.Context, ref: str, dest: str) -> None:
    """Fetch the exact data, code and config that produced REF into DEST, with lineage.json.

    \b
    Example:
      artifactfs reproduce sentiment-analysis/sentiment-model:v3 ./repro
    """
    from .reproduce import reproduce as run_reproduce

    with progress("downloading") as cb:
        out = run_reproduce(ref, dest, store=_store(ctx), callback=cb)
    click.echo(f"{out}  (see {out / 'lineage.json'})")


@cli.command()
@click.option("--project", help="Only this project.")
@click.option("--deep", is_flag=True, help="Re-hash every blob instead of checking sizes.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def verify(ctx: click.Context, project: str | None, deep: bool, as_json: bool) -> None:
    """Check every version's record, manifest and blobs; exit 1 if anything is wrong.

    \b
    Examples:
      artifactfs verify
      artifactfs --store gs://bucket/prefix verify --deep --project sentiment-analysis
    """
    problems = open_store(ctx.obj["store"]).verify(project=project, deep=deep)
    if as_json:
        click.echo(json.dumps([{"kind": p.kind, "key": p.key, "message": p.message} for p in problems], indent=2))
    else:
        for p in problems:
            click.echo(str(p))
        click.echo(f"{len(problems)} problem(s) found" if problems else "ok: no problems found", err=bool(problems))
    if problems:
        sys.exit(1)


@cli.command()
@click.option(
    "--grace", default="24h", show_default=True, help="Keep unreferenced objects younger than this (e.g. 30m, 24h, 7d)."
)
@click.option("--delete", "really", is_flag=True, help="Delete; without it, only report what would be freed.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def gc(ctx: click.Context, grace: str, really: bool, as_json: bool) -> None:
    """Free blobs and manifests that no version references (a dry run unless --delete).

    \b
    Examples:
      artifactfs gc                 # what would be freed
      artifactfs gc --delete --grace 7d
    """
    report = open_store(ctx.obj["store"]).gc(grace=_duration(grace), dry_run=not really)
    data = {
        "dry_run": report.dry_run,
        "blobs": report.blobs,
        "manifests": report.manifests,
        "temp_files": report.temp_files,
        "bytes": report.bytes,
        "kept_young": report.kept_young,
    }
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    verb = "would free" if report.dry_run else "freed"
    click.echo(
        f"{verb} {report.count} object(s), {report.bytes:,} bytes ({report.blobs} blobs, "
        f"{report.manifests} manifests, {report.temp_files} temp files); "
        f"kept {report.kept_young} younger than {grace}"
    )
    if report.dry_run and report.count:
        click.echo("run again with --delete to free them")


@cli.command()
@click.argument("ref")
@click.option("--force", is_flag=True, help="Also delete a version that aliases point at or live versions need.")
@click.pass_context
def delete(ctx: click.Context, ref: str, force: bool) -> None:
    """Delete the version REF (project/name:v3, or name:latest); run gc afterwards to free its blobs.

    Refused without --force when aliases point at it or live versions depend on it (they
    reference it, or were made by runs that used it): the message names them.

    \b
    Example:
      artifactfs delete sentiment-analysis/processed-dataset:v0
    """
    deleted = open_store(ctx.obj["store"]).delete_version(ref, force=force)
    click.echo(f"deleted {deleted}")


@cli.command("copy")
@click.argument("src_url")
@click.argument("dst_url")
@click.argument("ref")
@click.option("--with-lineage", is_flag=True, help="Also copy upstream versions and the runs that made them.")
@click.option("--all-versions", is_flag=True, help="Copy every version of the artifact.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def copy_cmd(src_url: str, dst_url: str, ref: str, with_lineage: bool, all_versions: bool, as_json: bool) -> None:
    """Copy REF (project/name:v3) from the store SRC_URL to the store DST_URL.

    Only blobs the destination lacks are sent, each verified on the way; copying again
    sends nothing. Options for each store come from $ARTIFACTFS_STORAGE_OPTIONS.

    \b
    Example:
      artifactfs copy gs://team-a/store az://shared/store sentiment-analysis/sentiment-model:v3 --with-lineage
    """
    from .copy import copy

    with progress("copying blobs") as cb:
        report = copy(ref, src_url, dst_url, with_lineage=with_lineage, all_versions=all_versions, callback=cb)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "versions": report.versions,
                    "new_versions": report.new_versions,
                    "blobs": report.blobs,
                    "bytes": report.bytes,
                    "runs": report.runs,
                    "deleted": report.deleted,
                    "missing": report.missing,
                },
                indent=2,
            )
        )
        return
    click.echo(
        f"copied {', '.join(report.versions)}: {report.new_versions} new version(s), "
        f"{report.blobs} blob(s), {report.bytes:,} bytes, {report.runs} run record(s)"
    )
    if report.deleted:
        click.echo(f"not copied, deleted in the source: {', '.join(report.deleted)}")
    if report.missing:
        click.echo(f"not copied, not in the source: {', '.join(report.missing)}")


class _Bar(Callback):  # type: ignore[misc]
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
    bar = _Bar(label)
    try:
        yield bar
    finally:
        bar.close()


@cli.command()
@click.argument("store_url", required=False)
@click.pass_context
def browse(ctx: click.Context, store_url: str | None) -> None:
    """Explore a store in the terminal (default: --store, else the default store).

    \b
    Example:
      artifactfs browse gs://team-a/store
    """
    try:
        from tui.app import main as run_browser
    except ImportError as e:  # the tui package ships with artifactfs; this guards broken installs
        raise click.ClickException(f"the terminal browser is not installed: {e}") from None
    run_browser(store_url or ctx.obj["store"])


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _duration(text: str) -> dt.timedelta:
    """``30m``, ``24h``, ``7d``, ``1.5h`` or ``0`` as a timedelta; anything else is a usage error."""
    m = _DURATION.fullmatch(text.strip())
    if text.strip() == "0":
        return dt.timedelta(0)
    if m is None:
        raise click.BadParameter(f"{text!r} is not a duration like 30m, 24h or 7d")
    try:
        return dt.timedelta(**{_UNITS[m[2]]: float(m[1])})
    except OverflowError:
        raise click.BadParameter(f"{text!r} is longer than any duration this tool can hold") from None


def main() -> None:
    """Console-script entry point."""
    cli(obj={})
