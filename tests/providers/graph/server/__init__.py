"""A loopback Microsoft Graph test server (see server.py) and its pytest fixtures."""

from tests.providers.graph.server.server import App, Fault, GraphTestServer
from tests.providers.graph.server.store import GraphError, Mailbox

__all__ = ["App", "Fault", "GraphError", "GraphTestServer", "Mailbox"]
