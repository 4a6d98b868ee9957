"""Integrations side by side on the same data: calls, wall time and best score.

* ``TuneSearchCV`` (Hyperband on our Dask executor, 2 workers) vs Dask-ML's
  ``HyperbandSearchCV`` on a LocalCluster of the same shape: SGDClassifier, the same
  ``max_iter`` and ``eta`` (``aggressiveness``), the same scipy.stats space, the same rows.
* ``TuneSearchCV`` with ``resource="n_samples"`` (Hyperband over training rows) vs
  scikit-learn's ``HalvingRandomSearchCV`` (``resource="n_samples"``) on a RandomForest.
  Calls are ``fit`` calls.

Best score is each search's best estimator on one common test split. Repeats are interleaved
(case A, B, A, B, ...) and medians reported, as the machine is shared. Our ASHA inside Ray
Tune against Ray Tune's own ``ASHAScheduler`` is Ray Tune's overhead: ``bench_overhead.py``
measures it. Writes ``results/integrations.md`` and ``.json`` and prints the tables::

    python scripts/bench_integrations.py                 # small size, 3 repeats
    python scripts/bench_integrations.py --n-samples 20000 --max-iter 81 --repeat 5
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats

from tunebench import bench

warnings.filterwarnings("ignore")
SGD_SPACE = {"alpha": stats.loguniform(1e-6, 1e-1), "l1_ratio": stats.uniform(0, 1)}
RF_SPACE = {"max_depth": stats.randint(2, 12), "min_samples_leaf": stats.randint(1, 10), "n_estimators": [10, 30]}


def data(n: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split

    X, y = make_classification(n, 20, n_informative=8, random_state=seed)
    return tuple(train_test_split(X, y, test_size=0.2, random_state=seed))


def ours_sgd(args: argparse.Namespace, X: np.ndarray, y: np.ndarray, Xt: np.ndarray, yt: np.ndarray) -> dict[str, Any]:
    from sklearn.linear_model import SGDClassifier

    from tunebench import TuneSearchCV

    s = TuneSearchCV(
        SGDClassifier(penalty="elasticnet"),
        SGD_SPACE,
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
            SGDClassifier(penalty="elasticnet"), SGD_SPACE, max_iter=args.max_iter, aggressiveness=3, random_state=0
        )
        t0 = time.perf_counter()
        s.fit(Xd, yd, classes=np.unique(y))
        wall = time.perf_counter() - t0
        return {"calls": s.metadata_["partial_fit_calls"], "wall_s": wall, "score": s.best_estimator_.score(Xt, yt)}


def ours_rf(args: argparse.Namespace, X: np.ndarray, y: np.ndarray, Xt: np.ndarray, yt: np.ndarray) -> dict[str, Any]:
    from sklearn.ensemble import RandomForestClassifier

    from tunebench import TuneSearchCV

    s = TuneSearchCV(RandomForestClassifier(), RF_SPACE, resource="n_samples", max_iter=args.rf_max_iter, random_state=0)
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
        RF_SPACE,
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


Case = Callable[[argparse.Namespace, np.ndarray, np.ndarray, np.ndarray, np.ndarray], dict[str, Any]]
SECTIONS: dict[str, tuple[str, dict[str, Case], str]] = {
    "sgd": (
        "SGDClassifier: TuneSearchCV vs Dask-ML",
        {"TuneSearchCV (hyperband, dask x2)": ours_sgd, "dask-ml HyperbandSearchCV": dask_ml_sgd},
        "{n} training rows, 20 features, max_iter={a.max_iter}, eta=3; calls = partial_fit calls; "
        "score = best estimator's accuracy on the common test split.",
    ),
    "rf": (
        "RandomForest over training rows",
        {"TuneSearchCV (hyperband, n_samples)": ours_rf, "HalvingRandomSearchCV (factor 3, cv 3)": halving_rf},
        "calls = fit calls (ours: one per Job, plus rebuilding the best; HalvingRandomSearchCV: candidates x folds per "
        "iteration + the refit, n_candidates={a.rf_candidates}); TuneSearchCV max_iter={a.rf_max_iter} "
        "(rows ceil(n*k/max_iter)), one hold-out split.",
    ),
}


def main() -> None:
    ap = bench.parser(__doc__, repeat=3)
    ap.add_argument("--n-samples", type=int, default=4000)
    ap.add_argument("--max-iter", type=int, default=27)
    ap.add_argument("--rf-max-iter", type=int, default=9)
    ap.add_argument(
        "--rf-candidates", type=int, default=17, help="HalvingRandomSearchCV's n_candidates (17: Hyperband's at max_iter 9)"
    )
    ap.add_argument("--only", nargs="*", choices=list(SECTIONS), default=list(SECTIONS))
    args = ap.parse_args()
    X, Xt, y, yt = data(args.n_samples)
    results, sections = {}, []
    for key in args.only:
        title, cases, note = SECTIONS[key]
        runs = bench.interleaved(
            {name: lambda k, case=case: case(args, X, y, Xt, yt) for name, case in cases.items()}, args.repeat
        )
        results[key] = {name: {"median": bench.medians(rs), "runs": rs} for name, rs in runs.items()}
        rows = [[name, *m["median"].values()] for name, m in results[key].items()]
        head = ["contender", *next(iter(results[key].values()))["median"]]
        sections.append(f"## {title}\n\n{note.format(n=len(X), a=args)}\n\n{bench.table(head, rows)}\n")
    command = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k not in ("out", "only"))
    text = (
        f"# Integrations side by side\n\n`python scripts/bench_integrations.py {command}`; medians of {args.repeat} "
        "interleaved repeats; wall_s in seconds.\n\n" + "\n".join(sections)
    )
    bench.write(args.out, "integrations", {"args": vars(args), "sections": results}, text)


if __name__ == "__main__":
    main()
