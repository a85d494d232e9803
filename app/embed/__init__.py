"""Embeddings, the vector index and search.

`encoder` (the sentence-transformers adapter and a hashing encoder for tests), `vectors`
(pure array helpers), `queries` (embedding rows), `service` (embed pending papers, bulk reads),
`transfer` (export/import of vector files), `faiss_index` (the faiss adapter), `index` (keeping
the saved index in step with the database), `fulltext` (SQLite FTS5 / PostgreSQL full-text),
`fulltext_pg` (PostgreSQL full-text: the vector expression, the search condition, the batched
fill of NULL vectors), `query_parse` and `fusion` (pure search helpers) and `search` (hybrid
search, similar papers).

Nothing here is imported eagerly: torch and faiss load only when a caller needs them.
"""
