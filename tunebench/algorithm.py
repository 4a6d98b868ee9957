"""What algorithm a scheduler or peer runs, and its settings in a shared vocabulary.

A comparison is fair only when two contenders of one algorithm (our Hyperband and Dask-ML's,
our PBT and Ray Tune's) run with the same settings. Every system names them its own way
(Hyperband's ``eta`` is Dask-ML's ``aggressiveness`` and Ray Tune's ``reduction_factor``), so
each plugin declares, on its class:

- ``algorithm``: its family, one of :data:`FAMILIES` (``""``: none, never checked);
- ``shared``: each shared setting it takes -> the config key it takes it as;
- ``received``: each shared setting -> the name its own library gives the argument (default:
  the config key), shown in the report's settings table;
- ``fixed``: shared settings it has but cannot change (Ray Tune's ASHA only stops trials);
- :meth:`AlgorithmSettings.effective_settings`: its shared settings from its config, with what
  a default stands for (``None`` trials meaning "as many as Hyperband plans" becomes that number).

The comparison hands a matrix's ``shared:`` block to each contender through ``shared`` and
refuses two contenders of one family whose effective settings differ
(:mod:`tunebench.compare.fairness`).

A family is a schedule, whatever proposes the configs: HpBandSter's BOHB and SMAC3's
Hyperband are ``hyperband`` (Hyperband's brackets, each rung the survivors of the rung below;
a model instead of random draws proposes the configs, as our ``bohb`` searcher does for our
Hyperband). DEHB is a family of its own: its brackets are Hyperband's, but a rung's configs are
the best of that budget's whole population in its first iteration and differential-evolution
offspring after it, so Hyperband's trial count does not describe it; its settings are ``eta``,
its smallest budget ``min_iter`` and the configs its plan starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

FAMILIES: dict[str, tuple[str, ...]] = {
    "random": ("n_trials",),
    "successive_halving": ("eta", "min_iter", "n_trials"),
    "hyperband": ("eta", "n_trials"),
    "asha": ("eta", "min_iter", "n_trials", "variant"),
    "pbt": ("population", "perturbation_interval", "quantile_fraction", "resample_probability", "synch"),
    "dehb": ("eta", "min_iter", "n_trials"),
}
SETTINGS: tuple[str, ...] = tuple(dict.fromkeys(k for keys in FAMILIES.values() for k in keys))


def hyperband_n_trials(max_iter: int, eta: int) -> int:
    """How many trials a full Hyperband run over ``max_iter`` and ``eta`` starts (Li et al. 2018),
    with integer arithmetic for the bracket count.

    >>> hyperband_n_trials(81, 3), hyperband_n_trials(9, 3), hyperband_n_trials(1, 3)
    (143, 17, 1)
    """
    s_max = 0
    while eta ** (s_max + 1) <= max_iter:
        s_max += 1
    return sum(-(-((s_max + 1) * eta**s) // (s + 1)) for s in range(s_max + 1))


class AlgorithmSettings:
    """The class-level declarations above; the bases of schedulers and peers inherit them."""

    algorithm: ClassVar[str] = ""
    shared: ClassVar[Mapping[str, str]] = {}
    received: ClassVar[Mapping[str, str]] = {}
    fixed: ClassVar[Mapping[str, Any]] = {}

    @classmethod
    def effective_settings(cls, config: Mapping[str, Any], max_iter: int, total_steps: int | None) -> dict[str, Any]:
        """Shared name -> value, from ``config`` (every key of the plugin, defaults filled in), for a
        run with this ``max_iter`` and step budget; subclasses fill in what a default stands for."""
        return {**{name: config[key] for name, key in cls.shared.items()}, **cls.fixed}
