"""The `calsync` command line: `root` builds the Typer app from the command modules.

`tui.cli.main` is the console script's entry point (`tui.cli.quick.main`: a plain
`sync` runs without importing Typer); `app` and `register` are what tests drive the
commands through, imported from `root` when first asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui.cli.quick import main

if TYPE_CHECKING:
    from tui.cli.root import app, register

    _register = register  # the name older tests import


def __getattr__(name: str) -> Any:
    if name in ("app", "register", "_register"):
        from tui.cli import root

        return root.register if name == "_register" else getattr(root, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["_register", "app", "main", "register"]
