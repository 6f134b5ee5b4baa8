"""A loopback Google Calendar API v3 + OAuth token endpoint for tests (server.py)."""
