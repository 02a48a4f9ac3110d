"""The private corners of typer that sessionctl relies on, in one place.

typer vendors click as ``typer._click`` and keeps its completion set-up in
``typer._completion_classes``; neither is public API. The version pin in
``pyproject.toml`` (``typer>=0.26,<0.29``) is what these names are checked
against: a typer upgrade starts here.
"""

from __future__ import annotations

from typer._click import exceptions as click_exceptions

__all__ = ["click_exceptions", "completion_init"]


def completion_init() -> None:
    """Set up click's completion protocol (``_SESSIONCTL_COMPLETE``)."""
    from typer._completion_classes import completion_init as init

    init()
