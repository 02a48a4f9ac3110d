"""What a session id may be, how new ones are made, and prefix resolution.

This module alone decides which strings may become file names in a store:
every entry point validates with :func:`validate_id` before it touches the
filesystem, so ``../x``, ``a/b`` or a NUL can never reach ``open``.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable

from ..errors import AmbiguousSessionId, InvalidSessionId, SessionNotFound

__all__ = [
    "ID_PATTERN",
    "hex_part",
    "is_valid_id",
    "new_id",
    "resolve",
    "session_ids_in",
    "validate_id",
]

#: Valid ids (SPEC §6): no leading ``-`` so an id is never taken for an option.
ID_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,127}")
_REFERENCE_ID = re.compile(r"\d{8}-\d{6}-([0-9a-f]{16})")


def is_valid_id(session_id: object) -> bool:
    """True when ``session_id`` is a string a store may use as a file name."""
    return isinstance(session_id, str) and ID_PATTERN.fullmatch(session_id) is not None


def session_ids_in(names: Iterable[str]) -> list[str]:
    """The ids of the ``<id>.jsonl`` names among ``names`` (a directory
    listing), in order."""
    match = ID_PATTERN.fullmatch
    return [sid for sid in [n[:-6] for n in names if n[-6:] == ".jsonl"] if match(sid)]


def validate_id(session_id: object) -> str:
    """Return ``session_id`` unchanged, or raise :class:`InvalidSessionId`."""
    if not is_valid_id(session_id):
        raise InvalidSessionId(session_id if isinstance(session_id, str) else repr(session_id))
    assert isinstance(session_id, str)
    return session_id


def new_id(now: float | None = None) -> str:
    """A fresh id in the reference's shape: local ``YYYYMMDD-HHMMSS-<16 hex>``."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return f"{stamp}-{os.urandom(8).hex()}"


def hex_part(session_id: str) -> str | None:
    """The random hex part of a reference-shaped id (after its last ``-``)."""
    m = _REFERENCE_ID.fullmatch(session_id)
    return m.group(1) if m else None


def resolve(arg: str, ids: Iterable[str]) -> str:
    """Resolve a full id or a unique prefix of an id or of its hex part.

    An exact id wins; otherwise one candidate is the answer, none raises
    :class:`SessionNotFound` and several raise :class:`AmbiguousSessionId`.
    """
    validate_id(arg)
    candidates: list[str] = []
    for sid in ids:
        if sid == arg:
            return sid
        if sid.startswith(arg):
            candidates.append(sid)
            continue
        hx = hex_part(sid)
        if hx is not None and hx.startswith(arg):
            candidates.append(sid)
    if not candidates:
        raise SessionNotFound(arg)
    if len(candidates) > 1:
        raise AmbiguousSessionId(arg, sorted(candidates, reverse=True))
    return candidates[0]
