"""One module per upstream: httpx clients for arXiv (API, OAI-PMH, RSS) and Hugging Face, and file reading."""
