"""Pure parsers: bytes or decoded rows in, `PaperRecord`s and error messages out.

No network, database, settings or clock here (checked by import-linter). Each source has
two steps: split the response into raw items (plain JSON-able dicts, stored as the paper's
raw record) and map one raw item to a `PaperRecord`, so a parser fix can re-parse stored
raw items without fetching them again. One broken item never hides its neighbours.
"""
