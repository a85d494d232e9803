"""One module per upstream: its client (`SourceClient`) and its run, plus reading files.

`base` holds what every run gets (`SourceRun`) and shares (`upsert_parsed`); `http` the
polite fetching (limiter, retries); `shared_limiter` arXiv's pace held across processes.
A source module is registered in `app.ingest.registry`.
"""
