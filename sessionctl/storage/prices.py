"""The price tables on disk: the one shipped with the package, the user's
``prices.json`` in sessionctl's config directory, a ``--prices FILE``
(parsed by :mod:`sessionctl.core.prices`)."""

from __future__ import annotations

import os
from pathlib import Path

from ..core.prices import ModelPrice, PriceTable, parse_file, quote
from ..errors import UsageError

__all__ = ["config_dir", "load_prices", "shipped_table", "user_prices_path"]


def shipped_table() -> dict[str, ModelPrice | None]:
    """The table that ships with the package: the file beside its modules,
    else (a package that is no directory, such as a zip) through
    importlib.resources, whose import alone costs ~2 ms of every stats."""
    try:
        raw = (Path(__file__).parent.parent / "data" / "prices.json").read_bytes()
    except OSError:
        from importlib.resources import files

        raw = files("sessionctl").joinpath("data/prices.json").read_bytes()
    return parse_file(raw, "(shipped)")


def config_dir() -> Path:
    """sessionctl's config directory (``$SESSIONCTL_CONFIG_DIR`` overrides)."""
    override = os.environ.get("SESSIONCTL_CONFIG_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir("sessionctl", appauthor=False))


def user_prices_path() -> Path:
    """Where the user's own price table lives."""
    return config_dir() / "prices.json"


def _read(path: Path, origin: str) -> dict[str, ModelPrice | None]:
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise UsageError(f"cannot read price file {quote(origin)}: {err.strerror or err}") from None
    return parse_file(raw, origin)


def load_prices(prices_file: str | os.PathLike[str] | None = None) -> PriceTable:
    """The shipped table, with the user's config file and then ``prices_file``
    merged over it model by model."""
    table = PriceTable({}).merged(shipped_table())
    user = user_prices_path()
    if user.is_file():
        table = table.merged(_read(user, str(user)))
    if prices_file is not None:
        table = table.merged(_read(Path(prices_file), os.fspath(prices_file)))
    return table
