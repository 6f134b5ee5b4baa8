"""The footer every full screen uses: its keys, and `? Help` always in sight.

Textual's footer lists a screen's keys first and the app's last, so on 80 columns
the app's `?` falls off the end; here it is docked on the right, where the cut
never reaches, and a click on it opens the help as the key does. So is the key that
cancels a running sync, while there is one.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import HorizontalGroup
from textual.widgets import Footer, Static


class HelpKey(Static):
    DEFAULT_CSS = """
    HelpKey {
        width: auto;
        height: 1;
        padding: 0 1;
        background: $footer-background;
        color: $footer-foreground;
    }
    """

    def __init__(self) -> None:
        super().__init__("[bold $footer-key-foreground]?[/] Help", id="help-key")

    async def _on_click(self, event: events.Click) -> None:
        event.stop()
        await self.app.run_action("help")


class KeysFooter(Footer):
    """`pinned` actions' keys (cancel a run) dock on the right too, whatever comes before."""

    DEFAULT_CSS = """
    KeysFooter #pinned-keys {
        dock: right;
        width: auto;
        height: 1;
        background: $footer-background;
        border-left: vkey $foreground 20%;
        padding-left: 1;
    }
    """
    PINNED = frozenset({"cancel_run"})

    def compose(self) -> ComposeResult:
        pinned = []
        for widget in super().compose():
            if getattr(widget, "action", None) in self.PINNED:
                widget.add_class("-pinned")
                pinned.append(widget)
            else:
                yield widget
        with HorizontalGroup(id="pinned-keys"):
            yield from pinned
            yield HelpKey()
