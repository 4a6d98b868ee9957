"""The rule's decisions on hand-made learning curves, driven through tunebench's own loop."""

from __future__ import annotations

import pytest

from tunebench import Job, ParamError, Space, TrialStatus, load_plugin, play, plugin_names

from tunebench_median_stopping import MedianStopping

SPACE = Space.from_spec({"x": {"uniform": [0, 1]}})
CURVES = {  # trial id -> score at steps 1..4
    0: [0.5, 0.6, 0.7, 0.8],
    1: [0.4, 0.5, 0.6, 0.7],
    2: [0.1, 0.2, 0.3, 0.4],  # below the others from the start
    3: [0.9, 0.1, 0.1, 0.1],  # a good start, then a collapse: its best stays high, its mean falls
    4: [0.45, 0.7, 0.9, 0.95],  # level with the median at step 1, then best of all
}


def curve(job: Job) -> float:
    return CURVES[job.trial_id][job.stop_step - 1]


def ends(statistic: str, **params: int) -> dict[int, tuple[str, int]]:
    """Each trial's status and steps after a serial run on :data:`CURVES`."""
    ms = MedianStopping(SPACE, n_trials=5, max_iter=4, min_samples=2, statistic=statistic, **params)
    play(ms, curve, concurrency=1)
    return {t: (trial.status.value, trial.steps) for t, trial in ms.trials.items()}


def test_found_by_entry_point() -> None:
    assert "median_stopping" in plugin_names("scheduler")
    assert load_plugin("scheduler", "median_stopping") is MedianStopping


def test_best_so_far_below_the_median_of_running_means_stops() -> None:
    # serially, each trial runs to its end before the next starts, so trials 0 and 1 never have
    # two others to compare with. At step 1 trial 2's 0.1 is below median(0.5, 0.4) and it stops;
    # trial 3's best (0.9) never falls below a median; trial 4's 0.45 equals the median of
    # 0.5, 0.4, 0.1, 0.9 (a stopped trial's reports still count): a tie continues.
    assert ends("best") == {0: ("completed", 4), 1: ("completed", 4), 2: ("stopped", 1), 3: ("completed", 4), 4: ("completed", 4)}


def test_running_mean_statistic_stops_a_collapsing_trial() -> None:
    # trial 3's running mean: 0.5 at step 2, level with median(0.55, 0.45) of trials 0 and 1, so
    # it continues; 0.367 at step 3, below median(0.6, 0.5): it stops
    got = ends("mean")
    assert got[3] == ("stopped", 3) and got[2] == ("stopped", 1) and got[4] == ("completed", 4)


def test_grace_and_min_samples_hold_the_rule_back() -> None:
    assert ends("best", grace=2)[2] == ("stopped", 2) and ends("best", grace=2)[4] == ("completed", 4)
    ms = MedianStopping(SPACE, n_trials=5, max_iter=4, min_samples=5)
    play(ms, curve)
    assert all(t.status is TrialStatus.COMPLETED for t in ms.trials.values())


def test_min_mode_turns_the_comparison() -> None:
    ms = MedianStopping(SPACE, mode="min", n_trials=5, max_iter=4, min_samples=2)
    play(ms, curve)
    assert ms.trials[2].status is TrialStatus.COMPLETED  # the lowest curve is the best when minimising


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("min_samples", 0, "an integer >= 1 (other trials that must have reached a step before the rule applies there)"),
        ("statistic", "max", "one of best, mean (what of the trial is compared: its best score so far, or its running mean)"),
    ],
)
def test_bad_parameters_use_tunebench_checks(key: str, value: object, allowed: str) -> None:
    with pytest.raises(ParamError, match=f"^{key} must be {allowed.replace('(', '[(]').replace(')', '[)]')}, got {value!r}$"):
        MedianStopping(SPACE, **{key: value})
