"""The commands for this machine's side: ``checkout`` (make a folder a version), ``status``
(what a downloaded folder holds, and what changed in it) and ``cache`` (info, prune, clear).
``cli`` adds them to its group."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import sys
from typing import Any

import click

from .cache import BlobCache, CacheReport
from .checkout import registry, where_from
from .cli_output import duration, echo_json, echo_rows, emit, human_size, progress
from .errors import InvalidInputError
from .folders import FolderStatus, Selection
from .settings import CACHE_MAX_ENV, default_cache_dir, parse_size
from .spool import pending, sync
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
    record = where_from(store.cache if store is not None else _cache(), path)
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


@click.group("cache")
def cache_group() -> None:
    """This machine's blob cache: what it holds, and making it smaller.

    The cache is capped by $ARTIFACTFS_CACHE_MAX (e.g. 20GB; none for no cap; default 10% of
    the disk, between 1 and 50 GB): a download evicts the least recently used blobs first.
    Blobs that download folders link to are held: removing them would free nothing.
    """


def _cache() -> BlobCache:
    return BlobCache(default_cache_dir())


def _cap_text(report: CacheReport, given: bool = False) -> str:
    if given:
        return f"pruned to {human_size(report.max_bytes or 0)} (--max-size)"
    if report.max_bytes is None:
        return f"no cap (${CACHE_MAX_ENV}=none)"
    where = f"${CACHE_MAX_ENV}" if os.environ.get(CACHE_MAX_ENV) else "the default: 10% of the disk, 1-50 GB"
    return f"cap {human_size(report.max_bytes)} ({where})"


def _report_data(report: CacheReport) -> dict[str, Any]:
    data = {k: v for k, v in dataclasses.asdict(report).items() if k != "versions"}
    return data | {"own_bytes": report.own_bytes}


def _totals(report: CacheReport, given: bool = False) -> str:
    return (
        f"cache {report.root}: {report.blobs:,} blobs, {human_size(report.bytes)}; {_cap_text(report, given)}\n"
        f"  held by download folders: {report.held_blobs:,} blobs, {human_size(report.held_bytes)} "
        "(freed only when those folders are removed)\n"
        f"  the cache's own: {human_size(report.own_bytes)}"
        + "".join(f"\n  {what}: {human_size(n)} (not evicted)" for what, n in report.beside.items() if n)
    )


@cache_group.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def cache_info(as_json: bool) -> None:
    """What the cache holds: its size against the cap, the bytes download folders hold, the
    versions used here (most recent first) and the download folders; besides, the size of its
    databases, partial downloads and offline spool (never evicted, not counted in the cap)."""
    cache = _cache()
    report = cache.scan()
    artifacts: dict[tuple[str, str], dict[str, Any]] = {}
    for use in report.versions:
        name = use.version.rsplit(":", 1)[0]
        row = artifacts.setdefault(
            (use.store, name), {"artifact": name, "versions": 0, "size": 0, "last_used_at": None, "store": use.store}
        )
        row["versions"] += 1
        row["size"] += use.size
        row["last_used_at"] = max(row["last_used_at"] or "", _iso(use.used_at))
    folders = registry(cache)
    try:
        known = folders.all()
    finally:
        folders.close()
    folder_rows = [
        {"folder": f.path, "version": f.version, "exists": os.path.isdir(f.path), "downloaded_at": f.at}
        for f in sorted(known, key=lambda f: f.at, reverse=True)
    ]
    unsynced = pending(cache)
    if as_json:
        extra = {"artifacts": list(artifacts.values()), "folders": folder_rows, "unsynced_runs": unsynced}
        echo_json(_report_data(report) | extra)
        return
    click.echo(_totals(report))
    for url, n in unsynced.items():
        click.echo(f"  runs logged offline, not yet synced to {url}: {n} (artifactfs sync --store {url})")
    if artifacts:
        click.echo()
        echo_rows(list(artifacts.values()))
    if folder_rows:
        click.echo()
        echo_rows([{k: ("yes" if v is True else "no" if v is False else v) for k, v in r.items()} for r in folder_rows])


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat()


@cache_group.command("prune")
@click.option("--max-size", metavar="SIZE", help="Evict until the cache's own bytes fit in SIZE (default: the cap).")
@click.option("--older-than", metavar="AGE", help="Also evict every blob unused for AGE (e.g. 30d, 12h).")
@click.option("--dry-run", is_flag=True, help="Say what would go; remove nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def cache_prune(max_size: str | None, older_than: str | None, dry_run: bool, as_json: bool) -> None:
    """Evict the least recently used blobs (never those download folders hold).

    \b
    Examples:
      artifactfs cache prune --max-size 10GB
      artifactfs cache prune --older-than 30d --dry-run
    """
    limit = parse_size(max_size, "--max-size") if max_size is not None else None
    age = duration(older_than).total_seconds() if older_than is not None else None
    report = _cache().prune(limit, age, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    removed = f"{verb} {report.removed_blobs:,} blobs, {human_size(report.removed_bytes)}"
    text = f"{removed}\n{_totals(report, limit is not None)}"
    emit(_report_data(report), as_json, text)


@cache_group.command("clear")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def cache_clear(as_json: bool) -> None:
    """Remove every cached blob (download folders keep their files; what is needed again is
    fetched again)."""
    report = _cache().clear()
    text = f"removed {report.removed_blobs:,} blobs, freeing {human_size(report.removed_bytes)}"
    emit(_report_data(report), as_json, text)


@click.command("sync")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def sync_cmd(ctx: click.Context, as_json: bool) -> None:
    """Publish the runs logged offline (mode="offline" or $ARTIFACTFS_OFFLINE) to their store:
    in the order they ran, their versions getting numbers then, lineage kept. Only the spool of
    --store when it is given. Safe to run again: what was published is not sent twice.

    \b
    Example:
      artifactfs sync --store gs://team/store
    """
    url = ctx.obj["store"]
    report = sync(url or None)  # every spool of this machine without --store
    if not report.runs:
        text = "nothing to sync" + (f" ({report.already} run(s) synced before)" if report.already else "")
    else:
        lines = [f"synced {len(report.runs)} run(s) to {', '.join(report.stores)}:"]
        lines += [f"  {v}" for v in report.versions]
        text = "\n".join(lines)
    emit(report.to_dict(), as_json, text)
