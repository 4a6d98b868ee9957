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
does, and it lies only while the lies would not outnumber the observations the model is fit
on (:func:`lie_about`). Beyond that, as when 32 workers start a first wave of trials and the
first few results come back, the model would be mostly lies: the density ratio would only
push each proposal away from the running trials, a space-filling draw that ignores what was
observed, so the pending trials are ignored until the observations catch up. TPE and BOHB
default to it; ``random`` uses no model and ignores the setting.

A trial that ends before it was observed (it failed, or was stopped) is no longer pending: the
scheduler calls :meth:`Searcher.end`, as it calls :meth:`Searcher.observe` with results, so no
lie is told about it for the rest of the run.

**Candidates.** An executor that can run only a finite set of configs exactly (the simulated
executor replaying a recording) names them, and the scheduler hands them to
:meth:`Searcher.candidates` before its first proposal, as Syne Tune restricts a searcher to a
tabular blackbox's configurations. From then on every proposal is one of them: :attr:`table`
holds them (restricted to the space), :meth:`fresh` says which were proposed least often (never,
until each was once), and a searcher proposes among those, so the table is drawn without
replacement while it lasts: ``random`` uniformly, TPE and BOHB by their density ratio. Without
candidates (``None``, every other executor) proposals are free points of the space.

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
>>> s.candidates([{"x": 0.0}, {"x": 0.5}, {"x": 2.0}])
>>> s.table, s.fresh()
(({'x': 0.0}, {'x': 0.5}), [1])
"""

from __future__ import annotations

import abc
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from tunebench.checks import Check, OneOf, check
from tunebench.scores import rank_key
from tunebench.space import Constant, Space, to_python
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


def config_key(config: Mapping[str, Any]) -> tuple[tuple[str, Hashable], ...]:
    """A hashable form of a config, the same for equal configs whatever their order or types.

    >>> config_key({"b": np.float64(0.5), "a": 1}) == config_key({"a": 1, "b": 0.5})
    True
    """
    return tuple(sorted((str(k), to_python(v)) for k, v in config.items()))


def table_of(space: Space, configs: Sequence[Mapping[str, Any]]) -> tuple[Config, ...]:
    """The configs that are points of ``space``: each with the space's parameters in its order
    (a constant filled in when a config lacks it); configs outside the space and repeats dropped.

    >>> space = Space.from_spec({"x": {"uniform": [0, 1]}, "loss": "log_loss"})
    >>> table_of(space, [{"x": 0.5}, {"x": 3.0}, {"x": 0.5, "loss": "log_loss"}, {"y": 1}])
    ({'x': 0.5, 'loss': 'log_loss'},)
    """
    constants = {n: d.value for n, d in space.domains.items() if isinstance(d, Constant)}
    out: dict[tuple[tuple[str, Hashable], ...], Config] = {}
    for raw in configs:
        merged = {**constants, **raw}
        config = {n: to_python(merged[n]) for n in space.domains if n in merged}
        if len(config) == len(space.domains) and space.contains(config):
            out.setdefault(config_key(config), config)
    return tuple(out.values())


def lie_about(n_pending: int, n_observed: int) -> bool:
    """Whether ``constant_liar`` lies about the pending trials: only while they are no more
    than the observations the model is fit on.

    >>> lie_about(7, 10), lie_about(31, 10), lie_about(0, 0)
    (True, False, True)
    """
    return n_pending <= n_observed


def least_used(counts: Sequence[int]) -> list[int]:
    """The indices with the smallest count: the candidates proposed least often so far.

    >>> least_used([1, 0, 2, 0]), least_used([1, 1]), least_used([])
    ([1, 3], [0, 1], [])
    """
    low = min(counts, default=0)
    return [i for i, n in enumerate(counts) if n == low]


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
        self.table: tuple[Config, ...] | None = None  # the candidates, if the executor has a finite set
        self._index: dict[tuple[tuple[str, Hashable], ...], int] = {}
        self._uses: list[int] = []  # how often each candidate was proposed

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

    def candidates(self, configs: Sequence[Mapping[str, Any]] | None) -> None:
        """Told the finite set of configs the executor runs exactly (``None``: any point of the
        space); from then on :meth:`propose` chooses among those in the space (:func:`table_of`).
        A table with no config of the space is no table: proposals stay free."""
        table = table_of(self.space, configs) if configs is not None else ()
        self.table = table or None
        self._index = {config_key(c): i for i, c in enumerate(table)}
        self._uses = [0] * len(table)
        for t in self._suggested:
            self._count(self.configs[t])

    def suggest(self, trial_id: int) -> Config:
        """The config of new trial ``trial_id``; it is pending until its first observation."""
        config = dict(self.propose(trial_id))
        self.configs[trial_id] = config
        self._suggested.append(trial_id)
        self._count(config)
        return dict(config)

    def _count(self, config: Config) -> None:
        i = self._index.get(config_key(config))
        if i is not None:
            self._uses[i] += 1

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

    def fresh(self) -> list[int]:
        """Indices into :attr:`table` of the candidates proposed least often (none before each
        was proposed once): the ones a proposal chooses among. Empty without a table."""
        return least_used(self._uses)

    def pick_fresh(self) -> Config:
        """A candidate drawn uniformly among :meth:`fresh` with ``self.rng``."""
        assert self.table is not None
        choices = self.fresh()
        return dict(self.table[choices[int(self.rng.integers(len(choices)))]])

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

    def liars(self, n_observed: int) -> list[int]:
        """The pending trials a model fit on ``n_observed`` observations counts as observed:
        under ``constant_liar`` all of them, unless they outnumber the observations
        (:func:`lie_about`); none under ``none``."""
        pending = self.pending_trials() if self.pending == "constant_liar" else []
        return pending if lie_about(len(pending), n_observed) else []

    def lies(self, step: int) -> list[tuple[Config, float]]:
        """Each of :meth:`liars` at ``step`` with the worst score seen there."""
        seen = [score for _, score in self.at_step(step)]
        if not seen:
            return []
        worst = min(seen, key=self.key)
        return [(self.configs[t], worst) for t in self.liars(len(seen))]
