"""The ``list`` table on a terminal: columns that fit the width, the title
kept readable, paths cut from the left."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..core.session import SessionInfo
from .text import clean_line, relative_time, short_id, shorten_path

if TYPE_CHECKING:
    from rich.console import RenderableType

__all__ = ["list_table"]


#: ``list`` table: the title keeps at least this many cells before the
#: model and then the workspace columns are dropped on a narrow terminal.
MIN_TITLE = 20
MIN_WORKSPACE = 12
MAX_MODEL = 24
_GAP = 2  # cells between two columns (padding 1 + 1)


def ellipsize_left(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells from the left (``…/projects/app``):
    the end of a path is the part that tells workspaces apart."""
    from rich.cells import cell_len

    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    out: list[str] = []
    used = 1
    for ch in reversed(text):
        w = cell_len(ch)
        if used + w > width:
            break
        out.append(ch)
        used += w
    return "…" + "".join(reversed(out))


def _table_widths(
    width: int, fixed: int, title: int, workspace: int | None, model: int | None
) -> tuple[int, int | None, int | None]:
    """Cells for (title, workspace, model) on a ``width``-cell terminal.

    ``fixed`` is the id, time and count columns; ``None`` is a column not
    shown (no session has a value, or the terminal is too narrow: the model
    goes first, then the workspace, so the title keeps ``MIN_TITLE`` cells).
    """
    if model is not None:
        model = min(model, MAX_MODEL)
    while True:
        shown = 3 + (workspace is not None) + (model is not None)  # columns besides the title
        rest = width - fixed - _GAP * shown - (model or 0)
        ws_min = min(workspace, MIN_WORKSPACE) if workspace is not None else 0
        if rest - ws_min >= min(title, MIN_TITLE):
            break
        if model is not None:
            model = None
        elif workspace is not None:
            workspace = None
        else:
            break
    if workspace is None:
        return max(rest, 1), None, model
    if title + workspace <= rest:
        return title, workspace, model
    ws = min(workspace, max(MIN_WORKSPACE, rest * 2 // 5))
    ws = max(ws, rest - title)  # give the title's spare room to the workspace
    return max(rest - ws, 1), ws, model


def list_table(infos: list[SessionInfo], width: int = 100) -> RenderableType:
    """The terminal view of ``list``: one line per session at any ``width``
    (long titles and models end with ``…``, paths lose their start)."""
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    now = time.time()
    rows = []
    for info in infos:
        title = Text(clean_line(info.title) or "Untitled session")
        if info.hidden:
            title = Text.assemble(("(empty) ", "dim italic"), title)
        rows.append((short_id(info.id), relative_time(info.updated[0], now), title,
                     shorten_path(clean_line(info.workspace)), clean_line(info.model),
                     str(info.msg_count), info.hidden))

    def natural(i: int, head: str) -> int:
        return max([cell_len(head)] + [cell_len(str(r[i])) for r in rows])

    def optional(i: int, head: str) -> int | None:
        """A column no session has a value for is left out."""
        return natural(i, head) if any(r[i] for r in rows) else None

    fixed = natural(0, "ID") + natural(1, "UPDATED") + natural(5, "MSGS")
    title_w, ws_w, model_w = _table_widths(
        width, fixed, natural(2, "TITLE"), optional(3, "WORKSPACE"), optional(4, "MODEL"))

    table = Table(box=None, header_style="bold", pad_edge=False, show_edge=False)
    table.add_column("ID", style="yellow", no_wrap=True)
    table.add_column("UPDATED", style="cyan", no_wrap=True)
    table.add_column("TITLE", overflow="ellipsis", no_wrap=True, width=title_w)
    if ws_w is not None:
        table.add_column("WORKSPACE", style="blue", no_wrap=True, width=ws_w)
    if model_w is not None:
        table.add_column("MODEL", style="magenta", overflow="ellipsis", no_wrap=True,
                         width=model_w)
    table.add_column("MSGS", justify="right", no_wrap=True)
    for sid, updated, title, ws, model, count, hidden in rows:
        cells: list[RenderableType] = [sid, updated, title]
        if ws_w is not None:
            cells.append(ellipsize_left(ws, ws_w))
        if model_w is not None:
            cells.append(model)
        cells.append(count)
        table.add_row(*cells, style="dim" if hidden else None)
    return table


_CONTROL: dict[int, str | None] = {
    c: "\ufffd" for c in [*range(0, 9), *range(11, 32), *range(0x7F, 0xA0)]}
_CONTROL[13] = None  # CR: CRLF text and progress output
