"""BOHB's searcher: a kernel density model per budget (Falkner, Klein and Hutter, ICML 2018).

Every step a trial is observed at is a budget. At each budget with enough observations, the
observed configs are split into the best ``top_n_percent`` and the rest, and a KDE is fit to
each (:mod:`schedulers.searchers.kde`; at least ``min_points_in_model`` points in each part, and more points
than dimensions, as in hpbandster). A new trial's config is random with probability
``random_fraction``; otherwise ``num_samples`` candidates are drawn around the good points of
the model of the *largest* budget that has one, with bandwidths widened by
``bandwidth_factor``, and the one maximising ``l(x) / g(x)`` wins. So ``scheduler: hyperband``
with ``searcher: bohb`` is BOHB, and ``asha`` with ``bohb`` its asynchronous form. Given
candidates (a recording's configs, :meth:`~tunebench.searcher.Searcher.candidates`), the
candidates are the table's configs not proposed yet, each scored by ``l(x) / g(x)``, and the
random proposals are drawn among them too.

``models`` holds the fitted ``(good, bad)`` pair of each budget, to inspect. Under
``pending: constant_liar``, the default, the pending trials join the bad side of the model
used for a proposal (scored the worst seen at its budget) and never its good side, as in
Optuna's constant liar; the stored models hold observations only.

>>> from tunebench.space import Space
>>> s = BOHBSearcher(Space.from_spec({"x": {"uniform": [0, 1]}}), min_points_in_model=3, random_fraction=0.0)
>>> for t in range(8):
...     c = s.suggest(t)
...     s.observe(t, c, 1, -abs(c["x"] - 0.3))
>>> sorted(s.models), s.models[1][0].n, s.models[1][1].n
([1], 3, 5)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tunebench.checks import Float, Int, check
from tunebench.searcher import Searcher
from tunebench.trial import Config

from schedulers.searchers.kde import KDE, best_candidate, best_index, fit_kde, kde_sample
from schedulers.searchers.vectors import Encoding


def split_sizes(n: int, top_n_percent: float, min_points: int) -> tuple[int, int]:
    """hpbandster's sizes of the good and the bad part of ``n`` observations.

    >>> split_sizes(20, 15, 3), split_sizes(40, 15, 3)
    ((3, 17), (6, 34))
    """
    n_good = max(min_points, int(top_n_percent * n) // 100)
    n_bad = max(min_points, int((100 - top_n_percent) * n) // 100)
    return n_good, n_bad


class BOHBSearcher(Searcher):
    """BOHB's per-budget good/bad KDE model; keys as in the paper and hpbandster.

    ``min_points_in_model`` defaults to the number of dimensions plus one.
    """

    name = "bohb"
    params = {
        "min_points_in_model": Int(2, optional=True, note="null: the number of dimensions plus one, the least allowed"),
        "top_n_percent": Float(0, 100, low_open=True, high_open=True),
        "num_samples": Int(1),
        "random_fraction": Float(0, 1),
        "bandwidth_factor": Float(0, low_open=True),
        "min_bandwidth": Float(0, 1, low_open=True),
    }

    def __init__(
        self,
        space: Any,
        *,
        seed: int = 0,
        mode: str = "max",
        pending: str = "constant_liar",
        min_points_in_model: int | None = None,
        top_n_percent: float = 15,
        num_samples: int = 64,
        random_fraction: float = 1 / 3,
        bandwidth_factor: float = 3.0,
        min_bandwidth: float = 1e-3,
    ) -> None:
        super().__init__(space, seed=seed, mode=mode, pending=pending)
        self.encoding = Encoding(space)
        floor = self.encoding.dims + 1
        points = check(self, "min_points_in_model", min_points_in_model)
        note = "at least the number of dimensions plus one"
        self.min_points_in_model: int = floor if points is None else Int(floor, note=note).check("min_points_in_model", points)
        self.top_n_percent: float = check(self, "top_n_percent", top_n_percent)
        self.num_samples: int = check(self, "num_samples", num_samples)
        self.random_fraction: float = check(self, "random_fraction", random_fraction)
        self.bandwidth_factor: float = check(self, "bandwidth_factor", bandwidth_factor)
        self.min_bandwidth: float = check(self, "min_bandwidth", min_bandwidth)
        self.models: dict[int, tuple[KDE, KDE]] = {}
        self.budgets_used: list[int | None] = []  # the model's budget at each proposal

    def on_observe(self, trial_id: int, step: int, score: float) -> None:
        model = self.fit(self.at_step(step))
        if model is not None:
            self.models[step] = model

    def fit(self, observed: list[tuple[Config, float]], lied: list[Config] | None = None) -> tuple[KDE, KDE] | None:
        """The ``(good, bad)`` KDEs of one budget's observations, or ``None`` if too few.

        ``lied`` (pending configs under ``constant_liar``) join the bad side only, as Optuna's
        constant liar ranks running trials worst: the good side and the split sizes come from
        the observations alone, so pending trials push proposals away without diluting the good
        side with worse observations."""
        if len(observed) < self.min_points_in_model or not self.encoding.dims:
            return None
        vectors = np.array([self.encoding.encode(c) for c, _ in observed])
        losses = np.array([-self.key(s) for _, s in observed])
        order = np.argsort(losses, kind="stable")
        n_good, n_bad = split_sizes(len(observed), self.top_n_percent, self.min_points_in_model)
        good, bad = vectors[order[:n_good]], vectors[order[n_good : n_good + n_bad]]
        if lied:
            bad = np.vstack([bad, [self.encoding.encode(c) for c in lied]])
        if len(good) <= self.encoding.dims or len(bad) <= self.encoding.dims:
            return None
        nv = self.encoding.n_values
        return fit_kde(good, nv, self.min_bandwidth), fit_kde(bad, nv, self.min_bandwidth)

    def model_for_proposal(self) -> tuple[int, tuple[KDE, KDE]] | None:
        """The largest budget's model, refit with the pending trials as lies if asked to."""
        if not self.models:
            return None
        budget = max(self.models)
        lies = self.lies(budget)
        if not lies:
            return budget, self.models[budget]
        model = self.fit(self.at_step(budget), [config for config, _ in lies])
        return budget, model if model is not None else self.models[budget]

    def propose(self, trial_id: int) -> Config:
        chosen = self.model_for_proposal()
        if chosen is None or self.rng.random() < self.random_fraction:
            self.budgets_used.append(None)
            return self.space.sample(self.rng) if self.table is None else self.pick_fresh()
        budget, (good, bad) = chosen
        self.budgets_used.append(budget)
        if self.table is not None:
            fresh = self.fresh()
            vectors = np.array([self.encoding.encode(self.table[i]) for i in fresh])
            return dict(self.table[fresh[best_index(good, bad, vectors)]])
        candidates = kde_sample(good, self.rng, self.num_samples, self.bandwidth_factor, self.min_bandwidth)
        return self.encoding.decode(best_candidate(good, bad, candidates))
