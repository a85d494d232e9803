"""What each subscriber gets: schedule (periods, due), selection (pure ranking), queries, build service."""
