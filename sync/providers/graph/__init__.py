"""Microsoft 365 calendars through Microsoft Graph: `graph:anna@example.com`.

provider.py    the provider: listing, fetching, writing one mailbox's calendar
mailbox.py     the mailbox's REST resources: paths, calendar, events, UID and master lookups
delta.py       the calendarView/delta round and the index it keeps up to date
series.py      recurring series: instances, own writes to a series, the 1825-day view limit
meetings.py    meetings the mailbox organizes: writes that would notify are refused
mapping.py     Event <-> Graph event JSON
zones.py       time zones as Graph and Outlook name them
client.py      the HTTP edge: requests, retries, Graph errors as calsync's
tokens.py      app-only tokens from Microsoft Entra (secret or certificate)
settings.py    the `[graph]` table, checked without connecting
checks.py      `calsync check`: token, mailbox, write permission

Nothing is imported here: the registry names `sync.providers.graph.provider`.
"""
