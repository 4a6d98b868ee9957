"""PB2 changes only the parameters the ``explore`` spec lets change."""

from __future__ import annotations

import math

from tunebench.space import Space
from tunebench.synthetic import play
from tunebench.trial import Job

from schedulers.pbt import PBT
from schedulers.pbt.pb2 import pb2_parameters

SPACE = Space.from_spec(
    {"alpha": {"loguniform": [1e-5, 1e-1]}, "eta0": {"loguniform": [1e-3, 1.0]}, "l1_ratio": {"uniform": [0, 1]}}
)


def bumpy(job: Job) -> float:
    """Better for eta0 near 0.03, improving with steps, with a per-Job wobble so PB2 has spread."""
    wobble = math.sin(job.trial_id * 1.7 + job.stop_step) * 0.05
    return -abs(math.log10(job.config["eta0"]) + 1.5) + 0.01 * job.stop_step + wobble


def test_pb2_models_only_parameters_with_a_chain() -> None:
    pbt = PBT(SPACE, strategy="pb2", explore={"alpha": [], "l1_ratio": None})
    assert pb2_parameters(SPACE) == ["alpha", "eta0", "l1_ratio"]
    assert pbt.pb2 is not None and pbt.pb2.names == ["eta0"]


def test_a_frozen_parameter_never_changes_over_many_pb2_exploits() -> None:
    pbt = PBT(
        SPACE,
        seed=3,
        strategy="pb2",
        synch=True,
        n_trials=6,
        max_iter=24,
        perturbation_interval=2,
        quantile_fraction=0.5,
        explore={"alpha": []},
    )
    play(pbt, bumpy, concurrency=6)
    clones = [e for e in pbt.lineage.events if e.donor is not None]
    by_pb2 = [e for e in clones if "pb2" in str(e.explored)]
    assert len(by_pb2) >= 10
    assert all(e.new_config["alpha"] == e.old_config["alpha"] for e in clones)
    assert any(e.new_config["eta0"] != e.old_config["eta0"] for e in by_pb2)
