"""``python -m sessionctl``."""

from .cli import main

main()
