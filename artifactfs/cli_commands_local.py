"""The commands for this machine's side: ``checkout`` (make a folder a version) and ``status``
(what a downloaded folder holds, and what changed in it). ``cli`` adds them to its group."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from .checkout import where_from
from .cli_output import emit, progress
from .errors import InvalidInputError
from .folders import FolderStatus, Selection
from .settings import default_cache_dir
from .store import open_store

SHOWN = 20  # paths listed per kind of difference (all of them with --json)


def selection_options(f: Any) -> Any:
    """``--prefix``, ``--include`` and ``--exclude``: part of a version (``get``, ``checkout``)."""
    f = click.option("--exclude", multiple=True, metavar="GLOB", help="Leave out entries matching GLOB (repeatable).")(
        f
    )
    f = click.option(
        "--include", multiple=True, metavar="GLOB", help="Only entries matching GLOB, e.g. '*.csv' (repeatable)."
    )(f)
    return click.option("--prefix", "path_prefix", metavar="PATH", help="Only entries under PATH, e.g. data/.")(f)


def status_text(status: FolderStatus, head: str) -> str:
    """``head``, then each difference (the first :data:`SHOWN` of each kind), then a count."""
    lines = [head]
    for kind, paths in (("missing", status.missing), ("changed", status.changed), ("extra", status.extra)):
        lines += [f"  {kind:<8} {p}" for p in paths[:SHOWN]]
        if len(paths) > SHOWN:
            lines.append(f"  {kind:<8} … and {len(paths) - SHOWN:,} more (--json lists all)")
    if status.ok:
        lines.append(f"clean: the folder holds exactly {status.version}{_part(status.selection)}")
    else:
        n = len(status.missing) + len(status.changed) + len(status.extra)
        lines.append(
            f"{n:,} difference(s): {len(status.missing):,} missing, {len(status.changed):,} changed, "
            f"{len(status.extra):,} extra"
        )
    return "\n".join(lines)


def _part(selection: Selection) -> str:
    return f" ({selection.describe()})" if not selection.everything else ""


@click.command("checkout")
@click.argument("ref")
@click.argument("path")
@selection_options
@click.option("--yes", "-y", is_flag=True, help="Replace changed files and remove extra ones without asking.")
@click.option("--copy", is_flag=True, help="Write private, writable copies instead of read-only links to the cache.")
@click.option("--json", "as_json", is_flag=True, help="Print what differed before, as JSON.")
@click.pass_context
def checkout_cmd(
    ctx: click.Context,
    ref: str,
    path: str,
    path_prefix: str | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    yes: bool,
    copy: bool,
    as_json: bool,
) -> None:
    """Make the folder PATH hold exactly version REF: fetch missing and changed files, remove
    extra ones (asked first, unless --yes). Every byte fetched is verified.

    \b
    Example:
      artifactfs checkout sentiment-analysis/processed-dataset:v3 ./data
    """
    art = open_store(ctx.obj["store"]).artifact(ref)
    part: dict[str, Any] = {"path_prefix": path_prefix, "include": include, "exclude": exclude}
    if os.path.isdir(path):
        before = art.verify(path, **part)
        if before.ok:
            emit(before.to_dict(), as_json, f"{path} already holds {art.qualified_name}{_part(before.selection)}")
            return
        if (before.changed or before.extra) and not yes:
            if not as_json:
                click.echo(status_text(before, f"{path} against {art.qualified_name}:"), err=True)
            if not sys.stdin.isatty():
                raise InvalidInputError(
                    f"checkout would replace {len(before.changed):,} changed and remove {len(before.extra):,} extra "
                    f"file(s) in {path}: pass --yes to do it"
                )
            click.confirm(
                f"Replace {len(before.changed):,} changed and remove {len(before.extra):,} extra file(s)?",
                abort=True,
                err=True,
            )
    with progress("checking out") as cb:
        done = art.checkout(path, copy=copy, callback=cb, **part)
    text = (
        f"checked out {art.qualified_name} into {path}: {len(done.missing):,} fetched, "
        f"{len(done.changed):,} replaced, {len(done.extra):,} removed"
    )
    emit(done.to_dict(), as_json, text)


@click.command("status")
@click.argument("path", default=".")
@click.option("--against", "ref", metavar="REF", help="Compare with this version (default: the one downloaded).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def status_cmd(ctx: click.Context, path: str, ref: str | None, as_json: bool) -> None:
    """Which version the folder PATH came from, and what changed in it since: files missing,
    changed and extra (a download or checkout of this machine is remembered; a folder it
    does not know needs --against).

    \b
    Example:
      artifactfs status ./artifacts/processed-dataset-v3
    """
    if not os.path.isdir(path):
        raise InvalidInputError(f"{path} is not a folder")
    store = open_store(ctx.obj["store"]) if ref is not None or ctx.obj["store"] else None
    record = where_from(store.cache.root if store is not None else default_cache_dir(), path)
    if record is None and ref is None:
        raise InvalidInputError(f"this machine did not download or check out {path}: name a version with --against REF")
    if store is None:
        assert record is not None
        store = open_store(record.store)
    art = store.artifact(ref if ref is not None else record.version)  # type: ignore[union-attr]
    selection = record.selection if record is not None and ref is None else Selection()
    status = art.verify(path, **selection.to_dict())
    head = f"{path}: {art.qualified_name} of {store.url}"
    if record is not None and ref is None:
        when = record.at[:19].replace("T", " ")
        head += f" (downloaded {when}{'' if selection.everything else ', ' + selection.describe()})"
        if str(art.manifest_digest) != record.manifest:
            head += f"\nnote: {store.url} now has other content under that name than was downloaded"
    data = status.to_dict() | {"store": store.url, "downloaded_at": record.at if record else None}
    emit(data, as_json, status_text(status, head))
