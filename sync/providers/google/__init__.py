"""Google Calendar: through the Calendar API v3 (`google:`, provider.py) or through
Google's CalDAV endpoint (`google-caldav:`, caldav.py). Both take their credentials
from the `[google]` table of calsync.toml (auth.py): a service account with
domain-wide delegation, or per-user refresh tokens from `calsync google auth NAME`.
"""
