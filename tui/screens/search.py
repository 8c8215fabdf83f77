"""Search: versions across the store found by what they are (tags, type, project, name,
metadata), from the store's search index; Enter opens one."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import DataTable, Input, Static

from ..format import Shown, brief, plain, styled, when
from ..keys import bindings
from ..messages import OpenVersion
from ..query import QUERY_HELP
from ..views import SearchResults
from .base import BaseScreen

NO_INDEX = "no version found (a store logged before search existed is indexed by: artifactfs reindex)"


class SearchScreen(BaseScreen[SearchResults]):
    """A query line over a list of the versions it finds, newest first. An empty query lists
    the newest versions of the store; Enter in the line searches, Enter on a row opens it."""

    BINDINGS = bindings("search")
    where = "search"
    columns = ("version", "type", "created", "tags", "metadata")

    def __init__(self, text: str = "") -> None:
        super().__init__(["search"])
        self.text = text  # the query searched for (the line may hold an edit not yet sent)
        self.to_list = bool(text)  # whether the next results take the focus (a query was sent)

    def body(self) -> ComposeResult:
        yield Input(self.text, placeholder="tag:reviewed type:model metadata.eval.accuracy > 0.9", id="query")
        yield Static(styled((QUERY_HELP, "dim")), id="query-help")
        table: DataTable[Shown] = DataTable(cursor_type="row", zebra_stripes=True, id="list")
        yield table

    def on_mount(self) -> None:
        self.query_one("#list", DataTable).add_columns(*self.columns)
        self.query_one("#query", Input).focus()
        super().on_mount()

    def fetch(self) -> SearchResults:
        return self.data.search(self.text)

    def show(self, found: SearchResults) -> None:
        table = self.query_one("#list", DataTable)
        table.clear()
        for hit in found.hits:
            cells = (hit.qualified_name, hit.type, when(hit.created_at), ", ".join(hit.tags), brief(hit.metadata))
            table.add_row(*(plain(c) for c in cells), key=hit.qualified_name)
        if found.error:
            self.set_status(styled(("bad query: ", "b red"), found.error))
        elif not found.hits:
            self.set_status(styled("no version matches ", (found.text, "b")) if found.text else NO_INDEX)
        elif len(found.hits) == found.limit:
            self.set_status(f"the newest {found.limit} versions that match: add to the query to narrow it")
        if self.to_list and found.hits:
            table.focus()
        self.to_list = False

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.text, self.to_list = event.value.strip(), True
        self.action_reload()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.post_message(OpenVersion(event.row_key.value))

    def action_edit_query(self) -> None:
        self.query_one("#query", Input).focus()

    def action_search(self) -> None:
        self.action_edit_query()  # already here

    def clear_filter(self) -> bool:
        """Esc clears the query (listing the newest versions again) before it goes back."""
        line = self.query_one("#query", Input)
        if not line.value and not self.text:
            return False
        line.value, self.text = "", ""
        line.focus()
        self.action_reload()
        return True
