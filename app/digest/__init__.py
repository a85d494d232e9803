"""What each subscriber gets: schedule and due (periods, who is due), selection (pure ranking),
plan (what each due subscriber gets), queries, built (the plain data) and the build service."""
