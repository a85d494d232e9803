"""papertrend: what is happening in your research field."""
