"""`python -m app.cli` runs the papertrend command line."""

from app.cli import main

main()
