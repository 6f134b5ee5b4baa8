"""`sql:CONNECTION/OWNER` — the CRM's own database table of activities.

`config.py` reads and checks a `[sql.CONNECTION]` table of calsync.toml, `mapping.py`
turns a row into an `Event` and back, `provider.py` lists and writes the rows of one
owner with SQLAlchemy Core, and `check.py` answers `calsync check`.
"""
