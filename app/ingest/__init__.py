"""Ingest: pull papers from files and live sources and merge them into one row per paper.

`records` (the source-neutral record), `parse/` (pure parsers, one module per source),
`sources/` (one module per upstream: its client and its run; file reading), `registry`
(one record per live source, from which the settings check, the runner, the CLI commands,
the scheduled jobs and re-parsing are derived), `merge` (pure merge rules), `queries` (bulk
upsert and the paper reads), `bookkeeping` (watermarks, cursors, job runs), `service` (the
file ingest, never commits), `flows` (one transaction and one JobRun per live source),
`reparse` (stored raw items through the current parsers).
"""
