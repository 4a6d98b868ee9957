"""PBT's lineage log: one row per member's birth, either as an initial sample or as a clone.

Trial identity: an exploit creates a **new trial** (as Syne Tune's PBT does), so every trial has
exactly one config and ``trials.parquet`` stays one row per config. The clone's ``parent`` is
its donor; the member it replaces stops (status ``stopped``) and the clone takes its
population ``slot``. A trial's weights at step ``s`` were therefore trained by its own config
from its first step on, and before that by its parent's, back to an initial member.

Each row (``pbt_log.parquet``): ``step`` (where the trial starts: 0, or the donor's checkpoint
step), ``trial``, ``slot``, ``replaced`` (the member it took over from), ``donor``,
``donor_step``, ``donor_score``, ``recipient_score`` (the replaced member's latest score),
``old_config`` (the donor's, before explore) and ``new_config`` as JSON strings,
``strategy`` (``init`` or ``<exploit>+<explore>``), ``explored`` (JSON: which operators fired
per parameter) and ``seed`` (the trial's seed), so a trial's whole schedule can be replayed
from this table and ``results.parquet`` alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from tunebench.trial import Trial

TABLE = "pbt_log"


def to_json(value: Any) -> str:
    """A config or label map as a JSON string (sorted keys, so equal configs compare equal)."""
    return json.dumps(value, sort_keys=True, default=str)


@dataclass(frozen=True)
class LineageEvent:
    """One member's birth: an initial sample (``strategy == "init"``) or an exploit + explore."""

    step: int
    trial: int
    slot: int
    seed: int
    new_config: dict[str, Any]
    strategy: str = "init"
    replaced: int | None = None
    donor: int | None = None
    donor_step: int | None = None
    donor_score: float | None = None
    recipient_score: float | None = None
    old_config: dict[str, Any] | None = None
    explored: dict[str, list[str]] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """The event as a flat row, configs as JSON strings."""
        row = asdict(self)
        row["new_config"] = to_json(self.new_config)
        row["old_config"] = to_json(self.old_config) if self.old_config is not None else None
        row["explored"] = to_json(self.explored)
        return row


class LineageLog:
    """The events in the order they happened, plus each trial's slot and origin."""

    def __init__(self) -> None:
        self.events: list[LineageEvent] = []
        self.slot: dict[int, int] = {}
        self.popped = 0

    def born(self, trial: Trial, slot: int) -> LineageEvent:
        """Log an initial member."""
        event = LineageEvent(step=0, trial=trial.trial_id, slot=slot, seed=trial.seed, new_config=dict(trial.config))
        return self._add(event)

    def cloned(
        self,
        child: Trial,
        *,
        replaced: Trial,
        donor: Trial,
        strategy: str,
        explored: Mapping[str, list[str]],
        step: int | None = None,
    ) -> LineageEvent:
        """Log a clone of ``donor`` at ``step`` (default: its latest), taking ``replaced``'s slot."""
        step = donor.steps if step is None else step
        event = LineageEvent(
            step=step,
            trial=child.trial_id,
            slot=self.slot[replaced.trial_id],
            seed=child.seed,
            new_config=dict(child.config),
            strategy=strategy,
            replaced=replaced.trial_id,
            donor=donor.trial_id,
            donor_step=step,
            donor_score=donor.scores.get(step, donor.last_score),
            recipient_score=replaced.last_score,
            old_config=dict(donor.config),
            explored={k: list(v) for k, v in explored.items()},
        )
        return self._add(event)

    def _add(self, event: LineageEvent) -> LineageEvent:
        self.events.append(event)
        self.slot[event.trial] = event.slot
        return event

    def rows(self) -> list[dict[str, Any]]:
        return [e.row() for e in self.events]

    def pop_rows(self) -> list[dict[str, Any]]:
        """Rows of the events logged since the last call."""
        new, self.popped = self.events[self.popped :], len(self.events)
        return [e.row() for e in new]

    def __len__(self) -> int:
        return len(self.events)
