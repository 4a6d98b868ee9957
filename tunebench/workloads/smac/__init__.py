"""SMAC3's multi-fidelity benchmark tasks as workloads: real training, offline, scikit-learn's bundled data.

``smac-mlp`` (:mod:`~tunebench.workloads.smac.mlp`: an MLP on breast cancer, budget = epochs) and
``smac-svm`` (:mod:`~tunebench.workloads.smac.svm`: an SVM on pairs of digit classes, budget =
instance-seed pairs), each with SMAC3's conditional space, cross-validation and budget range;
steps map to the budget as the synthetic workloads map them to a fidelity
(:mod:`~tunebench.workloads.smac.base`). The package imports only the base, so that the config
loader can know a SMAC task without importing the models.
"""

from tunebench.workloads.smac.base import SMACTask, SMACTrainable, budget_at

__all__ = ["SMACTask", "SMACTrainable", "budget_at"]
