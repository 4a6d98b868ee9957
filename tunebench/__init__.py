"""tunebench: compare hyperparameter-tuning schedulers on the engines people already run."""

__version__ = "0.1.0"
