"""No disk, no terminal: ids, times, durations, the data model, the record
codecs and the one record reader with its folds. Imports nothing of
sessionctl but ``errors``."""
