"""tunebench: compare hyperparameter-tuning schedulers on the engines people already run."""

__version__ = "0.1.0"


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    """``tunebench.TuneSearchCV`` is imported on first use, so ``import tunebench`` stays light."""
    if name == "TuneSearchCV":
        from tunebench.integrations.sklearn import TuneSearchCV

        return TuneSearchCV
    raise AttributeError(f"module 'tunebench' has no attribute {name!r}")
