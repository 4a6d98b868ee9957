"""The workload plugin base and the in-memory dataset every executor ships once.

A workload loads and splits its data, names its metric and mode, offers a default search
space, and builds the :class:`~tunebench.trial.Trainable` for one config. The workload object
itself is small and picklable (only its options); the :class:`Dataset` is the heavy part that
executors place on workers once.
"""

from __future__ import annotations

import abc
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from tunebench.checks import Check
from tunebench.space import Space
from tunebench.trial import Config, Trainable


@dataclass
class Dataset:
    """Train / validation / test arrays; training is split into chunks, one per step."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    chunk_size: int
    classes: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {self.chunk_size}")
        self.chunk_size = min(self.chunk_size, len(self.X_train))

    @property
    def n_chunks(self) -> int:
        return -(-len(self.X_train) // self.chunk_size)

    def chunk(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        """The training chunk used by the ``step``-th step (0-based), cycling through the set."""
        k = step % self.n_chunks
        lo = k * self.chunk_size
        return self.X_train[lo : lo + self.chunk_size], self.y_train[lo : lo + self.chunk_size]

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.X_train, self.y_train, self.X_val, self.y_val, self.X_test, self.y_test))

    def sizes(self) -> dict[str, int]:
        return {
            "train": len(self.X_train),
            "validation": len(self.X_val),
            "test": len(self.X_test),
            "chunk_size": self.chunk_size,
        }


class Workload(abc.ABC):
    """Base class of workload plugins; keyword arguments of ``__init__`` are its config keys,
    checked by the :class:`~tunebench.checks.Check` each has in ``params``."""

    name: ClassVar[str] = ""
    params: ClassVar[dict[str, Check]] = {}
    metric: ClassVar[str] = "score"
    mode: ClassVar[str] = "max"
    optimum: float | None = None  # the best score there is, where known: runs report their regret against it

    @abc.abstractmethod
    def load(self, seed: int) -> Dataset:
        """Load and split the data (deterministic for a seed)."""

    @abc.abstractmethod
    def default_space(self) -> Space:
        """The search space used when the config gives none."""

    @abc.abstractmethod
    def build(self, config: Config, data: Dataset, seed: int) -> Trainable:
        """A fresh Trainable for ``config``, seeded by ``seed``."""

    def hyperparameters(self) -> Collection[str] | None:
        """The names a config may set (checked against the space before anything runs); None: any."""
        return None

    def describe(self) -> dict[str, Any]:
        """Options to record in ``summary.json``."""
        return {"name": self.name, "metric": self.metric, "mode": self.mode}
