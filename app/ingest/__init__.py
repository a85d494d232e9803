"""Ingest: pull papers from files and live sources and merge them into one row per paper.

`records` (the source-neutral record), `parse/` (pure parsers), `sources/` (one httpx client
per upstream, file reading), `merge` (pure merge rules), `queries` (bulk upsert),
`bookkeeping` (watermarks, job runs), `service` (one function per source), `flows`
(transactions and failure containment per source).
"""
