"""The commands of the registry (``link``, ``unlink``, ``registry``) and of retention policies
(``retention set|show|apply``). ``cli`` adds them to its group."""

from __future__ import annotations

from typing import Any

import click

from .cli_output import echo_json, echo_rows
from .errors import ArtifactStateError
from .policy import policy_fields
from .refs import LATEST, REGISTRY
from .store import open_store


def _store(ctx: click.Context) -> Any:
    return open_store(ctx.find_root().obj["store"])


def _cli_words(e: ArtifactStateError) -> ArtifactStateError:
    return ArtifactStateError(str(e).replace("force=True", "--force"))


@click.command()
@click.argument("ref")
@click.argument("collection")
@click.option("--alias", "-a", "aliases", multiple=True, help="Move this alias of the collection to it (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def link(ctx: click.Context, ref: str, collection: str, aliases: tuple[str, ...], as_json: bool) -> None:
    """Link the version REF into the registry collection COLLECTION (made on first use).

    The collection gets a version of its own, registry/COLLECTION:vN, with the same content
    (nothing is copied) and the lineage of REF. Promote with an alias:
    artifactfs alias set registry/COLLECTION:v2 production (history: artifactfs alias history).

    \b
    Example:
      artifactfs link sentiment-analysis/sentiment-model:v3 sentiment-classifier --alias staging
    """
    made = _store(ctx).link(ref, collection, aliases=aliases)
    data = {
        "ref": made.qualified_name,
        "linked_from": made.source_qualified_name,
        "new": made.is_new,
        "aliases": made.aliases,
    }
    if as_json:
        echo_json(data)
        return
    how = "linked" if made.is_new else "already linked"
    click.echo(f"{how}: {made.qualified_name} -> {made.source_qualified_name}  aliases: {', '.join(made.aliases)}")


@click.command()
@click.argument("ref")
@click.option("--force", is_flag=True, help="Also unlink a registry version that custom aliases point at.")
@click.pass_context
def unlink(ctx: click.Context, ref: str, force: bool) -> None:
    """Remove the registry version REF (registry/COLLECTION:vN); the version it links to stays.

    \b
    Example:
      artifactfs unlink registry/sentiment-classifier:v0
    """
    try:
        gone = _store(ctx).unlink(ref, force=force)
    except ArtifactStateError as e:
        raise _cli_words(e) from None
    click.echo(f"unlinked {gone}")


@click.command()
@click.argument("collection", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def registry(ctx: click.Context, collection: str | None, as_json: bool) -> None:
    """List the registry's collections, or the versions of COLLECTION with what each links to.

    \b
    Example:
      artifactfs registry sentiment-classifier
    """
    store = _store(ctx)
    rows: list[dict[str, Any]]
    if collection is None:
        rows = [
            {"collection": s.name, "type": s.type, "versions": s.version_count, "updated": s.updated_at}
            for s in (store.artifacts(REGISTRY) if store.collections() else [])
        ]
    else:
        name = collection.removeprefix(f"{REGISTRY}/")
        rows = [
            {
                "version": a.qualified_name,
                "linked_from": a.source_qualified_name,
                "aliases": ", ".join(x for x in a.aliases if x != LATEST),
                "created": a.created_at,
            }
            for a in store.versions(REGISTRY, name)
        ]
    if as_json:
        echo_json(rows)
    elif rows:
        echo_rows(rows)
    else:
        click.echo("the registry is empty: link a version with artifactfs link REF COLLECTION")


@click.group()
def retention() -> None:
    """Retention policies kept in the store, and applying them."""


def _target(target: str) -> tuple[str, str | None]:
    project, _, name = target.partition("/")
    return project, name or None


@retention.command("set")
@click.argument("target")
@click.option("--keep-last", type=int, help="Keep the newest N versions of each artifact.")
@click.option("--older-than", help="Delete only versions older than this (30d, 12h, 2w).")
@click.option("--protect", multiple=True, help="Never delete a version this alias points at (repeatable).")
@click.option("--clear", is_flag=True, help="Remove the policy.")
@click.pass_context
def retention_set(
    ctx: click.Context,
    target: str,
    keep_last: int | None,
    older_than: str | None,
    protect: tuple[str, ...],
    clear: bool,
) -> None:
    """Set the retention policy of TARGET: a project (each artifact without a policy of its
    own), or project/name. It replaces the one set before.

    \b
    Example:
      artifactfs retention set sentiment-analysis --keep-last 10 --older-than 30d --protect production
    """
    if not clear and keep_last is None and older_than is None and not protect:
        raise click.UsageError("say what to keep: --keep-last, --older-than, --protect (or --clear)")
    project, name = _target(target)
    policy = _store(ctx).set_retention(project, name, keep_last=keep_last, older_than=older_than, protect=protect)
    click.echo(f"{target}: {policy.describe()}")


@retention.command("show")
@click.argument("target")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def retention_show(ctx: click.Context, target: str, as_json: bool) -> None:
    """Show the retention policy that applies to TARGET (project or project/name), and where it is set."""
    project, name = _target(target)
    policy = _store(ctx).retention_policy(project, name)
    if as_json:
        echo_json(policy_fields(policy) if policy is not None else None)
    elif policy is None:
        click.echo(f"{target}: no retention policy")
    else:
        by = f" by {policy.user}" if policy.user else ""
        click.echo(f"{target}: {policy.describe()} (set on the {policy.scope} {policy.set_at}{by})")


@retention.command("apply")
@click.argument("target")
@click.option("--keep-last", type=int, help="Instead of the policy: keep the newest N.")
@click.option("--older-than", help="Instead of the policy: delete only versions older than this (30d).")
@click.option("--force", is_flag=True, help="Also delete versions with custom aliases or that others depend on.")
@click.option("--dry-run", is_flag=True, help="Only list what would be deleted.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before deleting.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def retention_apply(
    ctx: click.Context,
    target: str,
    keep_last: int | None,
    older_than: str | None,
    force: bool,
    dry_run: bool,
    yes: bool,
    as_json: bool,
) -> None:
    """Delete what the retention policy of TARGET (project or project/name) lets go, after
    listing it. Versions a protected alias points at, and versions linked in the registry,
    are always kept. Run gc afterwards to free their blobs.

    \b
    Example:
      artifactfs retention apply sentiment-analysis --dry-run
    """
    store = _store(ctx)
    project, name = _target(target)
    args: dict[str, Any] = {"keep_last": keep_last, "older_than": older_than, "force": force}
    plan = store.apply_retention(project, name, dry_run=True, **args)
    if as_json and (dry_run or not plan):
        echo_json({"deleted": [], "would_delete": plan})
        return
    if not as_json:
        click.echo(f"{len(plan)} version(s) to delete" + "".join(f"\n  {qn}" for qn in plan))
    if dry_run or not plan:
        return
    if not yes and not click.confirm("delete them?", default=False, err=True):
        click.echo("nothing deleted")
        return
    try:
        done = store.apply_retention(project, name, **args)
    except ArtifactStateError as e:
        raise _cli_words(e) from None
    if as_json:
        echo_json({"deleted": done, "would_delete": []})
    else:
        click.echo(f"deleted {len(done)} version(s); run artifactfs gc --delete to free their blobs")
