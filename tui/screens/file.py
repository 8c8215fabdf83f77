"""File preview: highlighted text, pretty JSON/YAML, CSV/TSV/JSON lines as a table, a hex head
for binaries, image metadata."""

from __future__ import annotations

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ..format import human, plain, plural, styled
from ..keys import bindings
from ..pager import TablePager
from ..views import Preview
from ..widgets.grid import ParquetGrid
from .actions import VersionActions


class FileScreen(VersionActions[Preview]):
    BINDINGS = bindings("file")
    where = "file"

    def __init__(self, ref: str, path: str, crumbs: list[str]) -> None:
        super().__init__([*crumbs, path])
        self.ref, self.path = ref, path

    def body(self) -> ComposeResult:
        yield Static(id="info")
        with VerticalScroll(id="preview-scroll"):
            yield Static(id="preview")

    def target_file(self) -> tuple[str, str] | None:
        return self.ref, self.path

    def fetch(self) -> Preview:
        return self.data.preview(self.ref, self.path)

    async def show(self, p: Preview) -> None:
        note = "  (first 256 KiB)" if p.truncated else ""
        if p.table is not None:
            note = f"  {plural(p.table.num_rows, 'row')}{' of the first 256 KiB' if p.truncated else ''}"
        self.query_one("#info", Static).update(styled((p.path, "b"), f"  {human(p.size)}  {p.digest}{note}"))
        view = self.query_one("#preview", Static)
        if p.table is not None:
            await self.query(ParquetGrid).remove()
            self.query_one("#preview-scroll").display = False
            grid = ParquetGrid(TablePager.of_arrow(p.table), id="grid")
            await self.query_one("#body").mount(grid)
            grid.focus()
            return
        if p.kind == "image":
            view.update(plain(f"image: {p.path}\nsize: {human(p.size)}\ndigest: {p.digest}"))
        elif p.kind == "binary":
            view.update(plain(p.text))
        else:
            view.update(Syntax(p.text, p.lexer, line_numbers=True, word_wrap=False))
        self.query_one("#preview-scroll").focus()
