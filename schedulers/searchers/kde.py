"""Product-kernel density estimates over the unit cube and category codes, as BOHB uses them.

The same estimator hpbandster builds with statsmodels' ``KDEMultivariate``: a Gaussian kernel on
each continuous dimension and an Aitchison-Aitken kernel on each categorical one, bandwidths by
the normal reference rule, floored at ``min_bandwidth``. Sampling follows hpbandster's
``get_config``: pick a data point, then per dimension a truncated normal on ``[0, 1]`` of
width ``bandwidth_factor * bw`` around it, or for a category keep it with probability
``1 - bw`` and else draw any code. All functions are pure; randomness comes in as a Generator.

>>> import numpy as np
>>> kde = fit_kde(np.array([[0.1], [0.2], [0.15]]), (0,), 1e-3)
>>> bool(kde_pdf(kde, np.array([[0.15]]))[0] > kde_pdf(kde, np.array([[0.9]]))[0])
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp
from scipy.stats import truncnorm


@dataclass(frozen=True)
class KDE:
    """Data points (rows), one bandwidth per dimension, and each dimension's category count
    (``0``: continuous)."""

    data: np.ndarray
    bw: np.ndarray
    n_values: tuple[int, ...]

    @property
    def n(self) -> int:
        return int(self.data.shape[0])


def normal_reference(data: np.ndarray) -> np.ndarray:
    """statsmodels' rule of thumb: ``1.06 * std * n ** (-1 / (4 + d))`` per dimension.

    >>> normal_reference(np.array([[0.0], [1.0]])).round(4).tolist()
    [0.4614]
    """
    n, d = data.shape
    return 1.06 * data.std(axis=0) * n ** (-1.0 / (4 + d))


def fit_kde(data: np.ndarray, n_values: tuple[int, ...], min_bandwidth: float) -> KDE:
    """A KDE of ``data``; a categorical bandwidth is capped at ``(c - 1) / c`` (uniform)."""
    bw = np.nan_to_num(normal_reference(data), nan=min_bandwidth)
    bw = np.maximum(bw, min_bandwidth)
    for j, c in enumerate(n_values):
        if c:
            bw[j] = min(bw[j], (c - 1) / c) if c > 1 else min_bandwidth
    return KDE(np.asarray(data, dtype=float), bw, tuple(n_values))


def kde_logpdf(kde: KDE, x: np.ndarray) -> np.ndarray:
    """The log density at each row of ``x``: the log of the mean over data points of the
    product of kernels, summed in log space so that it stays finite far from every point.

    >>> kde = fit_kde(np.array([[0.1], [0.1]]), (0,), 1e-3)
    >>> bool(np.isfinite(kde_logpdf(kde, np.array([[0.99]]))[0])), bool(kde_pdf(kde, np.array([[0.99]]))[0] == 0)
    (True, True)
    """
    total = np.zeros((x.shape[0], kde.n))
    for j, c in enumerate(kde.n_values):
        diff = x[:, j][:, None] - kde.data[:, j][None, :]
        h = kde.bw[j]
        if c:
            same = np.abs(diff) < 0.5
            total += np.where(same, np.log(1.0 - h), np.log(h / max(c - 1, 1)))
        else:
            total += -0.5 * (diff / h) ** 2 - np.log(h * np.sqrt(2 * np.pi))
    return logsumexp(total, axis=1) - np.log(kde.n)


def kde_pdf(kde: KDE, x: np.ndarray) -> np.ndarray:
    """The density at each row of ``x`` (:func:`kde_logpdf`, exponentiated)."""
    return np.exp(kde_logpdf(kde, x))


def kde_sample(kde: KDE, rng: np.random.Generator, n: int, bandwidth_factor: float, min_bandwidth: float) -> np.ndarray:
    """``n`` candidates drawn around the data points (hpbandster's widened kernels)."""
    centres = kde.data[rng.integers(kde.n, size=n)]
    out = np.empty_like(centres)
    for j, c in enumerate(kde.n_values):
        m = centres[:, j]
        bw = max(float(kde.bw[j]), min_bandwidth)
        if c:
            keep = rng.random(n) < 1.0 - bw
            out[:, j] = np.where(keep, m, rng.integers(c, size=n))
        else:
            scale = bw * bandwidth_factor
            out[:, j] = truncnorm.rvs(-m / scale, (1 - m) / scale, loc=m, scale=scale, random_state=rng)
    return out


def best_index(good: KDE, bad: KDE, candidates: np.ndarray) -> int:
    """The row of ``candidates`` maximising ``l(x) / g(x)`` (good over bad density; the first
    on ties), compared as ``log l(x) - log g(x)``: a candidate far from every point, where both
    densities underflow, still ranks by which side is nearer instead of tying at 0 / 0.

    >>> g = fit_kde(np.array([[0.1], [0.12]]), (0,), 1e-3)
    >>> b = fit_kde(np.array([[0.8], [0.9]]), (0,), 1e-3)
    >>> best_index(g, b, np.array([[0.9], [0.11], [0.5]])), best_index(g, b, np.array([[0.6], [0.3]]))
    (1, 1)
    """
    return int(np.argmax(kde_logpdf(good, candidates) - kde_logpdf(bad, candidates)))


def best_candidate(good: KDE, bad: KDE, candidates: np.ndarray) -> np.ndarray:
    """The candidate maximising ``l(x) / g(x)`` (:func:`best_index`)."""
    return candidates[best_index(good, bad, candidates)]
