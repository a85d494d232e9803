"""Topic modelling: research areas and techniques, their names, and their identity across rebuilds.

The pure code lives in `clustering` (grouping), `words` (stop words, stemmer), `phrases` (phrase
counts per paper), `labeling` (names and slugs), `tracking` (matching and assigning) and `model` (the
orchestrating `build_topic_model`). Nothing here touches the database.
"""
