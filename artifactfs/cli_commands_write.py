"""The commands that change what stores hold: put, alias set/rm, delete and copy, and the
store's upkeep: verify, gc and upgrade, with the durations gc's --grace takes. ``cli`` adds them to its
group; ``cli_output`` draws what they print."""

from __future__ import annotations

import sys
import warnings

import click

from .cli_output import (
    copy_data,
    duration,
    echo_copy,
    echo_gc,
    echo_json,
    echo_problems,
    emit,
    gc_data,
    problem_rows,
    progress,
)
from .errors import ArtifactStateError, SkippedPathWarning
from .store import open_store


@click.command()
@click.argument("path", type=click.Path(exists=True))
@click.option("--project", "-p", required=True, help="Project to log into.")
@click.option("--name", "-n", required=True, help="Artifact name.")
@click.option("--type", "-t", "type_", required=True, help="Artifact type (dataset, model, ...).")
@click.option("--alias", "-a", "aliases", multiple=True, help="Alias to point at the version (repeatable).")
@click.option("--description", "-d", help="Description of the version.")
@click.option("--tag", "tags", multiple=True, help="Tag of the version (repeatable).")
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
    tags: tuple[str, ...],
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

    with init(project=project, job_type="cli", store=open_store(ctx.obj["store"])) as run:
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
            logged = run.log_artifact(art, aliases=list(aliases), tags=list(tags), callback=cb)
    if logged.is_new:
        text = f"logged {logged.qualified_name}  aliases: {', '.join(logged.aliases)}"
    else:
        noted = f"; its {' and '.join(logged.annotated)} recorded as annotations" if logged.annotated else ""
        text = (
            f"unchanged: the same content is {logged.qualified_name} already; no new version was made{noted}  "
            f"aliases: {', '.join(logged.aliases)}"
        )
    emit(
        {
            "ref": logged.qualified_name,
            "digest": logged.digest,
            "aliases": logged.aliases,
            "new": logged.is_new,
            "annotated": list(logged.annotated),
        },
        as_json,
        text,
    )


@click.group()
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
    open_store(ctx.find_root().obj["store"]).set_alias(ref, name)
    click.echo(f"{name} -> {ref}")


@alias.command("rm")
@click.argument("ref")
@click.argument("name")
@click.pass_context
def alias_rm(ctx: click.Context, ref: str, name: str) -> None:
    """Remove the custom alias NAME from the artifact of REF (any of its versions names it).

    The version it pointed at stays; only the alias goes. ``latest`` cannot be removed.

    \b
    Example:
      artifactfs alias rm sentiment-analysis/sentiment-model production
    """
    open_store(ctx.find_root().obj["store"]).remove_alias(ref, name)
    click.echo(f"removed {name}")


@click.command()
@click.option("--project", help="Only this project.")
@click.option("--deep", is_flag=True, help="Re-hash every blob instead of checking sizes.")
@click.option(
    "--references", is_flag=True, help="Also check external references against their checksums (a request each)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def verify(ctx: click.Context, project: str | None, deep: bool, references: bool, as_json: bool) -> None:
    """Check every version's record, manifest and blobs; exit 1 if anything is wrong.

    Lineage that leads out of the store (a version copied without --with-lineage) is a
    warning: shown, but the exit code stays 0. --references also asks about every object
    an external reference points at (add_reference of a URI): one gone or changed since it
    was logged is a problem.

    \b
    Examples:
      artifactfs verify
      artifactfs --store gs://bucket/prefix verify --deep --project sentiment-analysis
      artifactfs verify --references
    """
    store = open_store(ctx.obj["store"])
    problems = store.verify(project=project, deep=deep, lineage=True, references=references)
    if as_json:
        echo_json(problem_rows(problems))
    else:
        echo_problems(problems)
    if any(not p.warning for p in problems):
        sys.exit(1)


@click.command()
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
    report = open_store(ctx.obj["store"]).gc(grace=duration(grace), dry_run=not really)
    if as_json:
        echo_json(gc_data(report))
        return
    echo_gc(report, grace)


@click.command()
@click.option("--check", is_flag=True, help="Only say what would change.")
@click.pass_context
def upgrade(ctx: click.Context, check: bool) -> None:
    """Make the store the newest format (3) now, instead of when a version first needs it.

    Releases that read an older format refuse the store afterwards (docs/format.md,
    Compatibility); nothing stored is rewritten.

    \b
    Examples:
      artifactfs upgrade --check
      artifactfs --store gs://bucket/prefix upgrade
    """
    store = open_store(ctx.obj["store"])
    before, after = store.upgrade(dry_run=check)
    if before == after:
        click.echo(f"{store.url} is already format {after}: nothing to do")
    elif check:
        click.echo(f"{store.url} is format {before}; upgrade would make it format {after}")
    else:
        click.echo(f"{store.url}: format {before} -> {after} (releases reading format {before} at most now refuse it)")


@click.command()
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
    try:
        deleted = open_store(ctx.obj["store"]).delete_version(ref, force=force)
    except ArtifactStateError as e:  # the API's advice, in the command line's words
        raise ArtifactStateError(str(e).replace("force=True", "--force")) from None
    click.echo(f"deleted {deleted}")


@click.command("copy")
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
        echo_json(copy_data(report))
        return
    echo_copy(report)
