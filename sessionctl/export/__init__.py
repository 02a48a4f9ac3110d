"""Documents made from a session: markdown and the JSON of ``show --json``,
streamed from one read of the file; the export-all loop."""
