"""``python -m sessionctl``."""

# Guarded: worker processes (see bulk.py) import the main module again.
if __name__ == "__main__":
    from ._entry import main

    main()
