"""The workload plugin base and the in-memory dataset every executor ships once.

A workload loads and splits its data, names its metric and mode, offers a default search
space, and builds the :class:`~tunebench.trial.Trainable` for one config. The workload object
itself is small and picklable (only its options); the :class:`Dataset` is the heavy part that
executors place on workers once.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from tunebench.checks import Check
from tunebench.space import Choice, Conditional, Constant, Domain, IntUniform, Mixture, Space, Uniform
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
        self.chunk_size = max(1, min(self.chunk_size, len(self.X_train)))  # a dataset without rows: no chunks

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

    def hyperparameters(self) -> Collection[str] | Mapping[str, Check] | None:
        """The names a config may set (checked against the space before anything runs); None: any.
        A mapping to a :class:`~tunebench.checks.Check` bounds the values too (:func:`check_space`)."""
        return None

    def describe(self) -> dict[str, Any]:
        """Options to record in ``summary.json``."""
        return {"name": self.name, "metric": self.metric, "mode": self.mode}


def domain_values(domain: Domain) -> list[Any]:
    """The values of a domain a check must allow: a range's ends, every choice, a constant.

    >>> domain_values(IntUniform(0, 3)), domain_values(Choice(("a", "b")))
    ([0, 3], ['a', 'b'])
    """
    if isinstance(domain, (Uniform, IntUniform)):
        return [domain.low, domain.high]
    if isinstance(domain, Choice):
        return list(domain.values)
    if isinstance(domain, Constant):
        return [domain.value]
    if isinstance(domain, Mixture):
        return [v for _, d in domain.components for v in domain_values(d)]
    if isinstance(domain, Conditional):
        return [v for _, d in domain.cases for v in domain_values(d)]
    return []


def check_space(allowed: Mapping[str, Check], space: Space) -> None:
    """Raise the :class:`~tunebench.checks.ParamError` of the first value of ``space`` that its
    hyperparameter's check refuses, so a bad bound fails at config load, not in a trial."""
    for name, domain in space.domains.items():
        for value in domain_values(domain) if name in allowed else []:
            allowed[name].check(name, value)
