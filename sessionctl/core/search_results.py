"""What a search finds: plain result objects, for the renderers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .session import SessionInfo

__all__ = ["Hit", "SessionResult"]

JSON = Any


@dataclass(frozen=True)
class Hit:
    """One matching message (``message`` is ``None`` for a title match)."""

    message: int | None
    role: str
    snippet: str
    spans: list[tuple[int, int]]

    def to_dict(self) -> dict[str, JSON]:
        return {"message": self.message, "role": self.role, "snippet": self.snippet,
                "spans": [list(s) for s in self.spans]}


@dataclass(frozen=True)
class SessionResult:
    """One found session: its listing row, score (higher is better) and best hits."""

    info: SessionInfo
    score: float
    hits: list[Hit]
    file: str  # the file's name in the store (or in .trash/)
