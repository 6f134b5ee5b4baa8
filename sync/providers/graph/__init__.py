"""Microsoft 365 calendars through Microsoft Graph: `graph:anna@example.com`.

provider.py    the provider: listing, fetching, writing one mailbox's calendar
client.py      the HTTP edge: app-only tokens, requests, retries, error mapping
delta.py       the calendarView/delta index: what a delta page changes
series.py      recurring series: instances, masters, the 1825-day view limit
mapping.py     Event <-> Graph event JSON
zones.py       time zones as Graph and Outlook name them

Nothing is imported here: the registry names `sync.providers.graph.provider`.
"""
