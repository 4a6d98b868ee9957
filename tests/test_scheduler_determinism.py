"""Same seed, same Jobs and decisions; a different seed, different configs; the entry points name the classes."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable

import pytest

from tunebench.scheduler import Scheduler
from tunebench.sinks import Trace
from tunebench.space import Space
from tunebench.synthetic import play, seeded_curve
from tunebench.trial import Job

from schedulers.asha import ASHA
from schedulers.hyperband import Hyperband
from schedulers.pbt.scheduler import PBT
from schedulers.random_search import RandomSearch
from schedulers.successive_halving import SuccessiveHalving

SPACE = Space.from_spec(
    {"alpha": {"loguniform": [1e-5, 1e-1]}, "l1_ratio": {"uniform": [0, 1]}, "penalty": {"choice": ["l2", "l1", "elasticnet"]}}
)

FACTORIES: dict[str, Callable[[int], Scheduler]] = {
    "random": lambda seed: RandomSearch(SPACE, seed=seed, n_trials=8, max_iter=9, report_every=3),
    "successive_halving": lambda seed: SuccessiveHalving(SPACE, seed=seed, n_trials=27, max_iter=27),
    "hyperband": lambda seed: Hyperband(SPACE, seed=seed, max_iter=27),
    "hyperband-patience": lambda seed: Hyperband(SPACE, seed=seed, max_iter=27, patience=2, tol=0.01),
    "asha-promotion": lambda seed: ASHA(SPACE, seed=seed, max_iter=27, n_trials=60, brackets=2),
    "asha-stopping": lambda seed: ASHA(SPACE, seed=seed, max_iter=27, n_trials=60, variant="stopping"),
    "pbt-synch": lambda seed: PBT(SPACE, seed=seed, n_trials=6, max_iter=12, perturbation_interval=3, synch=True),
    "pbt-async": lambda seed: PBT(SPACE, seed=seed, n_trials=6, max_iter=12, perturbation_interval=3),
    "pbt-pb2-tournament": lambda seed: PBT(
        SPACE, seed=seed, n_trials=6, max_iter=9, perturbation_interval=3, strategy="pb2", exploit="tournament"
    ),
}


def config_curve(job: Job) -> float:
    """Scores that depend on the sampled config, so different configs take different paths."""
    quality = 1.0 - abs(job.config["l1_ratio"] - 0.3) - 0.1 * (job.config["penalty"] == "l1")
    return quality * job.stop_step / (job.stop_step + 3.0)


def record(trace: Trace) -> tuple[list[Job], list[tuple[int, int, float]], list[str]]:
    return trace.jobs, [(r.trial_id, r.step, r.score) for r in trace.results], [d.value for d in trace.decisions]


@pytest.mark.parametrize("name", sorted(FACTORIES))
@pytest.mark.parametrize("concurrency", [1, 5])
def test_same_seed_same_jobs_and_decisions(name: str, concurrency: int) -> None:
    first = FACTORIES[name](7)
    second = FACTORIES[name](7)
    a = play(first, config_curve, concurrency)
    b = play(second, config_curve, concurrency)
    assert record(a) == record(b)
    assert a.seen == b.seen
    assert [(t.trial_id, t.config, t.seed, t.status, t.steps) for t in first.trials.values()] == [
        (t.trial_id, t.config, t.seed, t.status, t.steps) for t in second.trials.values()
    ]


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_different_seed_different_configs(name: str) -> None:
    a, b = FACTORIES[name](1), FACTORIES[name](2)
    play(a, config_curve, 3)
    play(b, config_curve, 3)
    configs_a = [t.config for t in a.trials.values()]
    configs_b = [t.config for t in b.trials.values()]
    assert configs_a != configs_b
    assert [t.seed for t in a.trials.values()] != [t.seed for t in b.trials.values()]


def test_entry_points_name_the_classes() -> None:
    wanted = {"random": RandomSearch, "successive_halving": SuccessiveHalving, "hyperband": Hyperband, "asha": ASHA}
    found = {ep.name: ep for ep in importlib.metadata.entry_points(group="tunebench.schedulers")}
    for name, cls in wanted.items():
        assert found[name].load() is cls
        assert cls.name == name


def test_synthetic_play_refuses_a_job_that_skips_its_checkpoint() -> None:
    class Skipper(RandomSearch):
        def suggest(self) -> Job | None:
            job = super().suggest()
            if job is not None and job.start_step > 0:
                return Job(job.trial_id, job.config, job.seed, job.start_step + 1, job.stop_step + 1)
            return job

    with pytest.raises(RuntimeError, match="checkpoint"):
        play(Skipper(SPACE, n_trials=1, max_iter=9, report_every=3), seeded_curve)
