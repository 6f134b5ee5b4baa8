"""The `calsync` command line: `root` builds the Typer app from the command modules.

`tui.cli.main` is the console script's entry point; `app` and `register` are what
tests drive the commands through.
"""

from tui.cli.root import app, main, register

_register = register  # the name older tests import

__all__ = ["_register", "app", "main", "register"]
