"""The scheduler and executor a ``TuneSearchCV`` names, built with checked names and keys and
with defaults under which the search ends.

A scheduler that would start trials forever when ``n_trials`` is left out (ASHA) gets the
number of trials Hyperband starts at the same ``max_iter`` and ``eta``
(:func:`tunebench.algorithm.hyperband_n_trials`); a set-up that still has no end is refused with
the message ``tunebench run`` gives for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tunebench import registry
from tunebench.algorithm import hyperband_n_trials
from tunebench.config import never_ends
from tunebench.names import did_you_mean

UNSUPPORTED: dict[str, dict[str, str]] = {
    "scheduler": {
        "pbt": "its exploits clone checkpoints and change a trial's config mid-training, which neither "
        "best_estimator_ rebuilt from one trial's config nor a refit of one config reproduces"
    },
    "executor": {"simulated": "it replays recorded learning curves instead of training the estimator"},
}
FILLED: dict[str, dict[str, str]] = {
    "scheduler": {
        "space": "from param_distributions",
        "seed": "from random_state",
        "mode": "'max', as scikit-learn scores",
        "searcher": "random sampling",
    },
    "executor": {},
}


def plugin_class(kind: str, name: Any) -> type:
    """The registered ``kind`` class called ``name``; a ValueError naming the allowed ones if none."""
    registered = registry.names(kind)
    refused = UNSUPPORTED[kind]
    allowed = [n for n in registered if n not in refused]
    if isinstance(name, str) and name in refused:
        raise ValueError(f"{kind} {name!r} is not supported by TuneSearchCV: {refused[name]}; use one of {', '.join(allowed)}")
    if not isinstance(name, str) or name not in registered:
        raise ValueError(f"unknown {kind} {name!r}{did_you_mean(name, allowed)}; {kind} must be one of {', '.join(allowed)}")
    return registry.load(kind, name)


def checked_params(kind: str, name: str, cls: type, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """``given`` (``scheduler_params`` / ``executor_params``) as a dict, every key one ``cls`` takes."""
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise ValueError(f"{kind}_params must be a dict of {kind} keys or None, got {given!r}")
    accepted = registry.params(kind, cls)
    for key in given:
        if key in FILLED[kind]:
            raise ValueError(f"{kind}_params[{key!r}] is set by TuneSearchCV ({FILLED[kind][key]}); leave it out")
        if key not in accepted:
            raise ValueError(
                f"unknown key {kind}_params[{key!r}] for {kind} {name!r}{did_you_mean(key, accepted)}; "
                f"allowed: {', '.join(accepted) or '(none)'}"
            )
    return dict(given)


def make_scheduler(name: Any, space: Any, params: Mapping[str, Any] | None, *, max_iter: int, seed: int) -> Any:
    """The scheduler ``name`` over ``space``, ``max_iter`` filled in unless given, with an
    ``n_trials`` that ends it when left out; a ConfigError if it still would never end."""
    cls = plugin_class("scheduler", name)
    kwargs = checked_params("scheduler", name, cls, params)
    accepted = registry.params("scheduler", cls)
    if "max_iter" in accepted:
        kwargs.setdefault("max_iter", max_iter)
    scheduler = cls(space, seed=seed, mode="max", **kwargs)
    if not scheduler.bounded and "n_trials" in accepted and "n_trials" not in kwargs:
        n_trials = hyperband_n_trials(
            int(getattr(scheduler, "max_iter", kwargs.get("max_iter", max_iter))), int(getattr(scheduler, "eta", 3))
        )
        scheduler = cls(space, seed=seed, mode="max", **kwargs, n_trials=n_trials)
    if not scheduler.bounded:
        raise never_ends(str(name), ("scheduler_params['n_trials']",))
    return scheduler


def make_executor(name: Any, params: Mapping[str, Any] | None) -> Any:
    """The executor ``name`` with ``params`` (every key checked)."""
    cls = plugin_class("executor", name)
    return cls(**checked_params("executor", name, cls, params))


__all__ = ["UNSUPPORTED", "make_executor", "make_scheduler", "plugin_class"]
