"""The CalDAV wing: `caldav:` calendars on any CalDAV server (Google's endpoint included).

provider.py    the entry point, `CalDAVProvider`, put together from:
  connection.py  settings, credentials, requests and hrefs of one collection (config.py)
  listing.py     sync-collection, calendar-query and calendar-multiget
  series.py      recurring series: occurrences listed and written into one resource
  writing.py     conditional PUT and DELETE of single items; what a 409 means
  cancelled.py   cancelled events and occurrences are deletions
http.py        requests through the caldav library: timeouts, retries (429/503 and a
               usage-limit 403), one-line errors
probe.py       the listing requests over the standard library (multistatus.py and
               sync_reply.py read their replies)
each.py        one resource at a time, where a bulk answer says too little
identity.py    a calendar told from one re-created at its URL
"""
