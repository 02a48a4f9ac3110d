"""One module per command, each defining ``app``: a one-command Typer
(:func:`sessionctl.cli.common.command_app`). Registered by module name in
:data:`sessionctl.cli.app.COMMANDS`."""
