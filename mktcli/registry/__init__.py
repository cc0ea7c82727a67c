"""The creative registry: what mkt made, where it went, and what a reviewer said about it.

store.py         the SQLite file: records, statuses and their history, recall, audit samples and decisions
review_sheet.py  the audit's self-contained HTML review sheet

Nothing is imported here, so `import mktcli.registry.store` is the only thing that loads sqlite3."""
