"""The loop's cheap bookkeeping: the best trial without rescans, journal lines held until a wait."""

from __future__ import annotations

import json
import math

from tunebench.clock import VirtualClock
from tunebench.loop import Loop
from tunebench.scores import rank_key
from tunebench.sinks import JournalSink, Sink
from tunebench.space import Space
from tunebench.store.journal import Journal, read_journal
from tunebench.synthetic import ScoreFnExecutor
from tunebench.trial import Decision, Job, Result

from schedulers.asha import ASHA

SPACE = Space.from_spec({"x": {"uniform": [0, 1]}})


def bumpy(job: Job) -> float:
    """Scores that go up and down from one rung to the next, with ties and NaNs."""
    if job.seed % 11 == 0:
        return float("nan")
    return round(((job.seed * 7919 + job.stop_step * 104729) % 1000) / 1000, 1)


class BestChecker(Sink):
    """Before every wait (every result so far taken in), the loop's best must be the best last
    score, ties to the lower id."""

    def __init__(self) -> None:
        self.loop: Loop | None = None
        self.checked = 0

    def on_wait(self) -> None:
        assert self.loop is not None
        trials = [t for t in self.loop.scheduler.trials.values() if t.last_score is not None]
        if trials:
            want = max(trials, key=lambda t: (rank_key(t.last_score, "max"), -t.trial_id)).trial_id
            assert self.loop.best == want
            self.checked += 1

    close = on_wait


def test_best_trial_is_always_the_argmax_of_last_scores() -> None:
    scheduler = ASHA(SPACE, seed=3, max_iter=27, n_trials=200)
    executor = ScoreFnExecutor(bumpy, n_workers=16)
    checker = BestChecker()
    loop = Loop(scheduler, executor, executor.clock, [checker])
    checker.loop = loop
    loop.run()
    assert checker.checked > 200


def test_journal_lines_wait_for_a_flush_and_arrive_whole(tmp_path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    journal.log("start", seed=0)
    sink = JournalSink(journal)
    sink.on_job(Job(0, {"x": 0.5}, 1, 0, 3))
    sink.on_result(Result(0, 3, float("nan"), 3), Decision.CONTINUE)
    assert [e["kind"] for e in read_journal(journal.path)] == ["start"]
    sink.on_wait()
    text = journal.path.read_text()
    assert text.endswith("\n") and [json.loads(line)["kind"] for line in text.splitlines()] == ["start", "job", "result"]
    assert '"score": NaN' in text.splitlines()[-1]  # non-finite scores are journaled as they are, not as null
    assert math.isnan(json.loads(text.splitlines()[-1])["score"])
    sink.on_job(Job(0, {"x": 0.5}, 1, 3, 9))
    journal.log("end", status="completed")
    assert [e["kind"] for e in read_journal(journal.path)][-2:] == ["job", "end"]
    journal.close()


def test_the_loop_flushes_the_journal_before_each_wait(tmp_path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    seen: list[int] = []

    class Counting(ScoreFnExecutor):
        def wait(self) -> list[Result]:
            seen.append(sum(1 for e in read_journal(journal.path) if e["kind"] == "job"))
            return super().wait()

    scheduler = ASHA(SPACE, seed=0, max_iter=9, n_trials=12)
    executor = Counting(bumpy, n_workers=4)
    trace_jobs: list[int] = []

    class Jobs(Sink):
        def on_job(self, job: Job) -> None:
            trace_jobs.append(job.trial_id)

        def on_wait(self) -> None:
            seen.append(-len(trace_jobs))

    Loop(scheduler, executor, VirtualClock(), [JournalSink(journal), Jobs()]).run()
    journal.close()
    pairs = list(zip(seen[::2], seen[1::2]))
    assert pairs and all(-sent == on_disk for sent, on_disk in pairs)


def test_no_job_goes_out_once_the_wall_time_budget_is_reached_however_slow_the_scheduler() -> None:
    """``wall_time_s`` is checked before every submission, not only when a result arrives: a
    scheduler (or its searcher) that takes 0.4 s per proposal cannot slip a Job past a 1 s
    deadline. Here training takes no time on the loop's clock; proposing does."""
    from tunebench.loop import Budget

    class Manual:
        virtual = True

        def __init__(self) -> None:
            self.t = 0.0

        def now(self) -> float:
            return self.t

    clock = Manual()

    class Slow(ASHA):
        def suggest(self) -> Job | None:
            clock.t += 0.4
            return super().suggest()

    class Submitted(Sink):
        def __init__(self) -> None:
            self.at: list[float] = []

        def on_job(self, job: Job) -> None:
            self.at.append(clock.now())

    sink = Submitted()
    ex = ScoreFnExecutor(bumpy, 4)
    outcome = Loop(Slow(SPACE, max_iter=9, n_trials=20), ex, clock, [sink], Budget(wall_time_s=1.0)).run()  # type: ignore[arg-type]
    assert outcome.stop_reason == "wall_time_s"
    assert sink.at == [0.4, 0.8]
