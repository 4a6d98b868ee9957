"""Random search as a searcher: each new trial's config drawn from the space.

It draws from the scheduler's own generator, exactly as a scheduler without a searcher samples
(``space.sample(scheduler.rng)``), so ``searcher: random`` changes no seeded decision: the same
configs, the same brackets, the same PBT mutations. Standalone it draws from its own. Given
candidates (:meth:`~tunebench.searcher.Searcher.candidates`: a recording's configs) it draws
uniformly among those not proposed yet, so a finite table is sampled without replacement
until every config was drawn once, then again.

>>> import numpy as np
>>> from tunebench.space import Space
>>> space = Space.from_spec({"x": {"uniform": [0, 1]}})
>>> s = RandomSearcher(space, seed=3)
>>> s.attach(np.random.default_rng(3))
>>> s.suggest(0) == space.sample(np.random.default_rng(3))
True
>>> s.candidates([{"x": 0.1}, {"x": 0.2}, {"x": 0.3}])
>>> sorted(s.suggest(t)["x"] for t in range(1, 4))
[0.1, 0.2, 0.3]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tunebench.searcher import Searcher
from tunebench.trial import Config


class RandomSearcher(Searcher):
    """Configs sampled from the space; observations are kept but change nothing."""

    name = "random"

    def __init__(self, space: Any, *, seed: int = 0, mode: str = "max", pending: str = "none") -> None:
        super().__init__(space, seed=seed, mode=mode, pending=pending)

    def attach(self, rng: np.random.Generator) -> None:
        """Share the scheduler's generator, so seeded runs draw what they drew before searchers."""
        self.rng = rng

    def propose(self, trial_id: int) -> Config:
        return self.space.sample(self.rng) if self.table is None else self.pick_fresh()
