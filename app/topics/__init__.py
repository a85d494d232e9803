"""Topic modelling: research areas and techniques, their names, and their identity across rebuilds.

The pure code lives in `clustering` (grouping), `labeling` (words and names), `tracking` (matching and
assigning) and `model` (the orchestrating `build_topic_model`). Nothing here touches the database.
"""
