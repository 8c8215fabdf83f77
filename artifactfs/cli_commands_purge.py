"""The ``purge`` command: what it will remove, asked first, then what it did. ``cli`` adds it to
its group."""

from __future__ import annotations

from typing import Any

import click

from . import layout
from .cli_output import echo_json, human_size
from .purge import PurgeReport
from .store import open_store


def purge_data(report: PurgeReport) -> dict[str, Any]:
    """The report as JSON values."""
    rec = report.record
    return {
        "ref": report.ref,
        "path": report.path,
        "digest": report.digest,
        "size": report.size,
        "versions": report.versions,
        "holders": [{"version": v, "path": p} for v, p in report.holders],
        "single": report.single,
        "packs": report.packs,
        "cached": report.cached,
        "deleted": report.deleted,
        "written": report.written,
        "already_purged": report.already_purged,
        "dry_run": report.dry_run,
        "record": {
            "key": layout.purge_record(rec.digest),
            "ref": rec.ref,
            "path": rec.path,
            "purged_at": rec.purged_at,
            "user": rec.user,
            "reason": rec.reason,
        },
    }


def _plan(report: PurgeReport) -> str:
    """What the purge removes: the file, its bytes, who holds them, where they are."""
    where = [f"{len(report.packs)} pack(s), each rewritten without it"] if report.packs else []
    where += ["a single blob, deleted"] if report.single else []
    where += ["this machine's cache"] if report.cached else []
    others = [f"{v} ({p})" for v, p in report.holders if (v, p) != (report.ref, report.path)]
    lines = [
        f"purge {report.path} of {report.ref}",
        f"  digest    {report.digest}",
        f"  size      {report.size:,} bytes ({human_size(report.size)})",
        f"  held by   {len(report.versions)} version(s): these bytes go from every one of them"
        + (f"; also {', '.join(others)}" if others else ""),
        f"  stored in {', '.join(where) if where else 'nothing any more: the bytes are gone already'}",
    ]
    if report.already_purged:
        rec = report.record
        by = f" by {rec.user}" if rec.user else ""
        lines.append(f"  purged    already, on {rec.purged_at}{by} ({rec.reason or 'no reason given'})")
    return "\n".join(lines)


@click.command()
@click.argument("ref")
@click.argument("path")
@click.option("--reason", help="Why: kept in the purge record (at most 4,000 characters).")
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
@click.option("--yes", is_flag=True, help="Do not ask first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def purge(ctx: click.Context, ref: str, path: str, reason: str | None, dry_run: bool, yes: bool, as_json: bool) -> None:
    """Remove the bytes of the file PATH of the version REF from the store, for good.

    For a secret or personal data logged by mistake. The bytes go for every version that
    holds them (blobs are named by their content), from packs too, and from this machine's
    cache; an audit record keeps what was purged, when, by whom and why. Versions keep the
    file's entry and show it as purged: verify is clean, get skips it with a warning. Asks
    first, unless --yes. Copies in other stores and other machines' caches are not touched.

    \b
    Examples:
      artifactfs purge sentiment-analysis/raw-reviews:v3 config/.env --reason "API key" --dry-run
      artifactfs purge sentiment-analysis/raw-reviews:v3 config/.env --reason "API key" --yes
    """
    store = open_store(ctx.obj["store"])
    plan = store.purge(ref, path, reason=reason, dry_run=True)
    if dry_run:
        if as_json:
            echo_json(purge_data(plan))
        else:
            click.echo(_plan(plan))
        return
    if not yes:
        click.echo(_plan(plan), err=True)
        question = "Finish that purge?" if plan.already_purged else "Remove these bytes from the store for good?"
        click.confirm(question, abort=True, err=True)
    report = store.purge(ref, path, reason=reason)
    if as_json:
        echo_json(purge_data(report))
        return
    done = "finished the purge of" if report.already_purged else "purged"
    packs = f", {len(report.packs)} pack(s) rewritten without it" if report.packs else ""
    click.echo(
        f"{done} {report.path} of {report.ref} ({report.digest}, {report.size:,} bytes) from "
        f"{len(report.versions)} version(s): {len(report.deleted)} object(s) deleted{packs}"
        f"{', removed from the cache' if report.cached else ''}"
    )
    rec = report.record
    by = f" by {rec.user}" if rec.user else ""
    why = rec.reason or "no reason given"
    click.echo(f"audit record {layout.purge_record(rec.digest)}: {rec.purged_at}{by} ({why})")
