"""add_dir says what it leaves out: dangling links, links to folders, FIFOs and sockets."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

import artifactfs as afs
from artifactfs.cli import cli
from artifactfs.errors import ArtifactFSWarning, InvalidInputError, SkippedPathWarning


@pytest.fixture
def odd_folder(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("a")
    (root / "sub" / "b.txt").write_text("b")
    (root / "dangling").symlink_to(tmp_path / "nowhere")
    (root / "to-file").symlink_to(root / "a.txt")  # followed: logged with a.txt's bytes
    (root / "to-folder").symlink_to(root / "sub")
    os.mkfifo(root / "pipe")
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(root / "sock"))
    return root


def test_skipped_paths_are_named_in_a_warning(odd_folder: Path, store: afs.Store) -> None:
    art = afs.Artifact("ds", type="dataset")
    with pytest.warns(SkippedPathWarning) as caught:
        art.add_dir(odd_folder)
    message = str(caught[0].message)
    assert caught[0].filename == __file__  # the line that called add_dir, not artifactfs's own
    for name, why in (
        ("dangling", "a dangling link"),
        ("to-folder", "a link to a folder"),
        ("pipe", "a FIFO"),
        ("sock", "a socket"),
    ):
        assert f"{odd_folder / name} ({why}" in message
    assert issubclass(SkippedPathWarning, ArtifactFSWarning) and issubclass(ArtifactFSWarning, UserWarning)
    with afs.init(project="p", store=store) as run:
        logged = run.log_artifact(art)
    assert sorted(logged.entries) == ["a.txt", "sub/b.txt", "to-file"]


def test_strict_refuses_them(odd_folder: Path) -> None:
    with pytest.raises(InvalidInputError, match="4 path"):
        afs.Artifact("ds", type="dataset").add_dir(odd_folder, strict=True)


def test_the_cli_prints_the_warning_and_can_be_strict(odd_folder: Path, tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    args = ["--store", store, "put", str(odd_folder), "-p", "p", "-n", "ds", "-t", "dataset"]
    done = CliRunner().invoke(cli, args, obj={})
    assert done.exit_code == 0 and "warning: add_dir" in done.output and "FIFO" in done.output
    strict = CliRunner().invoke(cli, [*args, "--strict"], obj={})
    assert strict.exit_code == 1 and "cannot be logged" in strict.output
