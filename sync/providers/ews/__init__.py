"""Exchange calendars over EWS (exchangelib): `ews:anna@example.com`.

provider.py    the provider: listing, fetching, writing one mailbox's calendar
connection.py  reaching Exchange: credentials, version, retries, TLS and deadlines
errors.py      exchangelib's exceptions as calsync's typed one-line errors
checks.py      `calsync check`: endpoint, service account, access, rights
config.py      the `[exchange]` table, checked without importing exchangelib
mapping.py     Event <-> exchangelib CalendarItem

Nothing is imported here: the registry names `sync.providers.ews.provider`, and
`config` stays importable without exchangelib.
"""
