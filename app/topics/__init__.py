"""Topic modelling: research areas, their subtopics and techniques, their names, and their identity
across rebuilds.

The pure code lives in `clustering` and `kmeans` (grouping), `words` (stop words, stemmer), `phrases`
(phrase counts per paper), `labeling` (names and slugs), `tracking` (matching and assigning), `model`
(the orchestrating `build_topic_model`), `planning` (a rebuild's plan), `manual` (keyword topics) and
`trending` (trend maths); they never touch the database. `queries` holds the SQL; `service`,
`operator` and `trends` are the services that read and write through it (they never commit).
"""
