"""The CalDAV wing: `caldav:` calendars on any CalDAV server (Google's endpoint included).

provider.py is the entry point (`CalDAVProvider`); http.py and probe.py are the two
transports (the caldav library, the standard library), each.py the one-resource
fallbacks, identity.py tells a calendar from one re-created at its URL, and
sync_reply.py reads a sync-collection reply.
"""
