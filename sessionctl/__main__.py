"""``python -m sessionctl``."""

# Guarded: worker processes (see bulk.py) import the main module again.
if __name__ == "__main__":
    from .cli.app import main

    main()
