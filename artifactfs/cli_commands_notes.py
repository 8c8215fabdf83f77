"""The commands about what is said of versions: ``tag add|rm``, ``annotate`` and ``alias
history`` (which change it without changing the version), ``search`` and ``reindex``. ``cli``
adds them to its group."""

from __future__ import annotations

import json
from typing import Any

import click

from .cli_commands_write import alias
from .cli_output import echo_json, echo_rows, emit
from .errors import InvalidInputError
from .store import open_store


def _store(ctx: click.Context) -> Any:
    return open_store(ctx.find_root().obj["store"])


@click.group("tag")
def tag_group() -> None:
    """Add or remove tags of a version (its content and number stay the same)."""


@tag_group.command("add")
@click.argument("ref")
@click.argument("tags", nargs=-1, required=True)
@click.pass_context
def tag_add(ctx: click.Context, ref: str, tags: tuple[str, ...]) -> None:
    """Add TAGS to the version REF names.

    \b
    Example:
      artifactfs tag add sentiment-analysis/sentiment-model:v3 reviewed
    """
    art = _store(ctx).artifact(ref)
    art.annotate(add_tags=tags)
    click.echo(f"{art.qualified_name}  tags: {', '.join(art.tags) or '-'}")


@tag_group.command("rm")
@click.argument("ref")
@click.argument("tags", nargs=-1, required=True)
@click.pass_context
def tag_rm(ctx: click.Context, ref: str, tags: tuple[str, ...]) -> None:
    """Remove TAGS from the version REF names (tags it does not have are ignored)."""
    art = _store(ctx).artifact(ref)
    art.annotate(remove_tags=tags)
    click.echo(f"{art.qualified_name}  tags: {', '.join(art.tags) or '-'}")


def _metadata(text: str | None, pairs: tuple[str, ...], current: dict[str, Any]) -> dict[str, Any] | None:
    if text is None and not pairs:
        return None
    base: dict[str, Any]
    if text is not None:
        try:
            given = json.loads(text)
        except json.JSONDecodeError as e:
            raise InvalidInputError(f"--metadata must be a JSON object: {e}") from None
        if not isinstance(given, dict):
            raise InvalidInputError(f"--metadata must be a JSON object, got {type(given).__name__}")
        base = given
    else:
        base = dict(json.loads(json.dumps(current)))  # an editable copy of what is there
    for pair in pairs:
        key, eq, raw = pair.partition("=")
        if not eq or not key:
            raise InvalidInputError(f"--set takes KEY=VALUE (a dotted KEY reaches into nested maps), got {pair!r}")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw  # a bare word is a string
        *path, leaf = key.split(".")
        node = base
        for part in path:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise InvalidInputError(f"--set {key}: {part!r} holds a value, not a map")
        node[leaf] = value
    return base


@click.command()
@click.argument("ref")
@click.option("--description", "-d", help="The new description ('' clears it).")
@click.option("--metadata", "metadata_json", help="The new metadata, a JSON object (replaces the old).")
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE", help="Set one metadata field (repeatable).")
@click.option("--tag", "tags", multiple=True, help="Add a tag (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def annotate(
    ctx: click.Context,
    ref: str,
    description: str | None,
    metadata_json: str | None,
    pairs: tuple[str, ...],
    tags: tuple[str, ...],
    as_json: bool,
) -> None:
    """Change the description, metadata or tags of the version REF names, as an annotation
    beside it: its content digest, manifest and number stay the same.

    \b
    Example:
      artifactfs annotate sentiment-analysis/sentiment-model:v3 --set eval.accuracy=0.93 --tag reviewed
    """
    art = _store(ctx).artifact(ref)
    fields: dict[str, Any] = {}
    if description is not None:
        fields["description"] = description or None
    metadata = _metadata(metadata_json, pairs, dict(art.metadata))
    if metadata is not None:
        fields["metadata"] = metadata
    if not fields and not tags:
        raise click.UsageError("say what to change: --description, --metadata, --set or --tag")
    art.annotate(add_tags=tags, **fields)
    data = {"ref": art.qualified_name, "description": art.description, "metadata": art.metadata, "tags": art.tags}
    emit(data, as_json, "\n".join(f"{k:12} {json.dumps(v) if k == 'metadata' else v}" for k, v in data.items()))


@alias.command("history")
@click.argument("ref")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def alias_history(ctx: click.Context, ref: str, name: str, as_json: bool) -> None:
    """Every move of alias NAME on the artifact of REF, oldest first: which version, when, by
    which run ("-": removed)."""
    rows = [
        {"version": h.version or "-", "at": h.created_at, "run": h.run_id or "-"}
        for h in _store(ctx).alias_history(ref, name)
    ]
    if as_json:
        echo_json(rows)
    elif rows:
        echo_rows(rows)
    else:
        click.echo(f"alias {name} was never set")


@click.command()
@click.option("--project", "-p", help="Only this project.")
@click.option("--type", "-t", "type_", help="Only this artifact type.")
@click.option("--name", "-n", help="Only this artifact.")
@click.option("--tag", "tags", multiple=True, help="Only versions holding this tag (repeatable: all of them).")
@click.option("--where", "-w", help="metadata.eval.accuracy > 0.9 and type == model (see below).")
@click.option("--after", "created_after", help="Only versions created after this ISO 8601 time.")
@click.option("--order-by", default="-created_at", show_default=True, help="A field; '-' first: descending.")
@click.option("--limit", default=50, show_default=True, help="At most this many versions.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def search(
    ctx: click.Context,
    project: str | None,
    type_: str | None,
    name: str | None,
    tags: tuple[str, ...],
    where: str | None,
    created_after: str | None,
    order_by: str,
    limit: int,
    as_json: bool,
) -> None:
    """Find versions by what they are, from the index in the store (no manifest is read).

    --where takes comparisons (== != > >= < <=, ~ for contains, is null) of version fields
    (project, name, version, type, created_at, description) and metadata (metadata.a.b),
    joined by and, or, not and parentheses.

    \b
    Example:
      artifactfs search --type model --tag reviewed --where "metadata.eval.accuracy > 0.9" --limit 1
    """
    hits = _store(ctx).search(
        project=project,
        type=type_,
        name=name,
        tags=tags or None,
        where=where,
        created_after=created_after,
        order_by=order_by,
        limit=limit,
    )
    rows = [
        {
            "version": h.qualified_name,
            "type": h.type,
            "created_at": h.created_at,
            "tags": ", ".join(h.tags) if not as_json else list(h.tags),
            "metadata": json.dumps(h.metadata, sort_keys=True) if not as_json else h.metadata,
        }
        for h in hits
    ]
    if as_json:
        echo_json(rows)
    elif rows:
        echo_rows(rows)
    else:
        click.echo("no version matches")


@click.command()
@click.pass_context
def reindex(ctx: click.Context) -> None:
    """Index every version of the store for search (a store logged before the index existed,
    or one whose index was lost), then compact the index."""
    n = _store(ctx).reindex()
    click.echo(f"indexed {n:,} version(s)")
