"""The early-trending model's one error type, importable without loading scikit-learn (the CLI)."""


class ModelError(ValueError):
    """A model cannot be fitted on these data, or a stored model is unreadable."""
