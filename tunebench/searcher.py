"""The searcher plugin base: proposes the config of each new trial and observes every result.

A scheduler decides *how long* each trial trains; a searcher decides *which config* a new
trial gets. The scheduler calls :meth:`Searcher.suggest` whenever it creates a trial without a
config of its own, and :meth:`Searcher.observe` with every result it records, so a model-based
searcher (TPE, BOHB) learns from everything the scheduler sees, whatever budget it was seen at.

Searchers are pure like schedulers: no executor, no clock, no files; all randomness from
``self.rng``, a ``numpy.random.Generator`` seeded by the experiment seed (salted, so its stream
is not the scheduler's). Same seed and same results in the same order, same proposals.

``pending`` says what a model does with trials proposed but not yet observed (their first Job
is still out): ``none`` ignores them; ``constant_liar`` counts each as observed with the worst
score seen so far at the model's step, on the bad side of the model only, which pushes a
proposal away from the configs still running. Without it, the proposals made while the model's
data is unchanged (every trial started while others run) sample around the same good points.
It needs no tuning to the number of workers: a proposal lies about as many trials as are
pending at that moment, so with one worker (nothing pending) it proposes exactly what ``none``
does. TPE and BOHB default to it; ``random`` uses no model and ignores the setting.

A trial that ends before it was observed (it failed, or was stopped) is no longer pending: the
scheduler calls :meth:`Searcher.end`, as it calls :meth:`Searcher.observe` with results, so no
lie is told about it for the rest of the run.

Plugins are found by name in the ``tunebench.searchers`` entry-point group; their keyword
arguments are their config keys (``searcher:`` section of an experiment).

>>> from tunebench.space import Space
>>> class First(Searcher):
...     name = "first"
...     def propose(self, trial_id):
...         return {"x": 0.0}
>>> s = First(Space.from_spec({"x": {"uniform": [0, 1]}}))
>>> s.suggest(0), s.pending_trials()
({'x': 0.0}, [0])
>>> s.observe(0, {"x": 0.0}, 3, 0.5)
>>> s.pending_trials(), s.at_step(3)
([], [({'x': 0.0}, 0.5)])
>>> s.suggest(1), s.end(1), s.pending_trials()
({'x': 0.0}, None, [])
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import numpy as np

from tunebench.checks import Check, OneOf, check
from tunebench.scores import rank_key
from tunebench.trial import Config

MODES = ("max", "min")
PENDING = ("none", "constant_liar")
SALT = 0x5EA


def searcher_rng(seed: int) -> np.random.Generator:
    """A searcher's own generator: fixed by the seed, a different stream from the scheduler's
    ``default_rng(seed)``, so the two never draw the same numbers for unrelated choices.

    >>> float(searcher_rng(0).random()) == float(searcher_rng(0).random()) != float(np.random.default_rng(0).random())
    True
    """
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(SALT,)))


def model_step(counts: dict[int, int], min_points: int) -> int | None:
    """The highest step observed at least ``min_points`` times (``None``: none yet).

    >>> model_step({1: 9, 3: 3, 9: 1}, 3), model_step({1: 2}, 3)
    (3, None)
    """
    enough = [step for step, n in counts.items() if n >= min_points]
    return max(enough) if enough else None


class Searcher(abc.ABC):
    """Base class of every searcher plugin; subclasses implement :meth:`propose`."""

    name: ClassVar[str] = ""
    params: ClassVar[dict[str, Check]] = {"mode": OneOf(MODES), "pending": OneOf(PENDING)}

    def __init__(self, space: Any, *, seed: int = 0, mode: str = "max", pending: str = "none") -> None:
        check(self, "mode", mode)
        check(self, "pending", pending)
        self.space = space
        self.seed = int(seed)
        self.mode = mode
        self.pending = pending
        self.rng = searcher_rng(self.seed)
        self.configs: dict[int, Config] = {}
        self.scores: dict[int, dict[int, float]] = {}  # trial -> step -> score, in arrival order
        self._suggested: list[int] = []
        self.ended: set[int] = set()  # trials that will report no more (failed or stopped)

    # -- what subclasses implement -------------------------------------------------------

    @abc.abstractmethod
    def propose(self, trial_id: int) -> Config:
        """A config for the new trial ``trial_id``."""

    def attach(self, rng: np.random.Generator) -> None:
        """Told the generator of the scheduler it serves. A searcher that samples the space
        exactly as a scheduler without one would (``random``) keeps it; others keep their own."""

    def on_observe(self, trial_id: int, step: int, score: float) -> None:
        """Hook after each observation (BOHB refits its model for ``step`` here)."""

    # -- the interface schedulers call ---------------------------------------------------

    def suggest(self, trial_id: int) -> Config:
        """The config of new trial ``trial_id``; it is pending until its first observation."""
        config = dict(self.propose(trial_id))
        self.configs[trial_id] = config
        self._suggested.append(trial_id)
        return dict(config)

    def end(self, trial_id: int) -> None:
        """Told that trial ``trial_id`` reports no more (it failed or was stopped): if it was
        never observed it is no longer pending, so no lie is told about it."""
        self.ended.add(trial_id)

    def observe(self, trial_id: int, config: Config, step: int, score: float) -> None:
        """Record trial ``trial_id``'s ``score`` at ``step`` (its latest config: PBT changes it)."""
        self.configs[trial_id] = dict(config)
        self.scores.setdefault(trial_id, {})[int(step)] = float(score)
        self.on_observe(trial_id, int(step), float(score))

    # -- helpers for subclasses ----------------------------------------------------------

    def key(self, score: float | None) -> float:
        """Larger is better whatever the mode; ``-inf`` for a missing or non-finite score."""
        return rank_key(score, self.mode)

    def pending_trials(self) -> list[int]:
        """Trials proposed here, not observed yet and not ended, oldest first."""
        return [t for t in self._suggested if t not in self.scores and t not in self.ended]

    def step_counts(self) -> dict[int, int]:
        """How many trials were observed at each step."""
        counts: dict[int, int] = {}
        for by_step in self.scores.values():
            for step in by_step:
                counts[step] = counts.get(step, 0) + 1
        return counts

    def at_step(self, step: int) -> list[tuple[Config, float]]:
        """``(config, score)`` of every trial observed at ``step``, by trial id."""
        return [(self.configs[t], by_step[step]) for t, by_step in sorted(self.scores.items()) if step in by_step]

    def lies(self, step: int) -> list[tuple[Config, float]]:
        """Under ``constant_liar``, each pending trial with the worst score seen at ``step``."""
        seen = [score for _, score in self.at_step(step)]
        if self.pending != "constant_liar" or not seen:
            return []
        worst = min(seen, key=self.key)
        return [(self.configs[t], worst) for t in self.pending_trials()]
