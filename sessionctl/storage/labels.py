"""Tags and pins, ``<store>/.sessionctl/labels.json`` (SPEC §8.2).

``{"version": 1, "sessions": {"<id>": {"tags": [...], "pinned": true}}}``,
replaced atomically under ``labels.json.flock``. Labels belong to an id:
they stay while the session is in the trash and go when it is purged.

A damaged file is reported once and read as empty, but never replaced: a
write refuses (exit 1) rather than overwrite labels it could not read.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import CorruptStore, SessionError, StoreIOError, UsageError
from .layout import STATE_DIR

# fsio and locking are imported where labels are written: list, which reads
# labels on every run, needs neither.

if TYPE_CHECKING:
    from .store import FileStore as JSONLStore

__all__ = [
    "LABELS_NAME",
    "LABEL_ACTIONS",
    "Label",
    "Labels",
    "LabelsRead",
    "change",
    "normalize_tag",
    "normalize_tags",
]

JSON = Any
LABELS_NAME = "labels.json"
VERSION = 1
_TAG = re.compile(r"[a-z0-9_.:-]{1,64}")
LOCK_TIMEOUT = 30.0


def normalize_tag(tag: str) -> str:
    """``tag`` lower-cased; :class:`UsageError` unless it is 1-64 characters
    of ``[a-z0-9_.:-]``."""
    low = tag.lower()
    if not _TAG.fullmatch(low):
        shown = tag if len(tag) <= 70 else tag[:67] + "..."
        raise UsageError(
            f"invalid tag {shown!r}: use 1-64 characters of a-z, 0-9, '_', '.', ':', '-'")
    return low


def normalize_tags(tags: Iterable[str]) -> list[str]:
    """Each tag normalised, duplicates dropped, order kept."""
    return list(dict.fromkeys(normalize_tag(t) for t in tags))


class Label(NamedTuple):
    """One session's labels (a tuple: list reads one per labelled session)."""

    tags: tuple[str, ...] = ()
    pinned: bool = False


class LabelsRead:
    """Labels by id, and one line about a damaged file (or ``None``).
    (A plain class: list imports this module on every run.)"""

    __slots__ = ("problem", "sessions")

    def __init__(self, sessions: dict[str, Label] | None = None,
                 problem: str | None = None) -> None:
        self.sessions: dict[str, Label] = sessions if sessions is not None else {}
        self.problem = problem

    def get(self, sid: str) -> Label:
        return self.sessions.get(sid, _NONE)

    @property
    def pinned(self) -> set[str]:
        return {sid for sid, lb in self.sessions.items() if lb.pinned}

    def all_tags(self) -> list[str]:
        """Every tag in use, sorted."""
        return sorted({t for lb in self.sessions.values() for t in lb.tags})


_NONE = Label()


class _Damaged(Exception):
    """labels.json exists but cannot be used."""


class Labels:
    """The labels of one store."""

    def __init__(self, store_dir: Path) -> None:
        self.dir = store_dir / STATE_DIR
        self.path = self.dir / LABELS_NAME

    # -- reading -------------------------------------------------------------
    def _raw(self) -> dict[str, JSON]:
        """The parsed file; ``{}``-like defaults when it is missing; raises
        :class:`_Damaged` with a reason otherwise."""
        import orjson

        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            return {"version": VERSION, "sessions": {}}
        except OSError as err:
            raise _Damaged(err.strerror or str(err)) from err
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise _Damaged("it is not a regular file")
            with os.fdopen(fd, "rb", closefd=False) as f:
                data = f.read()
        except OSError as err:
            raise _Damaged(err.strerror or str(err)) from err
        finally:
            os.close(fd)
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise _Damaged("it is not valid JSON") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("sessions"), dict):
            raise _Damaged('it lacks a "sessions" object')
        if obj.get("version") != VERSION:
            raise _Damaged(f"unknown version {obj.get('version')!r}")
        return obj

    def read(self) -> LabelsRead:
        """Labels by id. A damaged file reads as empty, with ``problem`` set;
        entries of a bad shape are left out. Never creates or locks anything."""
        try:
            raw = self._raw()
        except _Damaged as err:
            return LabelsRead({}, f"ignoring damaged {self.path}: {err}")
        # list reads this for every run: one lean pass, tuples built directly.
        out: dict[str, Label] = {}
        new, match = tuple.__new__, _TAG.fullmatch
        valid: set[str] = set()  # tags seen and checked: a few, used many times
        for sid, entry in raw["sessions"].items():
            if type(entry) is not dict:
                continue
            tags = entry.get("tags") or ()
            pinned = entry.get("pinned") is True
            if tags:
                if type(tags) is not list:
                    continue
                good = tuple(tags)
                try:
                    known = valid.issuperset(good)
                except TypeError:  # an unhashable "tag"
                    known = False
                if not known:
                    if all(type(t) is str and match(t) for t in good):
                        valid.update(good)
                    else:
                        lb = _label(entry)  # a hand-edited file: the careful way
                        good = lb.tags if lb is not None else ()
            else:
                good = ()
            if good or pinned:
                out[sid] = new(Label, (good, pinned))
        return LabelsRead(out)

    # -- writing -------------------------------------------------------------
    def update(self, change: Callable[[dict[str, dict[str, JSON]]], None]) -> None:
        """Read-modify-write under ``labels.json.flock``: ``change`` edits the
        ``sessions`` mapping in place; entries left empty are dropped.
        Raises :class:`CorruptStore` (nothing written) when the file is damaged."""
        import orjson

        from . import fsio, locking

        try:
            fsio.ensure_dir(self.dir)
            with locking.file_lock(self.dir / f"{LABELS_NAME}.flock", timeout=LOCK_TIMEOUT,
                                   what="being written"):
                try:
                    raw = self._raw()
                except _Damaged as err:
                    raise CorruptStore(
                        f"cannot change labels: {self.path} is damaged ({err}); "
                        "nothing changed (move it away to start afresh)") from None
                sessions: dict[str, dict[str, JSON]] = raw["sessions"]
                change(sessions)
                for sid in [s for s, e in sessions.items() if _empty(e)]:
                    del sessions[sid]
                raw["version"] = VERSION
                fsio.atomic_write(self.path, [orjson.dumps(raw, option=orjson.OPT_INDENT_2)
                                              + b"\n"])
        except OSError as err:
            raise StoreIOError.wrap("write labels", err) from err

    def tag(self, ids: Iterable[str], tags: Iterable[str]) -> None:
        """Add ``tags`` (already normalised) to each of ``ids``."""
        ids, tags = list(ids), list(tags)

        def change(s: dict[str, dict[str, JSON]]) -> None:
            for sid in ids:
                entry = _entry(s, sid)
                entry["tags"] = list(dict.fromkeys([*entry["tags"], *tags]))
        self.update(change)

    def untag(self, ids: Iterable[str], tags: Iterable[str]) -> None:
        ids, gone = list(ids), set(tags)

        def change(s: dict[str, dict[str, JSON]]) -> None:
            for sid in ids:
                if sid in s:
                    entry = _entry(s, sid)
                    entry["tags"] = [t for t in entry["tags"] if t not in gone]
        self.update(change)

    def pin(self, ids: Iterable[str], pinned: bool = True) -> None:
        ids = list(ids)

        def change(s: dict[str, dict[str, JSON]]) -> None:
            for sid in ids:
                if pinned or sid in s:
                    entry = _entry(s, sid)
                    if pinned:
                        entry["pinned"] = True
                    else:
                        entry.pop("pinned", None)
        self.update(change)

    def forget(self, ids: Iterable[str]) -> None:
        """Drop every label of ``ids`` (their sessions were purged)."""
        ids = [sid for sid in ids if sid in self.read().sessions]
        if not ids:
            return  # nothing to do: never create or rewrite the file for it

        def change(s: dict[str, dict[str, JSON]]) -> None:
            for sid in ids:
                s.pop(sid, None)
        self.update(change)


def _label(entry: JSON) -> Label | None:
    if not isinstance(entry, dict):
        return None
    tags = entry.get("tags", ())
    if not isinstance(tags, list):
        return None
    # Tags were checked when written; a hand-edited file may hold others:
    # lower-cased, and left out unless they are valid tags.
    good = tuple(t for t in tags if isinstance(t, str) and _TAG.fullmatch(t))
    if len(good) != len(tags):
        good = tuple(t.lower() for t in tags
                     if isinstance(t, str) and _TAG.fullmatch(t.lower()))
    return Label(good, entry.get("pinned") is True)


def _entry(sessions: dict[str, dict[str, JSON]], sid: str) -> dict[str, JSON]:
    """The entry of ``sid``, created or repaired to a usable shape (unknown
    keys of a good entry are kept)."""
    entry = sessions.get(sid)
    if not isinstance(entry, dict):
        entry = sessions[sid] = {}
    tags = entry.get("tags")
    entry["tags"] = [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []
    if entry.get("pinned") is not True:
        entry.pop("pinned", None)
    return entry


def _empty(entry: JSON) -> bool:
    if not isinstance(entry, dict):
        return False  # not ours to judge: kept as found
    return not entry.get("tags") and entry.get("pinned") is not True and set(entry) <= {
        "tags", "pinned"}


#: Audit action -> what it does to the labels of the named sessions.
LABEL_ACTIONS = ("tag", "untag", "pin", "unpin")


def change(
    store: JSONLStore, action: str, session_ids: Sequence[str], tags: Sequence[str] = (), *,
    by: str = "library",
) -> list[str]:
    """``tag``/``untag`` (``tags`` normalised here) or ``pin``/``unpin`` the
    sessions ``session_ids`` (full ids of the store), then record one audit
    record per session. Returns warnings (the audit log could not be written)."""
    from .audit import AuditLog, make_record

    if action not in LABEL_ACTIONS:
        raise ValueError(f"unknown label action {action!r}")
    norm = normalize_tags(tags) if action in ("tag", "untag") else []
    if action in ("tag", "untag") and not norm:
        raise UsageError("name at least one tag")
    ids = list(dict.fromkeys(session_ids))
    labels = Labels(store.dir)
    if action == "tag":
        labels.tag(ids, norm)
    elif action == "untag":
        labels.untag(ids, norm)
    else:
        labels.pin(ids, pinned=action == "pin")
    from .trashio import session_titles

    titles = session_titles(store, ids)
    records = []
    for sid in ids:
        extra: dict[str, JSON] = {"tags": norm} if norm else {}
        records.append(make_record(action, sid, title=titles.get(sid, ""),
                                   size=_size(store.dir / f"{sid}.jsonl"), by=by, **extra))
    try:
        AuditLog(store.dir).append(records)
    except SessionError as err:
        return [f"audit log not written: {err}"]
    return []


def _size(path: Path) -> int | None:
    try:
        return os.stat(path).st_size
    except OSError:
        return None
