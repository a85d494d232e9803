"""People: signed links (tokens), address validation, queries and the subscription service."""
