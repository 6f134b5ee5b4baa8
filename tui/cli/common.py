"""What every CLI command shares: the workspace, exit codes, the error edge, output.

Typer is not imported here: a plain `calsync sync NAME…` or `calsync sync --all`
runs without it (tui/cli/quick.py), and importing it (with pydantic for its
parse) was ~0.05-0.15 s of each cron run's CPU. `JsonOpt`, the one thing here
made of Typer, is built when a command module first asks for it. Nor is rich until
something is printed (`stderr_console`, `stdout_console`; ~0.03-0.04 s): a cron
run with nothing to report prints nothing.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

from storage.config import Config, load_config
from storage.errors import StoreError
from storage.workspace import Workspace, resolve_workspace
from sync.providers.base import ProviderError

if TYPE_CHECKING:
    import typer
    from rich.console import Console

    #: stderr and stdout as rich prints them: see `stderr_console`, `stdout_console`
    err_console: Console
    out_console: Console

    #: the `--json` option every reporting command takes
    JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON only.")]


def __getattr__(name: str) -> Any:
    if name == "JsonOpt":  # what the TYPE_CHECKING block above says, made on first use
        import typer

        value = Annotated[bool, typer.Option("--json", help="Print JSON only.")]
        globals()[name] = value
        return value
    if name == "err_console":
        return stderr_console()
    if name == "out_console":
        return stdout_console()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_OPERATOR = 3


def stderr_console() -> Console:
    """rich's Console on stderr, made on first use; also `common.err_console`."""
    made: Console | None = globals().get("err_console")
    if made is None:
        from rich.console import Console

        made = globals()["err_console"] = Console(stderr=True, highlight=False, soft_wrap=True)
    return made


def stdout_console() -> Console:
    """rich's Console on stdout, made on first use; also `common.out_console`."""
    made: Console | None = globals().get("out_console")
    if made is None:
        from rich.console import Console

        made = globals()["out_console"] = Console(highlight=False)
    return made


class AppState:
    def __init__(self, workspace: Path | None, *, may_create: bool = False) -> None:
        self.explicit_workspace = workspace
        #: only `user add`, `demo` and the TUI may start a workspace; every other
        #: command on a folder that is no workspace (a typo in a cron line) is an error
        self.may_create = may_create

    @cached_property
    def workspace(self) -> Workspace:
        ws = Workspace(resolve_workspace(self.explicit_workspace))
        if not self.may_create:
            problem = ws.missing()
            if problem:
                fail(problem)
        return ws

    @cached_property
    def config(self) -> Config:
        return load_config(self.workspace.config_path)


def state(ctx: typer.Context) -> AppState:
    obj = ctx.find_root().obj
    assert isinstance(obj, AppState)
    return obj


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    stderr_console().print(f"calsync: {message}", markup=False)
    leave(code)


def leave(code: int) -> NoReturn:
    """End the command with `code`. A SystemExit, not typer.Exit: Typer lets it
    through (and its test runner reads its code), and the quick path has no Typer."""
    raise SystemExit(code)


@contextmanager
def handle_errors() -> Iterator[None]:
    """Turn typed errors into one line on stderr and exit code 2; never a traceback."""
    try:
        yield
    except (StoreError, ProviderError) as exc:
        stderr_console().print(f"calsync: {exc}", markup=False)
        sys.exit(EXIT_USAGE)
    except OSError as exc:
        # a folder that cannot be created or a file that cannot be read: say which
        where = f": {exc.filename}" if exc.filename else ""
        stderr_console().print(f"calsync: {exc.strerror or exc}{where}", markup=False)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        stderr_console().print("calsync: interrupted", markup=False)
        sys.exit(130)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
