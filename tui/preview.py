"""File previews from the first bytes of a file: highlighted text, pretty JSON and YAML, a hex
head for binaries, metadata only for images. Pure: :mod:`tui.data` reads the bytes."""

from __future__ import annotations

import json

from .views import Preview

__all__ = ["PREVIEW_BYTES", "is_image", "preview"]

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
