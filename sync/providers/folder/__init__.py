"""`folder:PATH` — a calendar kept as a folder of .ics files (a vdir).

provider.py  the provider: identity, listing, fetching, writing

Nothing is imported here: the registry names `sync.providers.folder.provider`.
"""
