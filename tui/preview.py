"""File previews from the first bytes of a file: highlighted text, pretty JSON and YAML, a hex
head for binaries, metadata only for images. Pure: :mod:`tui.data` reads the bytes."""

from __future__ import annotations

import difflib
import io
import json

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson

from .views import Preview, TextDiff

__all__ = ["DIFF_LINES", "PREVIEW_BYTES", "is_image", "preview", "text_diff"]

TEXT_EXTENSIONS = {
    ".py": "python",
    ".txt": "text",
    ".md": "markdown",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
    ".cfg": "ini",
    ".ini": "ini",
    ".csv": "text",
    ".tsv": "text",
    ".sh": "bash",
    ".sql": "sql",
    ".js": "javascript",
    ".ts": "typescript",
    ".html": "html",
    ".xml": "xml",
    ".rs": "rust",
    ".go": "go",
    ".c": "c",
    ".h": "c",
    ".cpp": "cpp",
    ".java": "java",
    ".r": "r",
    ".ipynb": "json",
}
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".svg"}
PREVIEW_BYTES = 256 * 1024
ROW_FILES = {".csv", ".tsv", ".jsonl", ".ndjson"}  # shown as tables
DIFF_LINES = 400  # lines of a file's diff shown


def _extension(path: str) -> str:
    return "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""


def is_image(path: str) -> bool:
    """Images are described, never read."""
    return _extension(path) in IMAGE_EXTENSIONS


def preview(path: str, size: int, digest: str, head: bytes) -> Preview:
    """The preview of a file of ``size`` bytes whose first bytes are ``head``."""
    ext = _extension(path)
    truncated = size > len(head)
    if b"\0" in head[:8192] or not _decodes(head):
        return Preview("binary", path, size, digest, text=_hexdump(head[:512]), truncated=truncated)
    text = head.decode("utf-8", errors="replace")
    if ext in ROW_FILES:
        rows = _rows(ext, head, truncated)
        if rows is not None:
            return Preview("table", path, size, digest, text, truncated=truncated, table=rows)
    if ext == ".json" and not truncated:
        try:
            return Preview("json", path, size, digest, json.dumps(json.loads(text), indent=2), "json")
        except ValueError:
            pass
    if ext in (".yaml", ".yml") and not truncated:
        try:
            import yaml  # type: ignore[import-untyped]  # optional: pretty when PyYAML is installed

            text = yaml.safe_dump(yaml.safe_load(text), sort_keys=False)
        except Exception:  # not installed, or not valid YAML: show as it is
            pass
    return Preview("text", path, size, digest, text, TEXT_EXTENSIONS.get(ext, "text"), truncated)


def _rows(ext: str, head: bytes, truncated: bool) -> pa.Table | None:
    """The rows of a CSV, TSV or JSON-lines head (without a last line cut short); None when
    they do not parse: the file is then shown as text."""
    if truncated:
        head = head[: head.rfind(b"\n") + 1]
    try:
        if ext in (".jsonl", ".ndjson"):
            return pajson.read_json(io.BytesIO(head))
        options = pacsv.ParseOptions(delimiter="\t" if ext == ".tsv" else ",")
        return pacsv.read_csv(io.BytesIO(head), parse_options=options)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None


def text_diff(path: str, old: bytes, new: bytes) -> TextDiff:
    """What changed from ``old`` to ``new``, line by line (nothing for a binary file)."""
    if not (_is_text(old) and _is_text(new)):
        return TextDiff(path, (), "binary: not compared line by line")
    a = old.decode("utf-8", errors="replace").splitlines()
    b = new.decode("utf-8", errors="replace").splitlines()
    found = list(difflib.unified_diff(a, b, lineterm="", n=2))[2:]  # without the ---/+++ names
    if len(found) > DIFF_LINES:
        return TextDiff(path, tuple(found[:DIFF_LINES]), f"{len(found) - DIFF_LINES:,} more lines not shown")
    return TextDiff(path, tuple(found), "" if found else "only line endings changed")


def _is_text(data: bytes) -> bool:
    return b"\0" not in data[:8192] and _decodes(data)


def _decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError as e:
        return e.start >= len(data) - 4  # a character cut at the end of the head


def _hexdump(data: bytes) -> str:
    lines = []
    for i in range(0, len(data), 16):
        chunk = data[i : i + 16]
        hexpart = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{i:08x}  {hexpart:<47}  {text}")
    return "\n".join(lines)
