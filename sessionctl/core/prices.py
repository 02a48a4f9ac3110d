"""Prices per model, in USD per million tokens (SPEC §8.4).

A table ships with the package (``sessionctl/data/prices.json``: every entry
names its source and the date it was read). A user table, from
``prices.json`` in sessionctl's config directory or from ``--prices FILE``,
is merged over it model by model (:mod:`sessionctl.storage.prices` reads
the files; this module only parses). The format of both::

    {"models": {
        "claude-sonnet-4-5": {"input": 3, "output": 15, "cache_read": 0.3,
                              "cache_write": 3.75,
                              "source": "https://...", "date": "2026-12-03"},
        "my-model": {"input": 1, "output": 2},
        "gpt-5": null
    }}

``input`` and ``output`` are required; a missing ``cache_read`` or
``cache_write`` bills those tokens at the input price (providers without a
separate cache price); ``null`` removes a shipped entry (its tokens become
unpriced). A model is priced only by an exact entry, or by the entry of its
undated name when it carries a snapshot date (``claude-sonnet-4-5-20250929``
-> ``claude-sonnet-4-5``); a local model (a name with a ``:`` tag, as Ollama
names them) only by an exact entry. Nothing is ever guessed.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from ..errors import UsageError

__all__ = ["ModelPrice", "PriceTable", "parse_file", "parse_table", "quote"]

_FIELDS = ("input", "output", "cache_read", "cache_write")
_DATED = re.compile(r"(.+?)(?:-\d{8}|-\d{4}-\d{2}-\d{2}|@\d{8})")


@dataclass(frozen=True)
class ModelPrice:
    """USD per million tokens."""

    input: float
    output: float
    cache_read: float
    cache_write: float
    source: str = ""
    date: str = ""

    def cost(self, billable_input: int, output: int, cache_read: int, cache_write: int) -> float:
        return (billable_input * self.input + output * self.output
                + cache_read * self.cache_read + cache_write * self.cache_write) / 1e6


class PriceTable:
    """Model name -> :class:`ModelPrice`."""

    def __init__(self, prices: dict[str, ModelPrice]) -> None:
        self.prices = prices
        self._memo: dict[str, ModelPrice | None] = {}

    def merged(self, over: dict[str, ModelPrice | None]) -> PriceTable:
        """This table with ``over`` merged model by model (``None`` removes)."""
        out = dict(self.prices)
        for name, p in over.items():
            if p is None:
                out.pop(name, None)
            else:
                out[name] = p
        return PriceTable(out)

    def get(self, model: str) -> ModelPrice | None:
        if model in self._memo:
            return self._memo[model]
        p = self.prices.get(model)
        if p is None and ":" not in model:
            m = _DATED.fullmatch(model)
            if m is not None:
                p = self.prices.get(m.group(1))
        self._memo[model] = p
        return p


def parse_table(data: object, origin: str) -> dict[str, ModelPrice | None]:
    """Entries of a price file's JSON; :class:`UsageError` naming ``origin``
    and the first problem when it is not of the documented shape."""
    def bad(why: str) -> UsageError:
        return UsageError(f"malformed price file {quote(origin)}: {why}")

    if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
        raise bad('expected an object with a "models" object')
    out: dict[str, ModelPrice | None] = {}
    for name, entry in data["models"].items():
        label = quote(name)
        if not name:
            raise bad("an empty model name")
        if entry is None:
            out[name] = None
            continue
        if not isinstance(entry, dict):
            raise bad(f"{label}: expected an object or null")
        values: dict[str, float] = {}
        for f in _FIELDS:
            v = entry.get(f)
            if v is None and f.startswith("cache_"):
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                    or v < 0:
                raise bad(f"{label}: {f} must be a number >= 0 (USD per million tokens)")
            values[f] = float(v)
        for f in ("source", "date"):
            if not isinstance(entry.get(f, ""), str):
                raise bad(f"{label}: {f} must be a string")
        out[name] = ModelPrice(
            values["input"], values["output"],
            values.get("cache_read", values["input"]), values.get("cache_write", values["input"]),
            entry.get("source", ""), entry.get("date", ""),
        )
    return out


def quote(text: str) -> str:
    """``text`` on one line: control characters escaped as in JSON."""
    if text.isprintable():
        return text
    return json.dumps(text, ensure_ascii=False)[1:-1]


def parse_file(raw: bytes, origin: str) -> dict[str, ModelPrice | None]:
    """The entries of a price file's bytes (``origin`` names it in errors)."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        msg = str(err).splitlines()[0] if str(err) else "not JSON"
        raise UsageError(f"malformed price file {quote(origin)}: {msg}") from None
    return parse_table(data, origin)
