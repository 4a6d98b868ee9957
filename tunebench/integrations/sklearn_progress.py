"""``TuneSearchCV``'s ``verbose``: a loop sink that shows finished trials on stderr.

``verbose=1`` is a tqdm bar of trials finished (out of the scheduler's plan when it has one),
with the best final validation score of a finished trial so far (what ``best_score_`` will be
once every trial has finished) and the time elapsed; ``verbose=2`` adds one line per
finished trial, in the manner of scikit-learn's ``[CV] END`` lines. A trial is finished when
the scheduler completes or stops it, or it fails for good; a paused trial is not.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from tunebench.sinks import Sink
from tunebench.trial import Decision, Job, Result, Trial

ENDS = {Decision.STOP: "stopped", Decision.COMPLETE: "completed"}


def describe_config(config: dict[str, Any]) -> str:
    """``alpha=0.001, penalty=l2``, floats to four significant digits."""
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in config.items())


class TrialProgress(Sink):
    """A bar of finished trials (``verbose >= 1``) and a line per finished trial (``verbose >= 2``)."""

    def __init__(self, total: int | None, verbose: int, desc: str = "TuneSearchCV") -> None:
        from tqdm.auto import tqdm

        self.verbose, self.total = verbose, total
        self.bar = tqdm(total=total, unit="trial", desc=desc, file=sys.stderr, dynamic_ncols=True)
        self.trials: dict[int, Trial] = {}
        self.seconds: dict[int, float] = {}
        self.done: set[int] = set()
        self.best = -math.inf

    def on_trial(self, trial: Trial) -> None:
        self.trials[trial.trial_id] = trial

    def on_result(self, result: Result, decision: Decision) -> None:
        tid = result.trial_id
        self.seconds[tid] = self.seconds.get(tid, 0.0) + result.compute_s + result.score_s
        if decision in ENDS:
            self.finish(tid, ENDS[decision], result.step, result.score)

    def on_status(self, trial_id: int, status: str, error: str | None = None) -> None:
        trial = self.trials.get(trial_id)
        score = trial.last_score if trial is not None and trial.last_score is not None else math.nan
        self.finish(trial_id, status, trial.steps if trial is not None else 0, score)

    def on_failure(self, job: Job, error: str, attempt: int, decision: Decision | None) -> None:
        if decision is not None:
            self.finish(job.trial_id, f"failed: {error}", job.start_step, math.nan)

    def finish(self, trial_id: int, how: str, steps: int, score: float) -> None:
        if trial_id in self.done:
            return
        self.done.add(trial_id)
        if math.isfinite(score) and score > self.best:
            self.best = score
            self.bar.set_postfix(best=f"{score:.4g}", refresh=False)
        if self.verbose >= 2:
            trial = self.trials.get(trial_id)
            config = describe_config(dict(trial.config)) if trial is not None else ""
            of = f"/{self.total}" if self.total else ""
            self.bar.write(
                f"[trial {len(self.done)}{of}] END {config}; model_id={trial_id}, steps={steps}, "
                f"score={score:.3f}, total time={self.seconds.get(trial_id, 0.0):.2f}s ({how})",
                file=sys.stderr,
            )
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


__all__ = ["TrialProgress", "describe_config"]
