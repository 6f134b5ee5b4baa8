"""`folder:PATH` — a calendar kept as a folder of .ics files (a vdir).

provider.py  the provider: identity, listing, fetching, writing
listing.py   the listing index (one stat per unchanged file) and loading items
files.py     file names, etags, reads, and atomic writes made durable in batches

Nothing is imported here: the registry names `sync.providers.folder.provider`.
"""
