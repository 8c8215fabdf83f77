"""The ``artifactfs`` command line: thin commands over the public API.

This module owns the click group: its global options (--store, --debug, --version), the turning
of errors into one line and an exit code, the entry point, and the wiring of the commands that
the ``cli_commands_*`` modules define. It also holds ``browse``, as the only part of artifactfs
that starts the terminal browser."""

from __future__ import annotations

import logging
import sys
import warnings
from typing import Any

import click

from . import __version__
from .cli_commands_local import cache_group, checkout_cmd, status_cmd, sync_cmd
from .cli_commands_notes import annotate, reindex, search, tag_group
from .cli_commands_purge import purge
from .cli_commands_read import cat, diff, get, info, lineage, ls, reproduce, run_cmd, runs, show
from .cli_commands_registry import link, registry, retention, unlink
from .cli_commands_write import alias, copy_cmd, delete, gc, put, upgrade, verify
from .errors import ArtifactFSError, ArtifactFSWarning
from .settings import STORE_ENV

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
    _logging(debug)
    warnings.showwarning = _show_warning


_plain_show = warnings.showwarning


def _show_warning(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
    """Our warnings as one line on stderr (``warning: ...``), as errors are; others as usual."""
    if issubclass(category, ArtifactFSWarning):
        click.echo(f"warning: {' '.join(str(message).split())}", err=True)
    else:
        _plain_show(message, category, *args, **kwargs)


def _logging(debug: bool) -> None:
    # Backend libraries log their retries and give-ups with tracebacks; the command prints one
    # line for any error, so their logs are shown only with --debug.
    if debug:
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
    elif not logging.getLogger().handlers:
        logging.getLogger().addHandler(logging.NullHandler())


def _store_after(ctx: click.Context, _: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.find_root().obj["store"] = value


def _debug_after(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    if value:
        ctx.find_root().obj["debug"] = True
        _logging(True)


def _accept_global_options(command: click.Command) -> None:
    """Let ``--store`` and ``--debug`` follow the command too (``artifactfs ls --store X``),
    as users type them; given in both places, the one after the command wins."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _accept_global_options(sub)
        return
    command.params += [
        click.Option(
            ["--store"], expose_value=False, callback=_store_after, help="Store URL or path (as before the command)."
        ),
        click.Option(
            ["--debug"], is_flag=True, expose_value=False, callback=_debug_after, help="Show tracebacks on errors."
        ),
    ]


for command in (
    info,
    ls,
    show,
    put,
    get,
    cat,
    alias,
    diff,
    lineage,
    runs,
    run_cmd,
    reproduce,
    verify,
    gc,
    upgrade,
    delete,
    purge,
    copy_cmd,
    checkout_cmd,
    status_cmd,
    cache_group,
    sync_cmd,
    tag_group,
    annotate,
    search,
    reindex,
    link,
    unlink,
    registry,
    retention,
):
    cli.add_command(command)


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


for command in cli.commands.values():
    _accept_global_options(command)


def main() -> None:
    """Console-script entry point."""
    cli(obj={})
