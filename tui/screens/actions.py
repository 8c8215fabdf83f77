"""What the browser writes, each asked before it is done: set or remove an alias, download a
version or a file, delete a version. The screens that show versions mix these in."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from textual import work

from ..format import styled
from ..messages import StoreChanged
from ..widgets.confirm import Confirm
from .base import BaseScreen

T = TypeVar("T")


class VersionActions(BaseScreen[T]):
    """Keys that change the store or write files, for a screen whose cursor is on a version
    (``target``) or a file of one (``target_file``)."""

    leave_on_delete = False  # whether the screen shows the version itself (then it closes)

    def target(self) -> tuple[str, tuple[str, ...]] | None:
        """The version under the cursor (its qualified name) and its aliases."""
        return None

    def target_file(self) -> tuple[str, str] | None:
        """The version and path of the file under the cursor."""
        return None

    # ---------------------------------------------------------------- aliases
    def action_alias(self) -> None:
        found = self.target()
        if found is None:
            return
        ref, _ = found

        def done(alias: str | None) -> None:
            if alias:
                self._write(f"alias {alias} set on {ref}", lambda: self.data.set_alias(ref, alias))

        question = styled("Set an alias on ", (ref, "b"), " (it moves from any other version):")
        self.app.push_screen(Confirm(question, value="", yes="set it"), done)

    def action_unalias(self) -> None:
        found = self.target()
        if found is None:
            return
        ref, aliases = found
        custom = [a for a in aliases if a != "latest"]
        if not custom:
            self.notify(f"{ref} has no alias to remove (latest always names the newest)", markup=False)
            return

        def done(alias: str | None) -> None:
            if alias:
                self._write(f"alias {alias} removed", lambda: self.data.remove_alias(ref, alias))

        question = styled("Remove which alias of ", (ref, "b"), f"? ({', '.join(custom)})")
        self.app.push_screen(Confirm(question, value=custom[0], yes="remove it"), done)

    # ---------------------------------------------------------------- downloads
    def action_download(self) -> None:
        """The version under the cursor, else the file."""
        version, file = self.target(), self.target_file()
        if version is None and file is None:
            return
        ref, path = (version[0], None) if version is not None else file  # type: ignore[misc]
        folder = os.path.abspath(os.path.join("artifacts", ref.split("/", 1)[1].replace(":", "-")))
        what = styled("every file of ", (ref, "b")) if path is None else styled((path, "b"), " of ", (ref, "b"))

        def done(root: str | None) -> None:
            if root and path is None:
                self._write(f"downloaded {ref} to", lambda: self.data.download(ref, root))
            elif root and path is not None:
                self._write(f"downloaded {path} to", lambda: self.data.download_file(ref, path, root))

        question = styled("Download ", what, " (verified) into the folder:")
        self.app.push_screen(Confirm(question, value=folder, yes="download"), done)

    def action_copy_path(self) -> None:
        found = self.target_file()
        if found is not None:
            self.app.copy_to_clipboard(found[1])
            self.notify(f"copied {found[1]}", markup=False)

    # ---------------------------------------------------------------- delete
    def action_delete(self) -> None:
        found = self.target()
        if found is None:
            return
        ref, aliases = found
        self.set_status("checking what needs it…")
        self._ask_delete(ref, tuple(a for a in aliases if a != "latest"))

    @work(thread=True, exclusive=True, group="write")
    def _ask_delete(self, ref: str, aliases: tuple[str, ...]) -> None:
        try:
            needed = self.data.dependents(ref)
        except Exception as e:  # shown to the user; nothing was written
            self.app.call_from_thread(self._failed, e)
            return
        self.app.call_from_thread(self.set_status, "")
        warn = []
        if aliases:
            warn.append(f"Its alias(es) {', '.join(aliases)} will be removed.")
        if needed:
            warn.append(f"{len(needed)} live version(s) need it: {'; '.join(needed[:5])}.")
        warn.append("It stops resolving now; its files are freed by the next gc.")
        question = styled("Delete ", (ref, "b"), "?\n\n", (" ".join(warn), "yellow" if aliases or needed else ""))

        def done(answer: str | None) -> None:
            if answer is not None:
                self._write(f"deleted {ref}", lambda: self.data.delete(ref), leave=self.leave_on_delete)

        self.app.call_from_thread(self.app.push_screen, Confirm(question, yes="delete it"), done)

    # ---------------------------------------------------------------- writing
    def _write(self, said: str, action: Callable[[], object], *, leave: bool = False) -> None:
        self.set_status("writing…")
        self._run_write(said, action, leave)

    @work(thread=True, exclusive=True, group="write")
    def _run_write(self, said: str, action: Callable[[], object], leave: bool) -> None:
        try:
            result = action()
        except Exception as e:  # shown to the user, with the reason the store gave
            self.app.call_from_thread(self.set_status, "")
            self.app.call_from_thread(self.notify, f"{type(e).__name__}: {e}", severity="error", markup=False)
            return
        message = f"{said} {result}" if isinstance(result, str) else said
        if isinstance(result, str):  # a local path: ready to paste
            self.app.call_from_thread(self.app.copy_to_clipboard, result)
        self.app.call_from_thread(self.set_status, "")
        self.app.call_from_thread(self.notify, message, markup=False)
        self.app.call_from_thread(self.post_message, StoreChanged(leave))
