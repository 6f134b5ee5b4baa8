"""`calsync google auth NAME`: a user's one-time consent for calsync to use their Google calendar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from storage.errors import StoreError
from sync.providers.base import ProviderError
from sync.users import get_user
from tui.cli.common import fail, out_console, state

google_app = typer.Typer(
    name="google",
    help="Google Calendar: per-user consent (service accounts need none).",
    no_args_is_help=True,
)


def _say(message: str) -> None:
    out_console.print(message, markup=False, soft_wrap=True)


@google_app.command("auth")
def auth_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The user whose Google calendar to authorize.")],
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Print the consent URL instead of opening it.")
    ] = False,
    port: Annotated[
        int, typer.Option("--port", help="Local port for Google's redirect (0: any free port).")
    ] = 0,
    timeout: Annotated[
        int, typer.Option("--timeout", help="Seconds to wait for the consent in the browser.")
    ] = 300,
) -> None:
    """Open Google's consent page and store the user's refresh token (0600 token file)."""
    # imported here: every `calsync` command registers this one, and the Google
    # provider pulls in the caldav library's HTTP stack (~0.3 s) that a sync of
    # other calendars never needs
    import webbrowser

    from sync.providers.google.auth import SCOPE_CALENDAR, SCOPE_EVENTS
    from sync.providers.google.consent import run_consent
    from sync.providers.google.provider import GoogleProvider

    st = state(ctx)
    try:
        user = get_user(st.workspace, name)
        remote = str(user.get("remote") or "")
        if not remote.startswith(("google:", "google-caldav:")):
            fail(
                f"user {name}'s remote calendar is {remote or 'not set'}, not google:CALENDAR_ID "
                "(or google-caldav:CALENDAR_ID)"
            )
        calendar_id = GoogleProvider.calendar_id_of(remote)
        # the Calendar API needs only events; Google's CalDAV endpoint the whole calendar
        scopes = (SCOPE_CALENDAR,) if remote.startswith("google-caldav:") else (SCOPE_EVENTS,)
        table = dict(st.config.providers.get("google") or {})
        configured = table.get("token_file")
        token_file = (
            Path(str(configured)).expanduser()
            if configured
            else st.workspace.root / "google-tokens.json"
        )

        def show(url: str) -> None:
            _say(f"Sign in as {calendar_id} and allow calsync access to the calendar:")
            _say(url)
            if not no_browser:
                webbrowser.open(url)
            _say("Waiting for Google's reply…")

        result = run_consent(
            table,
            calendar_id,
            token_file,
            show_url=show,
            port=port,
            timeout=timeout,
            scopes=scopes,
        )
    except (StoreError, ProviderError) as exc:
        fail(str(exc))
    _say(f"Authorized google:{result.calendar_id} for {name}; refresh token stored in {token_file}")
    if result.short_lived:
        days = (result.expires_in or 0) / 86400
        _say(
            f"Warning: Google says this refresh token expires in {days:.1f} days: the OAuth "
            "client is in Testing (7-day tokens). Publish it (OAuth consent screen → "
            f"Publish app) or make it Internal, then run `calsync google auth {name}` again."
        )
    if not configured:
        _say(f'Add to [google] in calsync.toml:  token_file = "{token_file}"')


def register(app: typer.Typer) -> None:
    """Add `calsync google …` to the root `app`."""
    app.add_typer(google_app, name="google")
