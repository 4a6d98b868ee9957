"""Checkpoints of a trainable whose whole state is its config, its steps and one picklable model
(scikit-learn estimators trained by ``partial_fit`` or warm starts): :class:`PickledModel`."""

from __future__ import annotations

import pickle
from typing import Any


class PickledModel:
    """``save`` and ``restore`` as one pickle of ``(config, steps, model)``."""

    config: dict[str, Any]
    steps: int
    model: Any

    def save(self) -> bytes:
        return pickle.dumps((self.config, self.steps, self.model))

    def restore(self, state: bytes) -> None:
        config, self.steps, self.model = pickle.loads(state)
        self.config = dict(config)
