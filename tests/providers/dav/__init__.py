"""CalDAV test servers and the tests of the CalDAV wing (sync/providers/dav/)."""
