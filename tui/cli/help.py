"""How `calsync … --help` reads.

Help texts are Rich markup (Typer's rich mode): a literal `[` is written `\\[`, or
`[job]` vanishes. Usage lines name arguments the usual way, `NAME` and `[NAME]...`,
where this Typer version prints `{name}`, which reads like a template placeholder.
"""

from __future__ import annotations

import typer
from typer.core import TyperArgument, TyperCommand


def usage_name(argument: TyperArgument) -> str:
    name = (argument.metavar or argument.name or "").upper()
    if not argument.required:
        name = f"[{name}]"
    return name if argument.nargs == 1 else f"{name}..."


class UsageCommand(TyperCommand):
    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                pieces.append(usage_name(param))
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces


def plain_usage(app: typer.Typer) -> None:
    """Every command of `app` and its sub-apps prints NAME-style usage lines."""
    for command in app.registered_commands:
        if command.cls in (None, TyperCommand):
            command.cls = UsageCommand
    for group in app.registered_groups:
        if group.typer_instance is not None:
            plain_usage(group.typer_instance)
