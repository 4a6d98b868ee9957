"""Tabular datasets for the SGD workload: circles, digits, MNIST, or a user's CSV/Parquet file.

Each loader returns ``(X, y)``; :func:`split` makes the train / validation / test split
(stratified, seeded) that the workloads use.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

DATASETS = ("circles", "digits", "mnist", "file")


def make_circles(n_samples: int, seed: int, n_classes: int = 4, n_noise: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """The synthetic set of Sievert et al. (SciPy 2019): ``n_classes`` concentric circles.

    Two informative features (a point on a ring with radius ``class + 1`` plus Gaussian jitter)
    and ``n_noise`` uniform-noise features. Deterministic for a seed.

    >>> X, y = make_circles(8, seed=0)
    >>> X.shape, sorted(set(y.tolist())) == [0, 1, 2, 3]
    ((8, 6), True)
    """
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % n_classes
    rng.shuffle(y)
    angle = rng.uniform(0, 2 * np.pi, n_samples)
    radius = (y + 1).astype(float) + rng.normal(0, 0.3, n_samples)
    informative = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    noise = rng.uniform(-n_classes, n_classes, size=(n_samples, n_noise))
    return np.hstack([informative, noise]).astype(np.float64), y.astype(np.int64)


def load_digits_xy() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 digits (1,797 images)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.data.astype(np.float64), bunch.target.astype(np.int64)


def load_mnist_xy(data_dir: str | None) -> tuple[np.ndarray, np.ndarray]:
    """All 70,000 MNIST images as flat uint8 rows (see :mod:`tunebench.workloads.mnist`)."""
    from tunebench.workloads.mnist import load_mnist

    X_train, y_train, X_test, y_test = load_mnist(data_dir)
    X = np.concatenate([X_train, X_test]).reshape(-1, 784)
    return X, np.concatenate([y_train, y_test]).astype(np.int64)


def load_file(path: str | Path, target: str = "target") -> tuple[np.ndarray, np.ndarray]:
    """A CSV or Parquet table with a ``target`` column; every other column must be numeric."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"workload.path: no such file {str(path)!r}")
    if path.suffix.lower() == ".parquet":
        frame = pd.read_parquet(path)
    elif path.suffix.lower() in (".csv", ".txt") or path.name.lower().endswith(".csv.gz"):
        frame = pd.read_csv(path)
    else:
        raise ValueError(f"workload.path: {path.name!r} is neither .csv nor .parquet")
    if target not in frame.columns:
        raise ValueError(f"workload.path: {path.name!r} has no {target!r} column (columns: {', '.join(map(str, frame.columns[:10]))})")
    features = frame.drop(columns=[target])
    bad = [str(c) for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if bad:
        raise ValueError(f"workload.path: non-numeric feature column(s) {', '.join(bad[:5])} in {path.name!r}")
    if len(frame) < 10:
        raise ValueError(f"workload.path: {path.name!r} has {len(frame)} rows; need at least 10")
    return features.to_numpy(dtype=np.float64), frame[target].to_numpy()


def split(
    X: np.ndarray, y: np.ndarray, seed: int, val_fraction: float, test_fraction: float, stratify: bool = True
) -> tuple[np.ndarray, ...]:
    """Shuffle and split into train, validation, test (stratified when every class can be)."""
    strat = y if stratify and _can_stratify(y, val_fraction, test_fraction) else None
    X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=test_fraction, random_state=seed, stratify=strat)
    strat_rest = y_rest if strat is not None else None
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=val_fraction / (1 - test_fraction), random_state=seed + 1, stratify=strat_rest
    )
    return X_train, y_train, X_val, y_val, X_test, y_test


def _can_stratify(y: np.ndarray, val_fraction: float, test_fraction: float) -> bool:
    _, counts = np.unique(y, return_counts=True)
    return len(counts) > 1 and counts.min() * min(val_fraction, test_fraction) >= 1
