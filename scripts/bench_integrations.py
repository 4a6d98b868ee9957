"""Integrations side by side on the same data: calls, wall time and best score.

* ``TuneSearchCV`` (Hyperband on our Dask executor, 2 workers) vs Dask-ML's
  ``HyperbandSearchCV`` on a LocalCluster of the same shape: SGDClassifier, the same
  ``max_iter`` and ``eta`` (``aggressiveness``), the same scipy.stats space, the same rows.
* ``TuneSearchCV`` with ``resource="n_samples"`` (Hyperband over training rows) vs
  scikit-learn's ``HalvingRandomSearchCV`` (``resource="n_samples"``) on a RandomForest.
  Calls are ``fit`` calls.
* Our ASHA (promotion and stopping) inside Ray Tune vs Ray Tune's own ``ASHAScheduler`` with
  the same ``max_t``, grace and ``eta``, the same number of trials, on a trainable that is a
  function of config and step (so the time is Tune's overhead). Calls are reported steps.

Best score is each search's best estimator on one common test split (the Ray cases: the best
trial's last score). Repeats are interleaved (case A, B, C, A, B, C, ...) and medians
reported, as the machine is shared. Writes ``results/integrations.md`` and prints it.

    python scripts/bench_integrations.py                 # small size, 3 repeats
    python scripts/bench_integrations.py --n-samples 20000 --max-iter 81 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
warnings.filterwarnings("ignore")


def data(n: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split

    X, y = make_classification(n, 20, n_informative=8, random_state=seed)
    return tuple(train_test_split(X, y, test_size=0.2, random_state=seed))


def sgd_space() -> dict[str, Any]:
    from scipy import stats

    return {"alpha": stats.loguniform(1e-6, 1e-1), "l1_ratio": stats.uniform(0, 1)}


def ours_sgd(args: argparse.Namespace, X: np.ndarray, y: np.ndarray, Xt: np.ndarray, yt: np.ndarray) -> dict[str, Any]:
    from sklearn.linear_model import SGDClassifier

    from tunebench import TuneSearchCV

    s = TuneSearchCV(
        SGDClassifier(penalty="elasticnet"),
        sgd_space(),
        max_iter=args.max_iter,
        executor="dask",
        executor_params={"n_workers": 2},
        chunk_size=max(1, len(X) // 10),
        random_state=0,
    )
    t0 = time.perf_counter()
    s.fit(X, y, classes=np.unique(y))
    return {"calls": s.metadata_["partial_fit_calls"], "wall_s": time.perf_counter() - t0, "score": s.score(Xt, yt)}


def dask_ml_sgd(args: argparse.Namespace, X: np.ndarray, y: np.ndarray, Xt: np.ndarray, yt: np.ndarray) -> dict[str, Any]:
    import dask
    import dask.array as da
    from dask_ml.model_selection import HyperbandSearchCV
    from distributed import Client, LocalCluster
    from sklearn.linear_model import SGDClassifier

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
        dask.config.set(scheduler=client.get),
    ):
        chunk = max(1, len(X) // 10)
        Xd, yd = da.from_array(X, chunks=(chunk, X.shape[1])), da.from_array(y, chunks=chunk)
        s = HyperbandSearchCV(
            SGDClassifier(penalty="elasticnet"), sgd_space(), max_iter=args.max_iter, aggressiveness=3, random_state=0
        )
        t0 = time.perf_counter()
        s.fit(Xd, yd, classes=np.unique(y))
        wall = time.perf_counter() - t0
        return {"calls": s.metadata_["partial_fit_calls"], "wall_s": wall, "score": s.best_estimator_.score(Xt, yt)}


def rf_space() -> dict[str, Any]:
    from scipy import stats

    return {"max_depth": stats.randint(2, 12), "min_samples_leaf": stats.randint(1, 10), "n_estimators": [10, 30]}


def ours_rf(args: argparse.Namespace, X: np.ndarray, y: np.ndarray, Xt: np.ndarray, yt: np.ndarray) -> dict[str, Any]:
    from sklearn.ensemble import RandomForestClassifier

    from tunebench import TuneSearchCV

    s = TuneSearchCV(RandomForestClassifier(), rf_space(), resource="n_samples", max_iter=args.rf_max_iter, random_state=0)
    t0 = time.perf_counter()
    s.fit(X, y)
    return {
        "calls": len(s.history_) + 1,
        "wall_s": time.perf_counter() - t0,
        "score": s.score(Xt, yt),
        "candidates": s.metadata_["n_models"],
    }


def halving_rf(args: argparse.Namespace, X: np.ndarray, y: np.ndarray, Xt: np.ndarray, yt: np.ndarray) -> dict[str, Any]:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingRandomSearchCV

    s = HalvingRandomSearchCV(
        RandomForestClassifier(),
        rf_space(),
        resource="n_samples",
        factor=3,
        cv=3,
        random_state=0,
        n_candidates=args.rf_candidates,
    )
    t0 = time.perf_counter()
    s.fit(X, y)
    fits = int(sum(s.n_candidates_[i] for i in range(s.n_iterations_)) * 3 + 1)
    return {"calls": fits, "wall_s": time.perf_counter() - t0, "score": s.score(Xt, yt), "candidates": int(s.n_candidates_[0])}


def curve(config: dict[str, Any], step: int) -> float:
    return float(config["x"]) * (1.0 - math.exp(-step / 5.0))


def trainable(config: dict[str, Any]) -> None:
    from ray import tune
    from ray.tune import Checkpoint

    step = 0
    ck = tune.get_checkpoint()
    if ck is not None:
        with ck.as_directory() as d:
            step = json.loads((Path(d) / "s.json").read_text())["step"]
    while True:
        step += 1
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "s.json").write_text(json.dumps({"step": step}))
            tune.report({"score": curve(config, step), "step": step}, checkpoint=Checkpoint.from_directory(d))


def tune_run(tune_config: Any, storage: str, param_space: dict[str, Any] | None = None) -> tuple[Any, float]:
    from ray import tune

    tuner = tune.Tuner(
        trainable,
        param_space=param_space or {},
        tune_config=tune_config,
        run_config=tune.RunConfig(storage_path=storage, verbose=0),
    )
    t0 = time.perf_counter()
    grid = tuner.fit()
    return grid, time.perf_counter() - t0


def ours_asha(variant: str) -> Callable[..., dict[str, Any]]:
    def case(args: argparse.Namespace, storage: str) -> dict[str, Any]:
        from tunebench.integrations.ray_tune import tune_config
        from tunebench.space import Space

        from schedulers.asha import ASHA

        asha = ASHA(
            Space.from_spec({"x": {"uniform": [0, 1]}}),
            max_iter=args.max_t,
            eta=3,
            n_trials=args.n_trials,
            variant=variant,
            seed=0,
        )
        grid, wall = tune_run(tune_config(asha, metric="score", mode="max", max_concurrent_trials=2), storage)
        best = max((t.last_score for t in asha.trials.values() if t.last_score is not None), default=float("nan"))
        return {"calls": sum(t.steps for t in asha.trials.values()), "wall_s": wall, "score": best}

    return case


def ray_asha(args: argparse.Namespace, storage: str) -> dict[str, Any]:
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    sched = ASHAScheduler(time_attr="step", max_t=args.max_t, grace_period=1, reduction_factor=3)
    cfg = tune.TuneConfig(metric="score", mode="max", scheduler=sched, num_samples=args.n_trials, max_concurrent_trials=2)
    grid, wall = tune_run(cfg, storage, {"x": tune.uniform(0, 1)})
    steps = [int(r.metrics["step"]) for r in grid]
    return {"calls": sum(steps), "wall_s": wall, "score": max(float(r.metrics["score"]) for r in grid)}


def median_rows(runs: dict[str, list[dict[str, Any]]]) -> list[tuple[str, dict[str, float]]]:
    return [(name, {k: statistics.median(r[k] for r in rs) for k in rs[0]}) for name, rs in runs.items()]


def table(title: str, rows: list[tuple[str, dict[str, float]]], note: str) -> str:
    keys = list(rows[0][1])
    head = f"### {title}\n\n{note}\n\n| contender | " + " | ".join(keys) + " |\n|---|" + "---|" * len(keys) + "\n"
    body = "".join(f"| {n} | " + " | ".join(f"{v:.4g}" for v in r.values()) + " |\n" for n, r in rows)
    return head + body


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-samples", type=int, default=4000)
    ap.add_argument("--max-iter", type=int, default=27)
    ap.add_argument("--rf-max-iter", type=int, default=9)
    ap.add_argument(
        "--rf-candidates", type=int, default=17, help="HalvingRandomSearchCV's n_candidates (17: Hyperband's at max_iter 9)"
    )
    ap.add_argument("--max-t", type=int, default=9)
    ap.add_argument("--n-trials", type=int, default=9)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", nargs="*", default=["sgd", "rf", "ray"])
    args = ap.parse_args()
    X, Xt, y, yt = data(args.n_samples)
    sections = []
    if "sgd" in args.only:
        runs: dict[str, list[dict[str, Any]]] = {"TuneSearchCV (hyperband, dask x2)": [], "dask-ml HyperbandSearchCV": []}
        for _ in range(args.repeat):
            runs["TuneSearchCV (hyperband, dask x2)"].append(ours_sgd(args, X, y, Xt, yt))
            runs["dask-ml HyperbandSearchCV"].append(dask_ml_sgd(args, X, y, Xt, yt))
        sections.append(
            table(
                "SGDClassifier: TuneSearchCV vs Dask-ML",
                median_rows(runs),
                f"{len(X)} training rows, 20 features, max_iter={args.max_iter}, eta=3; calls = partial_fit calls; "
                "score = best estimator's accuracy on the common test split.",
            )
        )
    if "rf" in args.only:
        runs = {"TuneSearchCV (hyperband, n_samples)": [], "HalvingRandomSearchCV (factor 3, cv 3)": []}
        for _ in range(args.repeat):
            runs["TuneSearchCV (hyperband, n_samples)"].append(ours_rf(args, X, y, Xt, yt))
            runs["HalvingRandomSearchCV (factor 3, cv 3)"].append(halving_rf(args, X, y, Xt, yt))
        sections.append(
            table(
                "RandomForest over training rows",
                median_rows(runs),
                f"calls = fit calls (ours: one per Job, plus rebuilding the best; HalvingRandomSearchCV: candidates x folds per "
                f"iteration + the refit, n_candidates={args.rf_candidates}); "
                f"TuneSearchCV max_iter={args.rf_max_iter} (rows ceil(n*k/max_iter)), one hold-out split.",
            )
        )
    if "ray" in args.only:
        import ray

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        cases = {
            "ours: ASHA promotion in Tune": ours_asha("promotion"),
            "ours: ASHA stopping in Tune": ours_asha("stopping"),
            "Ray Tune ASHAScheduler": ray_asha,
        }
        runs = {n: [] for n in cases}
        try:
            with tempfile.TemporaryDirectory() as tmp:
                for i in range(args.repeat):
                    for j, (name, case) in enumerate(cases.items()):
                        runs[name].append(case(args, str(Path(tmp) / f"{i}-{j}")))
        finally:
            ray.shutdown()
        sections.append(
            table(
                "ASHA inside Ray Tune",
                median_rows(runs),
                f"{args.n_trials} trials, max_t={args.max_t}, grace 1, eta 3, 2 concurrent trials, a trainable "
                "that is a function of config and step with a checkpoint per step; calls = reported steps; "
                "score = best trial's last score.",
            )
        )
    text = (
        f"# Integrations side by side\n\n`python scripts/bench_integrations.py --n-samples {args.n_samples} "
        f"--max-iter {args.max_iter} --rf-max-iter {args.rf_max_iter} --rf-candidates {args.rf_candidates} --max-t {args.max_t} --n-trials {args.n_trials} "
        f"--repeat {args.repeat}`; medians of {args.repeat} interleaved repeats; wall_s in seconds.\n\n" + "\n".join(sections)
    )
    out = ROOT / "results" / "integrations.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
