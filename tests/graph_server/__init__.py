"""A loopback Microsoft Graph test server (see server.py) and its pytest fixtures."""

from tests.graph_server.server import App, Fault, GraphTestServer
from tests.graph_server.store import GraphError, Mailbox

__all__ = ["App", "Fault", "GraphError", "GraphTestServer", "Mailbox"]
