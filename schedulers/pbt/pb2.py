"""PB2's explore (Parker-Holder et al., NeurIPS 2020): pick the new config by GP-UCB.

Every result adds one observation: ``x`` = (the time the interval started, normalised by
``max_iter``; the config's numeric parameters in unit coordinates) and ``y`` = how much the
score improved over that interval, per step. A scikit-learn ``GaussianProcessRegressor``
(Matern 5/2 with a white-noise term) is fitted to the latest ``window`` observations, and an
exploiting member's new config maximises ``mean + kappa * std`` at the current time over
random candidates inside the bounds: half drawn across the whole box, half near the donor's
config. Configs already chosen in the same round enter as pseudo-observations at the
model's own mean ("kriging believer"), which shrinks the uncertainty there and spreads a
batch out. Only plain numeric parameters (uniform, loguniform, randint) that the ``explore``
spec does not freeze are modelled; the scheduler explores the rest with their operator chains
(a frozen parameter's chain is empty, so it keeps the donor's value).
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
from threadpoolctl import threadpool_limits

from tunebench.space import IntUniform, Space, Uniform

from schedulers.pbt.explore import from_unit, to_unit

MIN_OBSERVATIONS = 4


def pb2_parameters(space: Space, explorable: Collection[str] | None = None) -> list[str]:
    """The parameters PB2 models: plain numeric domains with a non-empty range, and (given
    ``explorable``) only those the ``explore`` spec lets change: a parameter frozen with
    ``explore: {p: []}`` keeps its donor's value.

    >>> space = Space.from_spec({"a": {"uniform": [0, 1]}, "b": {"uniform": [0, 1]}, "c": "x"})
    >>> pb2_parameters(space), pb2_parameters(space, ["b", "c"])
    (['a', 'b'], ['b'])
    """
    return [
        n
        for n, d in space.domains.items()
        if isinstance(d, (Uniform, IntUniform)) and d.high > d.low and (explorable is None or n in explorable)
    ]


def fit_gp(X: np.ndarray, y: np.ndarray, seed: int) -> GaussianProcessRegressor:
    """A GP on ``(X, y)`` with a learned length scale per input dimension."""
    d = X.shape[1]
    kernel = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(np.ones(d), (1e-2, 1e2), nu=2.5) + WhiteKernel(1e-2, (1e-6, 1e1))
    gp = GaussianProcessRegressor(kernel=kernel, normalize_y=True, random_state=seed, n_restarts_optimizer=1)
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        gp.fit(X, y)
    return gp


def ucb_pick(
    X: np.ndarray,
    y: np.ndarray,
    time: float,
    candidates: np.ndarray,
    rng: np.random.Generator,
    kappa: float = 2.0,
    pending: Sequence[np.ndarray] = (),
) -> int:
    """Index of the candidate (unit coordinates, without time) that maximises UCB at ``time``."""
    gp = fit_gp(X, y, int(rng.integers(2**31 - 1)))
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", UserWarning)
        if pending:
            P = np.array([np.concatenate([[time], p]) for p in pending])
            believed = gp.predict(P)
            fixed = GaussianProcessRegressor(kernel=gp.kernel_, optimizer=None, normalize_y=True)
            gp = fixed.fit(np.vstack([X, P]), np.concatenate([y, believed]))
        Q = np.hstack([np.full((len(candidates), 1), time), candidates])
        mean, std = gp.predict(Q, return_std=True)
    return int(np.argmax(mean + kappa * std))


def candidates_near(centre: np.ndarray, n: int, rng: np.random.Generator, sigma: float = 0.1) -> np.ndarray:
    """``n`` points: half uniform in the unit box, half Gaussian around ``centre`` (clipped)."""
    d = len(centre)
    n_local = n // 2
    wide = rng.random((n - n_local, d))
    local = np.clip(centre + rng.normal(0.0, sigma, (n_local, d)), 0.0, 1.0)
    return np.vstack([centre[None, :], wide, local])


@dataclass
class PB2Explorer:
    """The observations so far and the GP-UCB choice over them; ``explorable`` limits which
    parameters it may change (``None``: every numeric one)."""

    space: Space
    max_iter: int
    explorable: Collection[str] | None = None
    kappa: float = 2.0
    n_candidates: int = 256
    window: int = 200
    names: list[str] = field(default_factory=list)
    X: list[np.ndarray] = field(default_factory=list)
    y: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.names = pb2_parameters(self.space, self.explorable)

    def unit(self, config: Mapping[str, Any]) -> np.ndarray:
        """The modelled parameters of ``config`` in unit coordinates."""
        return np.array([min(1.0, max(0.0, to_unit(self.space[n], float(config[n])))) for n in self.names])  # type: ignore[arg-type]

    def observe(self, start_step: int, config: Mapping[str, Any], improvement_per_step: float) -> None:
        """One interval's outcome: ``config`` ran from ``start_step`` and improved by this much."""
        if not self.names:
            return
        self.X.append(np.concatenate([[start_step / self.max_iter], self.unit(config)]))
        self.y.append(float(improvement_per_step))

    @property
    def ready(self) -> bool:
        """Enough observations, with some spread, to fit a GP."""
        return bool(self.names) and len(self.y) >= MIN_OBSERVATIONS and float(np.ptp(self.y[-self.window :])) > 0

    def choose(
        self, step: int, donor_config: Mapping[str, Any], rng: np.random.Generator, pending: Sequence[Mapping[str, Any]] = ()
    ) -> dict[str, Any]:
        """New values of the modelled parameters for a member cloning ``donor_config`` at ``step``."""
        X = np.array(self.X[-self.window :])
        y = np.array(self.y[-self.window :])
        cands = candidates_near(self.unit(donor_config), self.n_candidates, rng)
        best = cands[ucb_pick(X, y, step / self.max_iter, cands, rng, self.kappa, [self.unit(p) for p in pending])]
        return {n: from_unit(self.space[n], float(u)) for n, u in zip(self.names, best)}  # type: ignore[arg-type]
