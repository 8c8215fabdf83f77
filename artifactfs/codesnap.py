"""Which source files ``run.log_code`` snapshots, and the git commit they are at (no store I/O)."""

from __future__ import annotations

import fnmatch
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_CODE_EXCLUDE", "code_files", "git_info"]

DEFAULT_CODE_EXCLUDE = (".git", "__pycache__", ".venv", "venv", "node_modules", "build", "dist", ".*cache*")


def _matches(rel: str, name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(name, p) for p in patterns)


def git_info(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """``{commit, dirty}`` of the git repository holding ``path``, or None (no git, no repo)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain"], cwd=path, capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(status.strip())}


def code_files(base: Path, include: tuple[str, ...], exclude: tuple[str, ...]) -> Iterator[tuple[Path, str]]:
    """(local path, path relative to ``base``) of the files under ``base`` whose path or name
    matches one of ``include`` and none of ``exclude``, in a stable order."""
    for dirpath, dirnames, filenames in os.walk(base):
        rel_dir = Path(dirpath).relative_to(base)
        dirnames[:] = sorted(d for d in dirnames if not _matches((rel_dir / d).as_posix(), d, exclude))
        for f in sorted(filenames):
            rel = (rel_dir / f).as_posix()
            if _matches(rel, f, include) and not _matches(rel, f, exclude):
                yield Path(dirpath) / f, rel
