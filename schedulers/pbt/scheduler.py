"""Population Based Training (Jaderberg et al. 2017), synchronous or asynchronous, with PB2.

A population of ``n_trials`` members trains in Jobs of one ``perturbation_interval`` each (the
last Job may be shorter) up to ``max_iter`` steps. At each interval boundary at or after
``burn_in``, a member that loses (bottom quantile under ``truncation``, or a lost binary
``tournament``) is replaced by a clone of the winner: a new trial that starts from the
donor's checkpoint at the donor's latest reported step, with the donor's config explored
(operator chains, see :mod:`schedulers.pbt.explore`, or PB2's GP-UCB). See
:mod:`schedulers.pbt.lineage` for trial identity and the log.

- ``synch: true``: members meet at every boundary; once all are in, the barrier's Jobs are
  suggested worst member first, so every donor's checkpoint is still the one it reported when
  its clones are submitted.
- ``synch: false`` (Ray Tune's default): each member decides when it reports, against the
  latest scores of the others. As Ray Tune saves the checkpoint of every top-quantile trial
  when it reports, a member in the top quantile at a report asks for a snapshot of that
  checkpoint (:meth:`PBT.pop_kept`, once the loop says its executor keeps snapshots:
  ``enable_keeping``; see :class:`tunebench.capabilities.KeepsSnapshots`), so it can be a
  donor while it trains on; the snapshot is released once the member has a newer one or leaves, and no
  planned clone needs it. A donor offers its checkpoint paused at its latest report, else its
  snapshot, at least as far along as the member (never back in time); a clone's Job is
  suggested first, then a paused donor's. A member that loses with no donor that far along
  yet (it was first to reach its step) waits paused while others train, and decides again
  when it would resume; if still no winner qualifies, it carries on unchanged this
  interval, rather than copying a checkpoint that is being overwritten (ray#27170). Other
  paused members resume least-trained first. Each slot's step
  count thus grows with every Job, so a run takes at most ``n_trials * max_iter`` steps:
  a clone that scores below its donor's older score cannot be recloned from that same
  checkpoint over and over.

Config keys (the scheduler section)::

    scheduler: {name: pbt, n_trials: 8, max_iter: 27, perturbation_interval: 3, burn_in: 0,
                quantile_fraction: 0.25, synch: false, exploit: truncation, strategy: operators,
                explore: {alpha: [{resample: 0.25}, {perturb: [0.8, 1.2]}]}, boundary: clip}
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tunebench.checks import Bool, Float, Int, OneOf, check
from tunebench.scheduler import Scheduler
from tunebench.scores import finite
from tunebench.searcher import Searcher
from tunebench.trial import Config, Decision, Job, Result, Trial, TrialStatus

from schedulers.pbt.exploit import (
    EXPLOITS,
    quantiles,
    ranked,
    submit_order,
    tournament,
    tournament_one,
    truncation,
    truncation_one,
)
from schedulers.pbt.explore import BOUNDARIES, explore_config
from schedulers.pbt.explore_spec import ARGS, parse_explore
from schedulers.pbt.lineage import TABLE, LineageLog
from schedulers.pbt.pb2 import PB2Explorer

STRATEGIES = ("operators", "pb2")
SEARCHERS = ("random",)  # a searcher only draws the first population; explore does the rest


def next_stop(step: int, interval: int, max_iter: int) -> int:
    """The end of the Job that starts at ``step``: the next multiple of ``interval``, capped.

    >>> [next_stop(s, 4, 10) for s in (0, 3, 4, 8)]
    [4, 4, 8, 10]
    """
    return min(max_iter, (step // interval + 1) * interval)


@dataclass(frozen=True)
class Planned:
    """A Job to suggest: run ``trial`` on, or start it as a clone of ``clone_from``."""

    trial: int
    clone_from: tuple[int, int] | None = None


class PBT(Scheduler):
    """Population Based Training: truncation or tournament exploit, composable explore, PB2.

    New configs after the first population come from explore (operators or PB2), never from a
    searcher, so a model-based searcher (TPE, BOHB) would steer only the first ``n_trials``
    configs: it is refused; the ``random`` searcher (the default) is allowed.
    """

    name = "pbt"
    algorithm = "pbt"
    shared = {
        "population": "n_trials",
        "perturbation_interval": "perturbation_interval",
        "quantile_fraction": "quantile_fraction",
        "resample_probability": "resample_probability",
        "synch": "synch",
    }
    params = {
        "n_trials": Int(2, note="the population"),
        "max_iter": Int(1),
        "perturbation_interval": Int(1, note="steps between exploits"),
        "burn_in": Int(0, note="steps before the first exploit"),
        "quantile_fraction": Float(0, 0.5, low_open=True),
        "synch": Bool(),
        "exploit": OneOf(EXPLOITS),
        "strategy": OneOf(STRATEGIES),
        "resample_probability": ARGS["resample"],
        "perturbation_factors": ARGS["perturb"],
        "boundary": OneOf(BOUNDARIES),
    }

    def __init__(
        self,
        space: Any,
        *,
        seed: int = 0,
        mode: str = "max",
        searcher: Searcher | None = None,
        n_trials: int = 8,
        max_iter: int = 27,
        perturbation_interval: int = 3,
        burn_in: int = 0,
        quantile_fraction: float = 0.25,
        synch: bool = False,
        exploit: str = "truncation",
        strategy: str = "operators",
        explore: Mapping[str, Any] | None = None,
        resample_probability: float = 0.25,
        perturbation_factors: Sequence[float] = (0.8, 1.2),
        boundary: str = "clip",
    ) -> None:
        if searcher is not None and searcher.name not in SEARCHERS:
            raise ValueError(
                f"searcher {searcher.name!r}: pbt takes only its first population from a searcher and finds later configs "
                "by explore (strategy: operators or pb2), so a model-based searcher would steer just the first "
                f"n_trials={n_trials} configs; allowed: searcher {', '.join(map(repr, SEARCHERS))} (the default)"
            )
        super().__init__(space, seed=seed, mode=mode, searcher=searcher)
        self.n_trials: int = check(self, "n_trials", n_trials)
        self.max_iter: int = check(self, "max_iter", max_iter)
        self.interval: int = check(self, "perturbation_interval", perturbation_interval)
        self.burn_in: int = check(self, "burn_in", burn_in)
        self.quantile_fraction: float = check(self, "quantile_fraction", quantile_fraction)
        self.synch: bool = check(self, "synch", synch)
        self.exploit: str = check(self, "exploit", exploit)
        self.strategy: str = check(self, "strategy", strategy)
        self.boundary: str = check(self, "boundary", boundary)
        p = check(self, "resample_probability", resample_probability)
        factors = check(self, "perturbation_factors", perturbation_factors)
        self.chains = parse_explore(explore, space, p, factors)
        explorable = [n for n, chain in self.chains.items() if chain]
        self.pb2 = PB2Explorer(space, self.max_iter, explorable) if strategy == "pb2" else None
        self.lineage = LineageLog()
        self.members: list[int] = []
        self.planned: deque[Planned] = deque()
        self.arrived: set[int] = set()
        self.replaced: set[int] = set()
        self.start: dict[int, tuple[int, float | None]] = {}
        self.snapshots: dict[int, int] = {}  # member -> step of its latest kept snapshot
        self.held: set[tuple[int, int]] = set()  # every snapshot kept and not yet released
        self.deferred: set[int] = set()  # lost at their report with no donor far enough along
        self.keeping = False  # until the loop says its executor keeps snapshots
        self.kept: list[tuple[int, int]] = []  # snapshots asked for, not yet passed to the loop
        self.unkept: list[tuple[int, int]] = []  # snapshots released, not yet passed to the loop
        for slot in range(self.n_trials):
            trial = self.new_trial()
            self.members.append(trial.trial_id)
            self.lineage.born(trial, slot)
            self.planned.append(Planned(trial.trial_id))

    # -- the Scheduler interface ----------------------------------------------------------

    def suggest(self) -> Job | None:
        if not self.planned and not self.synch:
            self.plan_next_async()
        if not self.planned:
            return None
        plan = self.planned.popleft()
        trial = self.trials[plan.trial]
        start = plan.clone_from[1] if plan.clone_from is not None else trial.steps
        job = self.make_job(trial, next_stop(start, self.interval, self.max_iter), clone_from=plan.clone_from)
        self.retire_replaced()
        self.release_snapshots()
        return job

    def on_result(self, result: Result) -> Decision:
        trial = self.record(result)
        self.observe(trial, result)
        if result.step >= self.max_iter:
            decision = self.set_status(trial, Decision.COMPLETE)
            if self.synch:
                self.arrive(trial)
            self.release_snapshots()
            return decision
        if self.synch:
            self.set_status(trial, Decision.PAUSE)
            self.arrive(trial)
            return Decision.PAUSE
        found = self.pick_donor_async(trial) if result.step >= self.burn_in else None
        if found is None:
            self.snapshot_if_top(trial)
            decision = self.set_status(trial, Decision.CONTINUE)
        else:
            self.replace(trial, self.trials[found[0]], found[1])
            decision = self.set_status(trial, Decision.STOP)
        self.release_snapshots()
        return decision

    @property
    def finished(self) -> bool:
        return not self.planned and all(self.trials[t].status == TrialStatus.COMPLETED for t in self.members)

    def metadata(self) -> dict[str, Any]:
        return {
            "population": self.n_trials,
            "max_iter": self.max_iter,
            "perturbation_interval": self.interval,
            "synch": self.synch,
            "partial_fit_calls": self.n_trials * self.max_iter if self.synch else None,
            "max_partial_fit_calls": self.n_trials * self.max_iter,
        }

    # -- capabilities the loop checks for (tunebench.capabilities) ---------------------------

    def pop_rows(self) -> list[tuple[str, dict[str, Any]]]:
        """Lineage rows logged since the last call, for the ``pbt_log`` table."""
        return [(TABLE, row) for row in self.lineage.pop_rows()]

    def enable_keeping(self) -> None:
        """The loop's executor keeps snapshots: a top-quantile member may now ask for one."""
        self.keeping = True

    def pop_kept(self) -> list[tuple[int, int]]:
        """Snapshots asked for since the last call, as ``(trial_id, step)``."""
        out, self.kept = self.kept, []
        return out

    def pop_unkept(self) -> list[tuple[int, int]]:
        """Snapshots no clone needs any more, released since the last call."""
        out, self.unkept = self.unkept, []
        return out

    # -- synchronous: the barrier ----------------------------------------------------------

    def arrive(self, trial: Trial) -> None:
        """Count a member in at the barrier; when all are in, plan the next round."""
        self.arrived.add(trial.trial_id)
        self.close_barrier()

    def close_barrier(self) -> None:
        """Once every member is in (a failed one counts as in), refill the failed members'
        seats and plan the next round."""
        if not set(self.members) <= self.arrived:
            return
        self.arrived.clear()
        failed = [t for t in self.members if self.trials[t].status == TrialStatus.FAILED]
        live = [t for t in self.members if self.trials[t].status not in (TrialStatus.COMPLETED, TrialStatus.FAILED)]
        if not live:
            self.members = [t for t in self.members if t not in failed]
            return
        step = self.trials[live[0]].steps
        keys = {t: self.key(self.trials[t].last_score) for t in live}
        for t in failed:
            self.refill(self.trials[t], keys, {d: self.trials[d].steps for d in live})
        pairs: dict[int, int] = {}
        if step >= self.burn_in:
            pairs = (
                truncation(keys, self.quantile_fraction, self.rng) if self.exploit == "truncation" else tournament(keys, self.rng)
            )
        for member in submit_order(keys):
            if member in pairs:
                self.replace(self.trials[member], self.trials[pairs[member]])
            else:
                self.planned.append(Planned(member))

    # -- failed members ----------------------------------------------------------------------

    def on_failure(self, trial_id: int, error: str) -> Decision:
        """A failed member's seat goes to a clone of a top-quantile member whose checkpoint can
        be copied now (the failed member ranks below everyone), else the population shrinks by
        one. Synchronously the seat is refilled at the barrier, where the failed member counts
        as arrived."""
        trial = self.trials[trial_id]
        if trial_id not in self.members or trial.status is not TrialStatus.RUNNING:
            raise ValueError(f"failure of trial {trial_id}, which has no Job out")
        decision = super().on_failure(trial_id, error)
        self.deferred.discard(trial_id)
        self.snapshots.pop(trial_id, None)
        if self.synch:
            self.arrived.add(trial_id)
            self.close_barrier()
            return decision
        self.refill(trial, self.scored(), self.copyable(0))
        self.release_snapshots()
        return decision

    def refill(self, failed: Trial, keys: Mapping[int, float], available: Mapping[int, int]) -> None:
        """Give ``failed``'s seat to a clone of a finite-scoring top-quantile member in
        ``available`` (``{member: step}``; with a population too small for quantiles, the
        best), or drop the seat if there is none."""
        top = quantiles(keys, self.quantile_fraction)[1] or ranked(keys)[:1]
        donors = [t for t in top if t in available and t != failed.trial_id and finite(keys[t])]
        if not donors:
            self.members.remove(failed.trial_id)
            return
        donor = donors[int(self.rng.integers(len(donors)))]
        self.replace(failed, self.trials[donor], available[donor])

    # -- asynchronous: one member at a time -------------------------------------------------

    def pick_donor_async(self, trial: Trial) -> tuple[int, int] | None:
        """The ``(donor, step)`` checkpoint ``trial`` copies now, or ``None`` (it carries on)."""
        scored = self.scored()
        available = self.copyable(trial.steps)
        available.pop(trial.trial_id, None)
        if self.exploit == "truncation":
            donor = truncation_one(trial.trial_id, scored, self.quantile_fraction, self.rng, available)
            lost = trial.trial_id in quantiles(scored, self.quantile_fraction)[0]
        else:
            donor = tournament_one(trial.trial_id, scored, self.rng, available)
            lost = not any(t in scored for t in available)
        if donor is None and lost:
            self.deferred.add(trial.trial_id)
        return None if donor is None else (donor, available[donor])

    def copyable(self, step: int) -> dict[int, int]:
        """Members whose checkpoint at a step ``>= step`` can be copied now, with that step:
        paused at their latest report, else their kept snapshot."""
        out: dict[int, int] = {}
        for t in self.members:
            member = self.trials[t]
            if member.status == TrialStatus.PAUSED and member.steps >= step:
                out[t] = member.steps
            elif self.snapshots.get(t, -1) >= step and member.status == TrialStatus.RUNNING:
                out[t] = self.snapshots[t]
        return out

    def snapshot_if_top(self, trial: Trial) -> None:
        """Keep a top-quantile member's checkpoint at the step it just reported."""
        if not self.keeping or trial.trial_id not in self.quantiles()[1] or not finite(trial.last_score):
            return
        self.snapshots[trial.trial_id] = trial.steps
        if (trial.trial_id, trial.steps) not in self.held:
            self.held.add((trial.trial_id, trial.steps))
            self.kept.append((trial.trial_id, trial.steps))

    def release_snapshots(self) -> None:
        """Release every snapshot that is no member's latest and no planned clone's start."""
        live = {
            t
            for t in self.members
            if self.trials[t].status not in (TrialStatus.COMPLETED, TrialStatus.STOPPED, TrialStatus.FAILED)
        }
        needed = {(t, s) for t, s in self.snapshots.items() if t in live}
        needed |= {p.clone_from for p in self.planned if p.clone_from is not None}
        for key in sorted(self.held - needed):
            self.held.discard(key)
            self.unkept.append(key)

    def plan_next_async(self) -> None:
        """Resume the least-trained paused member (ties to the lower id), if any.

        A member that lost at its report but found no donor as far along (it was the first to
        reach its step: bottom quantile with no top member there, or no opponent to meet)
        decides again here; while it still finds none and another member is training (and may
        catch up), it waits paused, its worker free for the others.
        """
        ready = [self.trials[t] for t in self.members if self.trials[t].status in (TrialStatus.PENDING, TrialStatus.PAUSED)]
        for member in sorted(ready, key=lambda t: (t.steps, t.trial_id)):
            tid = member.trial_id
            if tid in self.deferred:
                self.deferred.discard(tid)
                found = self.pick_donor_async(member)
                if found is not None:
                    self.replace(member, self.trials[found[0]], found[1])
                    return
                if tid in self.deferred and any(self.trials[t].status == TrialStatus.RUNNING for t in self.members):
                    continue
                self.deferred.discard(tid)
            self.planned.append(Planned(tid))
            return

    # -- exploit and explore ---------------------------------------------------------------

    def replace(self, member: Trial, donor: Trial, step: int | None = None) -> Trial:
        """Create a clone of ``donor`` at ``step`` (default: its latest) with an explored config
        in ``member``'s slot, plan its Job."""
        step = donor.steps if step is None else step
        pending = [self.trials[p.trial].config for p in self.planned if p.clone_from is not None]
        config, explored = self.explore(donor, pending, step)
        child = self.new_trial(config, parent=donor.trial_id)
        self.start[child.trial_id] = (step, donor.scores.get(step))
        strategy = f"{self.exploit}+{self.strategy}"
        self.lineage.cloned(child, replaced=member, donor=donor, strategy=strategy, explored=explored, step=step)
        self.members[self.members.index(member.trial_id)] = child.trial_id
        self.replaced.add(member.trial_id)
        self.plan_clone(Planned(child.trial_id, (donor.trial_id, step)))
        return child

    def plan_clone(self, clone: Planned) -> None:
        """Queue a clone's Job ahead of its donor's next Job (asynchronously, queue that too).

        The clone must be submitted while the donor's checkpoint is still the one it reported;
        resuming the donor right after keeps a stream of clones from starving it.
        """
        donor = clone.clone_from[0] if clone.clone_from is not None else None
        at = next((i for i, p in enumerate(self.planned) if p.trial == donor and p.clone_from is None), None)
        if at is not None:
            self.planned.insert(at, clone)
            return
        self.planned.append(clone)
        if not self.synch and donor is not None and self.trials[donor].status == TrialStatus.PAUSED:
            self.planned.append(Planned(donor))

    def explore(self, donor: Trial, pending: Sequence[Config], step: int) -> tuple[Config, dict[str, list[str]]]:
        """The donor's config explored by the operator chains, or by PB2 where it can."""
        if self.pb2 is None or not self.pb2.ready:
            return explore_config(donor.config, self.space, self.chains, self.rng, self.boundary)
        others = {n: c for n, c in self.chains.items() if n not in self.pb2.names}
        config, explored = explore_config(donor.config, self.space, others, self.rng, self.boundary)
        config.update(self.pb2.choose(step, donor.config, self.rng, pending))
        explored.update({n: ["pb2"] for n in self.pb2.names})
        return config, explored

    def observe(self, trial: Trial, result: Result) -> None:
        """Feed PB2 the score change of the interval that just ended."""
        if self.pb2 is None:
            return
        earlier = [s for s in trial.scores if s < result.step]
        if earlier:
            begin, before = max(earlier), trial.scores[max(earlier)]
        elif trial.trial_id in self.start:
            begin, before = self.start[trial.trial_id]  # type: ignore[assignment]
        else:
            return
        if not (finite(before) and finite(result.score)) or result.step <= begin:
            return
        change = (self.key(result.score) - self.key(before)) / (result.step - begin)
        self.pb2.observe(begin, trial.config, change)

    def retire_replaced(self) -> None:
        """Stop replaced members once no planned clone still needs their checkpoint."""
        needed = {p.clone_from[0] for p in self.planned if p.clone_from is not None}
        for t in sorted(self.replaced - needed):
            if self.trials[t].status != TrialStatus.FAILED:
                self.set_status(self.trials[t], Decision.STOP)
            self.replaced.discard(t)

    def scored(self) -> dict[int, float]:
        """Latest score keys of the members still training that have reported (as Ray Tune ranks)."""
        return {
            t: self.key(self.trials[t].last_score)
            for t in self.members
            if self.trials[t].last_score is not None and self.trials[t].status not in (TrialStatus.COMPLETED, TrialStatus.FAILED)
        }

    def quantiles(self) -> tuple[list[int], list[int]]:
        """The current ``(bottom, top)`` members by latest score (for inspection and tests)."""
        return quantiles(self.scored(), self.quantile_fraction)
