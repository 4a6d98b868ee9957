"""scikit-learn's ``param_distributions`` (scipy.stats distributions and lists) as our Space.

Named scipy.stats distributions become bounded domains (so they show in the trial table with
their bounds); any other frozen distribution is sampled through its own ``rvs`` from the
scheduler's generator. A mapping in our YAML form (``{"loguniform": [1e-5, 1]}``) or a
:class:`~tunebench.space.Domain` passes through.

>>> from scipy import stats
>>> space = to_space({"alpha": stats.loguniform(1e-5, 1e-1), "loss": ["hinge", "log_loss"],
...                   "n": stats.randint(1, 4), "eta0": {"uniform": [0, 1]}})
>>> space["alpha"], space["n"], space["loss"].values
(Uniform(low=1e-05, high=0.1, log=True), IntUniform(low=1, high=3, log=False), ('hinge', 'log_loss'))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from tunebench.scipy_domain import scipy_domain
from tunebench.space import Choice, Constant, Domain, Space, parse_domain


def to_domain(name: str, value: Any) -> Domain:
    if hasattr(value, "rvs"):
        return scipy_domain(value)
    if isinstance(value, (Domain, Mapping)):
        return parse_domain(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        values = list(value)
        if not values:
            raise ValueError(f"param_distributions[{name!r}] is an empty list; give at least one value")
        return Choice(tuple(v.item() if isinstance(v, np.generic) else v for v in values))
    raise ValueError(
        f"param_distributions[{name!r}] = {value!r}: expected a scipy.stats distribution (with rvs), "
        "a list of values, or a space entry such as {'loguniform': [1e-5, 1]}; wrap a single value in a list"
    )


def to_space(param_distributions: Any) -> Space:
    """Our Space for ``param_distributions`` (a dict, or a Space as it is)."""
    if isinstance(param_distributions, Space):
        return param_distributions
    if not isinstance(param_distributions, Mapping) or not param_distributions:
        raise ValueError(
            f"param_distributions must be a non-empty dict of parameter -> distribution, list or space entry, "
            f"got {param_distributions!r}"
        )
    return Space({str(k): to_domain(str(k), v) for k, v in param_distributions.items()})


__all__ = ["to_space", "Constant"]
