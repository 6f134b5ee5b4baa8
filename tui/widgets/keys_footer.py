"""The footer every full screen uses: its keys, and `? Help` always in sight.

Textual's footer lists a screen's keys first and the app's last, so on 80 columns
the app's `?` falls off the end; here it is docked on the right, where the cut
never reaches, and a click on it opens the help as the key does.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.widgets import Footer, Static


class HelpKey(Static):
    DEFAULT_CSS = """
    HelpKey {
        dock: right;
        width: auto;
        height: 1;
        padding: 0 1;
        background: $footer-background;
        color: $footer-foreground;
        border-left: vkey $foreground 20%;
    }
    """

    def __init__(self) -> None:
        super().__init__("[bold $footer-key-foreground]?[/] Help", id="help-key")

    async def _on_click(self, event: events.Click) -> None:
        event.stop()
        await self.app.run_action("help")


class KeysFooter(Footer):
    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield HelpKey()
