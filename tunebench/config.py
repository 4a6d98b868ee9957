"""YAML experiment files plus ``--set key=value`` overrides, validated into an :class:`Experiment`.

Shape::

    name: sgd-hyperband          # optional; defaults to the file's stem
    seed: 0
    workload:  {name: sgd, dataset: circles, n_samples: 10000}
    scheduler: {name: hyperband, max_iter: 81, eta: 3}
    searcher:  {name: tpe, pending: constant_liar}   # optional; random by default
    executor:  {name: dask, n_workers: 2}
    budget:    {total_steps: null, wall_time_s: null, target_score: null, evaluations: null}
    failures:  {max_failures: 0, timeout_s: null}     # optional; retries per trial, seconds per Job
    space:     {alpha: {loguniform: [1.0e-6, 1.0e-1]}}   # optional; else the workload's default

The keys of ``workload``, ``scheduler``, ``searcher`` and ``executor`` (besides ``name``) are
the keyword arguments of the named plugin. Every problem is one :class:`ConfigError` that names the key,
the value and what is allowed.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tunebench import registry
from tunebench.checks import Check, Float, Int, ParamError
from tunebench.loop import Budget, Failures
from tunebench.names import did_you_mean, each
from tunebench.space import Space, SpaceError
from tunebench.workloads.base import check_space
from tunebench.workloads.smac import SMACTask
from tunebench.workloads.synthetic import SyntheticWorkload

SECTIONS = ("workload", "scheduler", "searcher", "executor")
TOP_KEYS = ("name", "seed", "budget", "failures", "space", *SECTIONS)
BUDGET_CHECKS: dict[str, Check] = {
    "total_steps": Int(low=1, optional=True),
    "wall_time_s": Float(low=0, low_open=True, optional=True),
    "target_score": Float(optional=True),
    "evaluations": Int(low=1, optional=True),
}
FAILURE_CHECKS: dict[str, Check] = {
    "max_failures": Int(low=0, note="retries of a failed Job per trial"),
    "timeout_s": Float(low=0, low_open=True, optional=True, note="seconds; null: no limit"),
}
BUDGET_KEYS = tuple(BUDGET_CHECKS)
FAILURE_KEYS = tuple(FAILURE_CHECKS)
DEFAULT_EXECUTOR = {"name": "local"}
DEFAULT_SEARCHER = {"name": "random"}


class ConfigError(ValueError):
    """A config that cannot run; the message is meant for the user as it is."""


@dataclass
class Built:
    """An experiment's plugins, each built once: what one run runs."""

    workload: Any
    space: Space
    scheduler: Any
    executor: Any


@dataclass
class Experiment:
    """A validated experiment: plugin classes, their options, the space, seed and budget."""

    name: str
    seed: int
    workload_cls: type
    workload_params: dict[str, Any]
    scheduler_cls: type
    scheduler_params: dict[str, Any]
    executor_cls: type
    executor_params: dict[str, Any]
    budget: Budget
    space_spec: dict[str, Any] | None = None
    searcher_cls: type | None = None
    searcher_params: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    overrides: list[str] = field(default_factory=list)
    failures: Failures = field(default_factory=Failures)
    _validated: Built | None = field(default=None, repr=False, compare=False)

    @property
    def scheduler_name(self) -> str:
        return str(self.scheduler_cls.name)

    @property
    def searcher_name(self) -> str:
        return str(self.searcher_cls.name) if self.searcher_cls is not None else "random"

    @property
    def executor_name(self) -> str:
        return str(self.executor_cls.name)

    @property
    def workload_name(self) -> str:
        return str(self.workload_cls.name)

    def build(self, *, workload: Any = None, scheduler: Any = None, executor: Any = None) -> Built:
        """Build each plugin once (workload, space, scheduler, executor), except those given
        already built; a bad option is one :class:`ConfigError` naming it.

        The first call after :func:`load_experiment` returns the instances that validated the
        config there, so a run builds nothing twice; later calls build anew (a scheduler is
        a state machine for one run).
        """
        if self._validated is not None and (workload, scheduler, executor) == (None, None, None):
            built, self._validated = self._validated, None
            return built
        if workload is None:
            workload = self._make("workload", self.workload_cls, seeded(self.workload_cls, self.workload_params, self.seed))
        try:
            space = workload.default_space() if self.space_spec is None else Space.from_spec(self.space_spec)
        except SpaceError as exc:
            raise ConfigError(str(exc)) from None
        check_names(workload, space)
        if scheduler is None:
            searcher = self._searcher(space, workload.mode)
            params = {
                "seed": self.seed,
                "mode": workload.mode,
                **self.scheduler_params,
                **({"searcher": searcher} if searcher else {}),
            }
            scheduler = self._make("scheduler", self.scheduler_cls, params, space)
        if executor is None:
            executor = self._make("executor", self.executor_cls, self.executor_params)
        check_fit(workload, scheduler, executor)
        return Built(workload, space, scheduler, executor)

    def _searcher(self, space: Space, mode: str) -> Any:
        """The searcher handed to the scheduler; ``None`` (the scheduler samples the space
        itself, draw for draw what ``random`` does) for a scheduler that takes no searcher."""
        if self.searcher_cls is None:
            return None
        if "searcher" not in inspect.signature(self.scheduler_cls.__init__).parameters:
            if self.searcher_name != "random" or self.searcher_params.get("pending", "none") != "none":
                raise ConfigError(
                    f"scheduler {self.scheduler_name!r} takes no searcher; leave out searcher {self.searcher_name!r}"
                )
            return None
        return self._make("searcher", self.searcher_cls, {"seed": self.seed, "mode": mode, **self.searcher_params}, space)

    def _make(self, kind: str, cls: type, params: dict[str, Any], *args: Any) -> Any:
        try:
            return cls(*args, **params)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{kind} {getattr(cls, 'name', cls.__name__)!r}: {exc}") from None

    def resolved(self) -> dict[str, Any]:
        """The whole config with every default filled in, as it would be written to YAML."""
        return {
            "name": self.name,
            "seed": self.seed,
            "workload": {"name": self.workload_name, **self.workload_params},
            "scheduler": {"name": self.scheduler_name, **self.scheduler_params},
            "searcher": {"name": self.searcher_name, **self.searcher_params},
            "executor": {"name": self.executor_name, **self.executor_params},
            "budget": {k: getattr(self.budget, k) for k in BUDGET_KEYS},
            "failures": {k: getattr(self.failures, k) for k in FAILURE_KEYS},
            "space": copy.deepcopy(self.space_spec),
        }


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"scheduler.eta=4"`` -> ``(["scheduler", "eta"], 4)``; the value is read as YAML."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE, e.g. --set scheduler.eta=4")
    key, _, value = text.partition("=")
    path = key.strip().split(".")
    if not all(path):
        raise ConfigError(f"--set {text!r}: malformed key {key!r}")
    try:
        parsed = yaml.safe_load(value) if value.strip() else None
    except yaml.YAMLError:
        parsed = value
    return path, parsed


def apply_overrides(raw: dict[str, Any], overrides: Sequence[str], keys: Sequence[str] = TOP_KEYS) -> set[tuple[str, ...]]:
    """Apply ``--set`` overrides in place; return the keys they touched (for error messages).
    ``keys`` are the allowed top-level keys (an experiment's, or a comparison matrix's)."""
    touched: set[tuple[str, ...]] = set()
    for text in overrides:
        path, value = parse_override(text)
        if path[0] not in keys:
            raise ConfigError(
                f"--set {text!r}: no key {path[0]!r}{did_you_mean(path[0], keys)}; top-level keys are {', '.join(keys)}"
            )
        if path[0] == "space" and len(path) > 1 and path[1] not in (raw.get("space") or {}):
            have = ", ".join(raw.get("space") or {}) or "none: this config uses the workload's default space"
            hint = did_you_mean(path[1], raw.get("space") or {})
            raise ConfigError(f"--set {text!r}: the config's space has no parameter {path[1]!r}{hint} (it has {have})")
        node = raw
        for i, part in enumerate(path[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise ConfigError(f"--set {text!r}: {'.'.join(path[: i + 1])} is {child!r}, not a section")
            node = child
        node[path[-1]] = value
        touched.add(tuple(path))
    return touched


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML file into a dict, with one clear error for a missing or malformed file."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config {str(p)!r}: no such file")
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"config {str(p)!r}: not valid YAML{where}: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"config {str(p)!r}: expected a mapping of keys ({', '.join(TOP_KEYS)}), got {type(data).__name__}")
    return data


def load_experiment(
    path: str | Path | None = None, overrides: Sequence[str] = (), raw: Mapping[str, Any] | None = None
) -> Experiment:
    """Load, override and validate an experiment from a YAML file (or an already-parsed dict)."""
    data = copy.deepcopy(dict(raw)) if raw is not None else load_yaml(path) if path is not None else {}
    touched = apply_overrides(data, overrides)
    where = f" (config {str(path)!r})" if path is not None else ""
    unknown = sorted(set(data) - set(TOP_KEYS))
    if unknown:
        raise ConfigError(f"unknown top-level key(s) {each(unknown, TOP_KEYS)}{where}; allowed: {', '.join(TOP_KEYS)}")
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be an integer >= 0, got {seed!r}")
    sections: dict[str, tuple[type, dict[str, Any]]] = {}
    for kind in SECTIONS:
        section = data.get(kind, {"executor": DEFAULT_EXECUTOR, "searcher": DEFAULT_SEARCHER}.get(kind))
        sections[kind] = _section(kind, section, touched)
    space_spec = data.get("space")
    if space_spec is not None and not isinstance(space_spec, dict):
        raise ConfigError(f"space must be a mapping of parameter -> distribution, got {space_spec!r}")
    budget = _budget(data.get("budget") or {})
    failures = _failures(data.get("failures") or {})
    name = str(data.get("name") or (Path(path).stem if path is not None else "experiment"))
    exp = Experiment(
        name=name,
        seed=seed,
        workload_cls=sections["workload"][0],
        workload_params=sections["workload"][1],
        scheduler_cls=sections["scheduler"][0],
        scheduler_params=sections["scheduler"][1],
        executor_cls=sections["executor"][0],
        executor_params=sections["executor"][1],
        budget=budget,
        space_spec=space_spec,
        searcher_cls=sections["searcher"][0],
        searcher_params=sections["searcher"][1],
        source=str(path) if path is not None else None,
        overrides=list(overrides),
        failures=failures,
    )
    _instantiate(exp)
    return exp


def _section(kind: str, section: Any, touched: set[tuple[str, ...]]) -> tuple[type, dict[str, Any]]:
    if section is None:
        raise ConfigError(f"missing section {kind!r}: give at least {kind}.name (one of {', '.join(registry.names(kind))})")
    if isinstance(section, str):
        section = {"name": section}
    if not isinstance(section, dict) or "name" not in section:
        hint = next((h for h in (did_you_mean(k, ["name"]) for k in section) if h), "") if isinstance(section, dict) else ""
        raise ConfigError(
            f"{kind} must be a mapping with a 'name' (one of {', '.join(registry.names(kind))}), got {section!r}{hint}"
        )
    name = section["name"]
    try:
        cls = registry.load(kind, str(name))
    except registry.RegistryError as exc:
        raise ConfigError(str(exc)) from None
    accepted = registry.params(kind, cls)
    options = {k: v for k, v in section.items() if k != "name"}
    for key in options:
        if key not in accepted:
            origin = " (from --set)" if (kind, key) in touched else ""
            raise ConfigError(
                f"unknown key {kind}.{key}{did_you_mean(key, accepted)}{origin} for {kind} {name!r}; allowed: {', '.join(accepted) or '(none)'}"
            )
    missing = [p.name for p in accepted.values() if p.required and p.name not in options]
    if missing:
        raise ConfigError(f"{kind} {name!r} needs {', '.join(f'{kind}.{m}' for m in missing)}")
    resolved = {p.name: options.get(p.name, p.default) for p in accepted.values()}
    return cls, resolved


def _mapping(name: str, section: Any, checks: Mapping[str, Check], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of a plain section (``budget``, ``failures``), each through its check."""
    if not isinstance(section, dict):
        raise ConfigError(f"{name} must be a mapping with keys {', '.join(checks)}, got {section!r}")
    unknown = sorted(set(section) - set(checks))
    if unknown:
        raise ConfigError(f"unknown key(s) {each(unknown, checks, f'{name}.')}; allowed: {', '.join(checks)}")
    try:
        return {k: c.check(f"{name}.{k}", section.get(k, defaults.get(k))) for k, c in checks.items()}
    except ParamError as exc:
        raise ConfigError(str(exc)) from None


def keyed(raw: Any, where: str, allowed: Sequence[str], shape: str) -> Mapping[str, Any]:
    """``raw`` as a mapping whose keys are all in ``allowed``; else one error naming ``where`` and
    what it takes (``shape``: how a right one looks).

    >>> keyed({"a": 1}, "x[0]", ["a", "b"], "keys a, b")
    {'a': 1}
    """
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a mapping with {shape}, got {raw!r}")
    unknown = sorted((k for k in raw if k not in allowed), key=str)
    if unknown:
        raise ConfigError(f"unknown key(s) {each(unknown, allowed, f'{where}.')}; allowed: {', '.join(allowed)}")
    return raw


def _budget(section: Any) -> Budget:
    return Budget(**_mapping("budget", section, BUDGET_CHECKS, {}))


def _failures(section: Any) -> Failures:
    return Failures(**_mapping("failures", section, FAILURE_CHECKS, {"max_failures": 0}))


def _instantiate(exp: Experiment) -> None:
    """Build each plugin so its own validation speaks at load time, not mid-run; the first run
    uses these very instances."""
    built = exp.build()
    if not built.scheduler.bounded and not exp.budget.any:
        raise never_ends(
            exp.scheduler_name, ("scheduler.n_trials", "budget.total_steps", "budget.wall_time_s", "budget.evaluations")
        )
    exp._validated = built


def seeded(cls: type, params: dict[str, Any], seed: int) -> dict[str, Any]:
    """A workload's options with the run's seed where its ``__init__`` takes one (the noise of a
    synthetic function), as schedulers and searchers get it."""
    return {"seed": seed, **params} if "seed" in inspect.signature(cls).parameters else dict(params)


def check_fit(workload: Any, scheduler: Any, executor: Any) -> None:
    """A ConfigError when the plugins cannot run together: an executor that cannot run the
    workload, or a scheduler whose trials would train past the top fidelity of a synthetic workload
    or the top budget of a SMAC task."""
    try:
        executor.check(workload)
    except ValueError as exc:
        raise ConfigError(f"executor {executor.name!r}: {exc}") from None
    most = getattr(scheduler, "max_iter", None)
    if isinstance(workload, (SyntheticWorkload, SMACTask)) and isinstance(most, int) and most > workload.max_iter:
        raise ConfigError(
            f"scheduler max_iter={most} is past workload {workload.name!r}'s top fidelity at step "
            f"workload.max_iter={workload.max_iter}; set both to the same number of steps"
        )


def check_names(workload: Any, space: Space) -> None:
    """A ConfigError naming each space parameter the workload cannot take, or the first value of
    the space it refuses (when its ``hyperparameters()`` map names to checks), before anything runs."""
    allowed = workload.hyperparameters()
    unknown = [n for n in space.domains if allowed is not None and n not in allowed]
    if unknown:
        raise ConfigError(
            f"space: workload {workload.name!r} has no hyperparameter(s) {each(unknown, allowed, quote=True)}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )
    if isinstance(allowed, Mapping):
        try:
            check_space(allowed, space)
        except ValueError as exc:
            raise ConfigError(f"space: workload {workload.name!r}: {exc}") from None


def never_ends(scheduler: str, ends: Sequence[str]) -> ConfigError:
    """The error for a scheduler with no end of its own and nothing else to end it: ``ends``
    names the keys, in the caller's vocabulary, any of which would."""
    return ConfigError(
        f"scheduler {scheduler!r} has no end of its own: set {', '.join(ends[:-1])} or {ends[-1]}"
        if len(ends) > 1
        else f"scheduler {scheduler!r} has no end of its own: set {ends[0]}"
    )
