"""Tabular datasets for the workloads: circles, scikit-learn's bundled sets, a fixed synthetic
set, MNIST, or a user's CSV/Parquet file.

Each loader returns ``(X, y)``; :func:`split` makes the train / validation / test split
(stratified, seeded) that the workloads use. The bundled sets (:data:`TABULAR`) ship with
scikit-learn or are generated, so nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

TABULAR = ("digits", "breast_cancer", "wine", "iris", "synthetic")
DATASETS = ("circles", *TABULAR, "mnist", "file")
SYNTHETIC = {
    "n_samples": 2000,
    "n_features": 20,
    "n_informative": 10,
    "n_redundant": 5,
    "n_classes": 5,
    "n_clusters_per_class": 2,
    "class_sep": 0.8,
    "flip_y": 0.05,
    "random_state": 0,
}


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


def load_tabular(name: str) -> tuple[np.ndarray, np.ndarray]:
    """One of :data:`TABULAR`: a set bundled with scikit-learn (digits: 1,797 rows, 64 features, 10
    classes; breast_cancer: 569, 30, 2; wine: 178, 13, 3; iris: 150, 4, 3), or ``synthetic``:
    ``make_classification(**SYNTHETIC)``, 2,000 rows of 5 classes in 2 clusters each with 5%
    flipped labels, the same rows whatever the run's seed: not linearly separable by design.

    >>> X, y = load_tabular("synthetic")
    >>> X.shape, len(set(y.tolist()))
    ((2000, 20), 5)
    """
    from sklearn import datasets as bundled

    if name == "synthetic":
        X, y = bundled.make_classification(**SYNTHETIC)
    elif name in TABULAR:
        X, y = getattr(bundled, f"load_{name}")(return_X_y=True)
    else:
        raise ValueError(f"dataset must be one of {', '.join(TABULAR)}, got {name!r}")
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)


def load_mnist_xy(data_dir: str | None) -> tuple[np.ndarray, np.ndarray]:
    """All 70,000 MNIST images as flat uint8 rows (see :mod:`tunebench.workloads.mnist`)."""
    from tunebench.workloads.mnist import load_mnist

    X_train, y_train, X_test, y_test = load_mnist(data_dir)
    X = np.concatenate([X_train, X_test]).reshape(-1, 784)
    return X, np.concatenate([y_train, y_test]).astype(np.int64)


def load_file(path: str | Path, target: str = "target") -> tuple[np.ndarray, np.ndarray]:
    """A CSV or Parquet table with a ``target`` column of class labels; every other column a
    finite number. Anything else is one ValueError naming the file, the column and what is
    allowed (:func:`check_table`), before any model sees the data."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"workload.path: no such file {str(path)!r}")
    frame = read_table(path)
    features, labels = check_table(frame, target, path.name)
    return features.to_numpy(dtype=np.float64), labels.to_numpy()


def read_table(path: Path) -> Any:
    """The file as a DataFrame; an unreadable or empty file is a ValueError naming it."""
    import pandas as pd

    name = path.name.lower()
    if name.endswith(".parquet"):
        reader, kind = pd.read_parquet, "Parquet"
    elif name.endswith((".csv", ".txt", ".csv.gz")):
        reader, kind = pd.read_csv, "CSV"
    else:
        raise ValueError(f"workload.path: {path.name!r} is neither .csv nor .parquet")
    try:
        return reader(path)
    except pd.errors.EmptyDataError:
        raise ValueError(f"workload.path: {path.name!r} is empty; need a header row and at least {MIN_ROWS} rows") from None
    except Exception as exc:  # a parser's own error: say which file and why, on one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"workload.path: cannot read {path.name!r} as {kind}: {first}") from None


MIN_ROWS = 10


def check_table(frame: Any, target: str, name: str) -> tuple[Any, Any]:
    """``(features, labels)`` of a table, or a ValueError naming ``name``, the column and what is allowed.

    Features must be numeric (numbers or booleans) and finite; the target must be a class
    label on every row, with at least two classes; the table needs ``MIN_ROWS`` rows.

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"a": [1.0, None] * 5, "target": [0, 1] * 5})
    >>> check_table(frame, "target", "d.csv")
    Traceback (most recent call last):
    ...
    ValueError: workload.path: 'd.csv' column 'a' has 5 missing value(s) (first at data row 2); features must be finite numbers: fill or drop them
    """
    import pandas as pd

    where = f"workload.path: {name!r}"
    columns = ", ".join(map(str, frame.columns[:10]))
    if target not in frame.columns:
        raise ValueError(f"{where} has no {target!r} column (columns: {columns}); set workload.target to the label column")
    if len(frame) < MIN_ROWS:
        raise ValueError(f"{where} has {len(frame)} rows; need at least {MIN_ROWS}")
    features, labels = frame.drop(columns=[target]), frame[target]
    if features.shape[1] == 0:
        raise ValueError(f"{where} has no feature columns besides {target!r}; need at least one numeric column")
    for column in features.columns:
        values = features[column]
        if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
            sample = next((v for v in values if isinstance(v, str)), values.iloc[0])
            raise ValueError(
                f"{where} column {str(column)!r} is not numeric (e.g. {sample!r}); features must be numbers or booleans: encode or drop it"
            )
        numbers = values.to_numpy(dtype=np.float64)
        for bad, what in ((np.isnan(numbers), "missing"), (np.isinf(numbers), "infinite")):
            if bad.any():
                raise ValueError(
                    f"{where} column {str(column)!r} has {int(bad.sum())} {what} value(s) (first at data row "
                    f"{int(np.argmax(bad)) + 1}); features must be finite numbers: fill or drop them"
                )
    missing = labels.isna()
    if missing.any():
        raise ValueError(
            f"{where} column {target!r} has {int(missing.sum())} missing label(s) (first at data row "
            f"{int(np.argmax(missing.to_numpy())) + 1}); every row needs a class label"
        )
    if pd.api.types.is_float_dtype(labels) and not np.all(np.mod(labels.to_numpy(), 1) == 0):
        raise ValueError(
            f"{where} column {target!r} holds non-integer numbers; the target must be class labels (integers or strings)"
        )
    classes = labels.unique()
    if len(classes) < 2:
        only = classes[0].item() if isinstance(classes[0], np.generic) else classes[0]
        raise ValueError(f"{where} column {target!r} has a single class {only!r}; need at least 2 classes")
    return features, labels


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
