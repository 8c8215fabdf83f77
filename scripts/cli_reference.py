"""Print the CLI reference (every command's --help) as Markdown: python scripts/cli_reference.py > docs/cli.md"""

from __future__ import annotations

import click

from artifactfs.cli import cli


def render() -> str:
    out = ["# `artifactfs` command reference", "", "Generated from `--help` by `scripts/cli_reference.py`.", ""]

    def walk(cmd: click.Command, path: list[str]) -> None:
        with click.Context(cmd, info_name=" ".join(path)) as ctx:
            out.extend([f"## `{' '.join(path)}`", "", "```", cmd.get_help(ctx).rstrip(), "```", ""])
        if isinstance(cmd, click.Group):
            for name in sorted(cmd.commands):
                walk(cmd.commands[name], [*path, name])

    walk(cli, ["artifactfs"])
    return "\n".join(out)


if __name__ == "__main__":
    print(render(), end="")
