"""Peers: other tuning systems (Dask-ML, Ray Tune, Optuna, scikit-learn, Hyperopt, DEHB, HpBandSter,
SMAC3) run on the same task as our schedulers, each writing the same run-directory schema.

Found by name through the ``tunebench.peers`` entry-point group.
"""
