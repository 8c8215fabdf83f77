"""The commands that read a store and change nothing in it: info, ls, show, get, cat, diff,
lineage, runs and reproduce. ``cli`` adds them to its group; ``cli_output`` draws what they
print."""

from __future__ import annotations

import sys
from typing import Any

import click

from . import __version__
from .cli_commands_local import selection_options
from .cli_output import (
    artifact_rows,
    diff_text,
    echo_info,
    echo_json,
    echo_rows,
    echo_version,
    emit,
    file_rows,
    lineage_text,
    progress,
    project_rows,
    run_data,
    run_rows,
    run_text,
    runs_text,
    version_data,
    version_rows,
)
from .diff import diff as diff_versions
from .settings import CACHE_ENV, STORE_ENV, default_cache_dir, default_store_url
from .store import open_store


def _store(ctx: click.Context) -> Any:
    return open_store(ctx.obj["store"])


@click.command()
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
        echo_json(data)
        return
    echo_info(data)


@click.command("ls")
@click.argument("path", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Versions of PROJECT/NAME to list: the newest ones.",
)
@click.option("--before", metavar="VERSION", help="List the versions older than this one (v123 or 123).")
@click.option("--all", "all_versions", is_flag=True, help="List every version (reads every record).")
@click.pass_context
def ls(ctx: click.Context, path: str | None, as_json: bool, limit: int, before: str | None, all_versions: bool) -> None:
    """List projects, the artifacts of PROJECT, the versions of PROJECT/NAME, or the files of
    the version PROJECT/NAME:TAG (with when each purged file was purged).

    Versions are listed a page at a time: the newest --limit of them (oldest of the page
    first); --before continues with older ones.

    \b
    Examples:
      artifactfs ls
      artifactfs ls sentiment-analysis
      artifactfs ls sentiment-analysis/processed-dataset
      artifactfs ls sentiment-analysis/processed-dataset --before v950
      artifactfs ls sentiment-analysis/processed-dataset:v3
    """
    store = open_store(ctx.obj["store"])
    rows: list[dict[str, Any]]
    if not path:
        rows = project_rows(store.projects())
    elif "/" not in path:
        rows = artifact_rows(store.artifacts(path))
    elif ":" in path:
        rows = file_rows(store.artifact(path))
    else:
        project, name = path.split("/", 1)
        below = _version_number(before) if before is not None else None
        if all_versions:
            rows = version_rows(store.versions(project, name, before=below))
        else:
            page = store.versions(project, name, limit=limit + 1, before=below)
            rows = version_rows(page[:limit][::-1])
            if len(page) > limit:
                oldest = page[limit - 1].version
                click.echo(f"(the newest {limit} listed; older ones: artifactfs ls {path} --before {oldest})", err=True)
    if as_json:
        echo_json(rows)
        return
    echo_rows(rows)


def _version_number(text: str) -> int:
    digits = text.removeprefix("v")
    if not digits.isdigit():
        raise click.BadParameter(f"{text!r} is not a version (v123 or 123)", param_hint="--before")
    return int(digits)


@click.command()
@click.argument("ref")
@click.option("--limit", default=1000, show_default=True, help="Files to list at most (a note says how many more).")
@click.option("--folder", default="", help="Only the files under this folder.")
@click.option("--all", "show_all", is_flag=True, help="List every file, however many.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def show(ctx: click.Context, ref: str, limit: int, folder: str, show_all: bool, as_json: bool) -> None:
    """Show one version: manifest, metadata, aliases, logged-by run, references and files.

    A large version lists its first files only, reading only the part of its manifest that
    holds them (--all lists every one; --folder those under one folder).

    \b
    Examples:
      artifactfs show sentiment-analysis/sentiment-model:candidate
      artifactfs show images/train:latest --folder cats --limit 20
    """
    if limit < 1:
        raise click.BadParameter("must be at least 1", param_hint="--limit")
    art = _store(ctx).artifact(ref)
    run = art.logged_by()
    files = art.files(folder, limit=None if show_all else limit + 1)
    more = len(files) > limit and not show_all
    data = version_data(art, run, files[:limit] if more else files)
    if more:
        shown = "--folder " + folder + " " if folder else ""
        click.echo(f"first {limit:,} files shown: show {ref} {shown}--all lists every one", err=True)
    if as_json:
        emit(data, True)
        return
    echo_version(art, run, data)


@click.command()
@click.argument("ref")
@click.argument("dest", required=False)
@selection_options
@click.option("--copy", is_flag=True, help="Write private, writable copies instead of read-only links to the cache.")
@click.option(
    "--allow-missing-references", is_flag=True, help="Skip external references whose objects are gone (named)."
)
@click.pass_context
def get(
    ctx: click.Context,
    ref: str,
    dest: str | None,
    path_prefix: str | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    copy: bool,
    allow_missing_references: bool,
) -> None:
    """Download a version to DEST (default ./artifacts/<name>-v<N>); every byte is verified.

    Files are read-only hard links into the local blob cache when both are on one
    filesystem, so downloading the same bytes again writes nothing. --prefix, --include and
    --exclude take part of the version: only those files are fetched.

    \b
    Examples:
      artifactfs get sentiment-analysis/processed-dataset:latest ./data
      artifactfs get project/images:v2 --include '*.png' --exclude 'tmp/*'
    """
    art = _store(ctx).artifact(ref)
    with progress("downloading") as cb:
        path = art.download(
            dest,
            copy=copy,
            callback=cb,
            path_prefix=path_prefix,
            include=include,
            exclude=exclude,
            allow_missing_references=allow_missing_references,
        )
    click.echo(path)


@click.command()
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


@click.command()
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
    emit(d.to_dict(), as_json, diff_text(d))


@click.command()
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
    click.echo(lineage_text(graph, fmt), nl=False)
    missing = [f"{n.kind} {n.id.split(':', 1)[1]}" for n in graph.nodes.values() if n.attrs.get("missing")]
    if missing:
        click.echo(
            f"note: {len(missing)} node(s) are not in this store (e.g. {missing[0]}); if these versions were "
            "copied from another store, copy them again with --with-lineage to bring their lineage",
            err=True,
        )


@click.command()
@click.argument("project")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def runs(ctx: click.Context, project: str, as_json: bool) -> None:
    """List the runs of PROJECT, newest first (as the browser does).

    \b
    Example:
      artifactfs runs sentiment-analysis --json
    """
    rows = run_rows(reversed(_store(ctx).runs(project)))
    emit(rows, as_json, runs_text(rows))


@click.command("run")
@click.argument("ref", metavar="PROJECT/ID")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def run_cmd(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Show one run: status, config, the versions it used and logged, its git commit, and the
    summary and history it logged (run.summary, run.log).

    \b
    Example:
      artifactfs run sentiment-analysis/20261128-101500-1a2b3c4d
    """
    project, _, run_id = ref.partition("/")
    if not project or not run_id:
        raise click.BadParameter(f"{ref!r}: give PROJECT/ID (artifactfs runs PROJECT lists them)", param_hint="REF")
    data = run_data(_store(ctx).run(project, run_id))
    emit(data, as_json, run_text(data))


@click.command()
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
