"""Read side shared by the pages, the JSON API and the feeds.

Each module returns plain frozen dataclasses (`types`) built from the tables: `trending`
(ranked papers for a window and day), `papers` (one paper, filtered lists with cursors),
`topics` (list, sparklines, one topic's page), `search` (hybrid or keyword search, similar
papers), `status` (jobs, sources, lag, counts), `calendar` (arXiv's announcement days),
`explain` (the parts of a trending score) and `cache` (response cache and its generation).
Nothing here writes, except `cache.bump_generation`, which the pipeline calls.
"""
