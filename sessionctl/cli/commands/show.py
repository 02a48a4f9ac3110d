"""``sessionctl show``: one session, for reading."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from .. import common
from ..common import IdArg

if TYPE_CHECKING:
    from ...api import JSONLStore
    from ...render.show import ShowView

app = common.command_app()

#: A file bigger than this that the summary cache lacks is shown as it is
#: read: its header comes from its start and its message count at the end
#: (reading it whole first would hold up the first screen).
STREAM_FROM = 8 << 20


@app.command("show", epilog="Example: sessionctl show 0626a978 --context")
def show(
    session_id: IdArg,
    as_json: Annotated[bool, typer.Option("--json", help="The loaded session as JSON.")] = False,
    context: Annotated[bool, typer.Option(
        "--context", help="Only what resume feeds the agent.")] = False,
    full: Annotated[bool, typer.Option(
        "--full", help="Do not fold long tool output or thinking.")] = False,
    no_pager: Annotated[bool, typer.Option("--no-pager", help="Never use a pager.")] = False,
    start: Annotated[int | None, typer.Option(
        "--from", metavar="N", min=1,
        help="Start at message N of the full history (search's #N).")] = None,
) -> None:
    """Show one session: through a pager on a terminal, plain when piped.

    On a terminal the view streams into $PAGER (less by default) as it is
    read, so the first screen of a big session appears at once.
    """
    from ...errors import UsageError

    if start is not None and (as_json or context):
        raise UsageError("--from cannot be used with --json or --context")
    store = common.store()
    sid = store.resolve_id(session_id)
    if as_json:
        sys.stdout.flush()
        store.write_json(sid, sys.stdout.buffer, context=context)
        sys.stdout.buffer.flush()
        return
    tty = common.stdout_is_terminal()
    if not tty and start is None:
        store.write_markdown(sid, sys.stdout, context=context)
        return
    from ...render.pager import direct, page
    from ...render.show import ShowView

    color = tty and common.color_on()
    view = ShowView(width=common.terminal_width(), color=color, full=full)
    if start is not None:
        produce = _loaded_view(store, sid, view, start=start)
        if not tty:
            no_pager = True
    elif context:
        produce = _loaded_view(store, sid, view)
    else:
        produce = _streamed_view(store, sid, view)
    try:
        if no_pager:
            direct(produce)
        else:
            page(produce, warn=common.warn)
    except KeyboardInterrupt:
        if color:  # a line cut off may have left a style on
            sys.stdout.write("\x1b[0m\n")
        raise


Write = Callable[[str], object]


def _streamed_view(store: JSONLStore, sid: str, view: ShowView) -> Callable[[Write], None]:
    """The full history, written message by message as the file is read."""
    from ...core.viewstream import CheckpointAt, ViewFold, ViewItem
    from ...render.show import ShowHeader
    from ...render.text import relative_time, shorten_path
    from ...storage.viewing import known_info

    def produce(write: Write) -> None:
        info, size = known_info(store, sid, read_up_to=STREAM_FROM)
        started = False

        def header() -> None:
            nonlocal started
            started = True
            if info is not None:
                h = ShowHeader(
                    id=sid, title=info.title, updated=relative_time(info.updated[0]),
                    workspace=shorten_path(info.workspace),
                    model=_model(info.vendor, info.endpoint, info.model), count=info.msg_count)
            else:  # a big file the cache lacks: what its start says
                h = ShowHeader(
                    id=sid, title=fold.title, workspace=shorten_path(fold.field("workspace")),
                    model=_model(fold.field("vendor"), fold.field("endpoint"),
                                 fold.field("model")),
                    size=_size(size))
            write(view.header(h))

        def emit(item: ViewItem) -> None:
            try:
                if not started:
                    header()
                if isinstance(item, CheckpointAt):
                    write(view.checkpoint(item.tokens, item.messages))
                else:
                    write(view.message(item))
            except OSError as error:
                # Through the reader, which takes OSErrors for its file's.
                raise _OutputFailed(error) from error

        fold = ViewFold(emit)
        try:
            store.read(sid, fold)
        except _OutputFailed as failed:  # not a read error: the pager quit, say
            raise failed.error from None
        if not started:
            header()
        if info is None:
            write(view.footer(fold.count))

    return produce


class _OutputFailed(Exception):
    """Writing the view failed (a pager that quit: BrokenPipeError)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


def _loaded_view(
    store: JSONLStore, sid: str, view: ShowView, *, start: int | None = None
) -> Callable[[Write], None]:
    """What resume feeds the agent (the whole file is read first: where
    the context starts is known only at its end), or with ``start`` the
    full history from message ``start`` (1-based, as search's ``#N``)."""
    from ...errors import UsageError
    from ...render.show import ShowHeader
    from ...render.text import relative_time, shorten_path

    session = store.load(sid)
    if start is None:
        messages = session.context_messages
    else:
        if start > len(session.messages):
            raise UsageError(f"session {sid} has {len(session.messages)} messages, "
                             f"not {start}")
        messages = session.messages[start - 1:]

    def produce(write: Write) -> None:
        write(view.header(ShowHeader(
            id=sid, title=session.title, updated=relative_time(session.updated_ns),
            workspace=shorten_path(session.workspace),
            model=_model(session.vendor, session.endpoint, session.model),
            count=len(messages), context=start is None)))
        for m in messages:
            write(view.message(m.to_dict()))

    return produce


def _model(*parts: str) -> str:
    return " / ".join(p for p in parts if p)


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
