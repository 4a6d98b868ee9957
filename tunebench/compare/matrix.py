"""A comparison matrix: contenders x executors x workloads x seeds, one budget, validated whole.

Shape (``configs/bench-*.yaml``)::

    name: bench-sgd
    seeds: [0, 1, 2, 3, 4]
    workers: 2                      # every contender gets this many workers; a list is an axis
    max_iter: 81                    # the most partial_fit calls any trial may get, for everyone
    budget: {total_steps: null, wall_time_s: null, evaluations: null}   # the same for every cell
    target_score: 0.92              # optional: time and calls to reach it
    space: {...}                    # optional; else each workload's default space
    shared: {eta: 3, pbt: {perturbation_interval: 9}}   # algorithm settings, once for everyone
    workloads: [{label: sgd, name: sgd, dataset: circles, n_samples: 10000}]
    # or suite: all (or [sgd-digits, mlp-wine]): recorded tasks, replayed on the simulated executor
    executors: [{name: dask}]       # ours only; peers bring their own engine
    schedulers:                     # ours: a scheduler section plus a label
      - {label: hyperband, name: hyperband, eta: 3}
      - {label: bohb, name: hyperband, searcher: {name: bohb}}   # a searcher of its own
    searchers: [random, {name: tpe, pending: constant_liar}]   # optional: an axis over ours
    peers:                          # other systems: a peer section plus a label
      - {label: dask-ml, name: dask-ml-hyperband}
      - {label: tune-asha, name: ray-tune-asha, differs: {variant: "Ray Tune's ASHA only stops"}}
    published:                      # optional: numbers others published, printed beside ours (tunebench.compare.published)
      - {workload: sgd, system: HpBandSter 0.7.4, contender: bohb, source: {repository: automl/HpBandSter, file: results.md},
         statistic: mean ± std over 10 seeds, incumbent: any, at: [60, 120], mean: [0.9, 0.92], std: [0.01, 0.01], n: 10}
    claims:                         # optional: the field's claims, each judged in the report (tunebench.compare.claims)
      - {better: asha, than: hyperband, measure: anytime, source: "Li et al., MLSys 2020"}

``max_iter`` goes into every scheduler and peer that takes it, and into a workload that maps
steps to a fidelity (a synthetic one: its top fidelity at ``max_iter``; a contender or workload
that sets another value is refused: the comparison would not be fair); ``workers`` becomes every executor's
``n_workers``. ``shared`` states the algorithm settings (``eta``, ``min_iter``, ``n_trials``,
PBT's ``population``, ``perturbation_interval``, ...) once; each contender of the family receives
them in its own vocabulary, and two contenders of one family whose settings still differ are
refused unless an entry's ``differs`` says why (:mod:`tunebench.compare.fairness`). Each cell is one ordinary run directory ``DIR/<workload>/<label>@<executor>/seed<k>``
(peers: ``<label>@<peer name>``). Every problem is one :class:`~tunebench.config.ConfigError`
naming the key, the value and what is allowed, raised before any cell runs.

Two axes multiply our contenders. ``searchers`` (searcher sections with an optional ``label``)
crosses every scheduler entry that has no ``searcher:`` of its own; the cell's label is then
``<scheduler label>+<searcher label>``, and so is an entry's own searcher's unless the entry
gives a ``label``. Peers bring their own sampling and are not crossed. ``workers: [1, 8, 64]``
runs every contender, peers too, at each count, labelled ``<label>/<k>w``: a scaling study is
one matrix. The report treats each label as one contender.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from tunebench import registry
from tunebench.checks import ParamError
from tunebench.compare.claims import check_claims
from tunebench.compare.fairness import ENTRY_KEY, check_fair, hand_out, settings_of, shared_block
from tunebench.compare.published import published_entries
from tunebench.compare.suite_axis import executors_for, expand
from tunebench.config import BUDGET_CHECKS, ConfigError, apply_overrides, load_experiment, load_yaml
from tunebench.names import did_you_mean, each
from tunebench.store.comparison import Cell, Matrix

TOP_KEYS = (
    "name",
    "seeds",
    "workers",
    "max_iter",
    "budget",
    "target_score",
    "space",
    "shared",
    "workloads",
    "executors",
    "schedulers",
    "searchers",
    "peers",
    "published",
    "suite",
    "claims",
)
BUDGET_KEYS = ("total_steps", "wall_time_s", "evaluations")


def safe(text: str) -> str:
    """A label as a path component.

    >>> safe("asha/stopping v2")
    'asha-stopping-v2'
    """
    return re.sub(r"[^A-Za-z0-9_.@+-]+", "-", text).strip("-") or "x"


def load_matrix(path: str | Path | None = None, overrides: Sequence[str] = (), raw: Mapping[str, Any] | None = None) -> Matrix:
    """Read, override and validate a matrix; every cell's config is built once to check it."""
    data = copy.deepcopy(dict(raw)) if raw is not None else load_yaml(path)
    apply_overrides(data, overrides, TOP_KEYS)
    unknown = sorted(set(data) - set(TOP_KEYS))
    if unknown:
        raise ConfigError(f"unknown matrix key(s) {each(unknown, TOP_KEYS)}; allowed: {', '.join(TOP_KEYS)}")
    expand(data)
    seeds = data.get("seeds", [0])
    if not isinstance(seeds, list) or not seeds or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds):
        raise ConfigError(f"seeds must be a non-empty list of integers >= 0, got {seeds!r}")
    workers = data.get("workers", 2)
    counts = workers if isinstance(workers, list) else [workers]
    if (
        not counts
        or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in counts)
        or len(set(counts)) < len(counts)
    ):
        raise ConfigError(f"workers must be an integer >= 1 or a non-empty list of distinct ones, got {workers!r}")
    max_iter = data.get("max_iter", 81)
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ConfigError(f"max_iter must be an integer >= 1, got {max_iter!r}")
    budget = data.get("budget") or {}
    if not isinstance(budget, dict):
        raise ConfigError(f"budget must be a mapping with keys {', '.join(BUDGET_KEYS)}, got {budget!r}")
    extra = sorted(set(budget) - set(BUDGET_KEYS), key=str)
    if extra:
        raise ConfigError(f"unknown key(s) {each(extra, BUDGET_KEYS, 'budget.')}; allowed: {', '.join(BUDGET_KEYS)}")
    data.update(seeds=seeds, workers=workers, max_iter=max_iter, budget=budget)
    workloads = labelled(data, "workloads", required=True)
    executors = labelled(data, "executors", required=False) or [{"label": "local", "name": "local"}]
    schedulers = labelled(data, "schedulers", required=False)
    peers = labelled(data, "peers", required=False)
    if not schedulers and not peers:
        raise ConfigError("a matrix needs at least one entry under schedulers or peers")
    block = shared_block(data.get("shared"))
    schedulers = [hand_out(s, "scheduler", block, f"schedulers[{s['label']}]") for s in schedulers]
    peers = [hand_out(p, "peer", block, f"peers[{p['label']}]") for p in peers]
    check_evaluations(budget, peers)
    contenders = [
        (c, k)
        for s, given in zip(schedulers, data.get("schedulers") or [])
        for c in with_searchers(s, given, data)
        for k in counts
    ]
    matrix = Matrix(str(data.get("name") or (Path(path).stem if path is not None else "comparison")), data)
    axis = len(counts) > 1
    for seed in seeds:
        for w in workloads:
            for (s, searcher), k in contenders:
                for e in executors_for(w, executors, data.get("suite")):
                    matrix.cells.append(our_cell(data, w, s, e, seed, k, searcher, axis))
            for p in peers:
                for k in counts:
                    matrix.cells.append(peer_cell(data, w, p, seed, k, axis))
    ids = [c.cell_id for c in matrix.cells]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ConfigError(f"two cells share the directory {duplicated[0]!r}: give the contenders distinct labels")
    checked: set[str] = set()
    for cell in matrix.cells:  # the seed only seeds the plugins: one seed checks a contender
        key = cell.cell_id.rsplit("/seed", 1)[0]
        if key not in checked:
            checked.add(key)
            validate(cell, data)
    total_steps = budget.get("total_steps")
    entries = [("scheduler", s, searcher["label"] if searcher else None, k) for (s, searcher), k in contenders]
    entries += [("peer", p, None, k) for p in peers for k in counts]
    matrix.contenders = [
        replace(settings_of(e, kind, at_workers(e["label"], k, axis), max_iter, total_steps), searcher=searcher, workers=k)
        for kind, e, searcher, k in entries
    ]
    check_fair(matrix.contenders)
    matrix.published = published_entries(
        data.get("published"), [w["label"] for w in workloads], [c.label for c in matrix.contenders]
    )
    check_claims(data, [e["label"] for _, e, _, _ in entries], counts)
    return matrix


def counts_evaluations(name: str) -> bool:
    """Whether the peer registered as ``name`` keeps to ``budget.evaluations`` (one it cannot load does not)."""
    try:
        return bool(getattr(registry.load("peer", name), "counts_evaluations", False))
    except registry.RegistryError:
        return False


def check_evaluations(budget: Mapping[str, Any], peers: Sequence[Mapping[str, Any]]) -> None:
    """``budget.evaluations``: an integer >= 1, and refused (one error, naming them and the peers that
    accept it) when a peer's evaluations are not ours (:attr:`~tunebench.compare.peer.Peer.counts_evaluations`)."""
    n = budget.get("evaluations")
    if n is None:
        return
    try:
        BUDGET_CHECKS["evaluations"].check("budget.evaluations", n)
    except ParamError as exc:
        raise ConfigError(str(exc)) from None
    refused = [
        f"{p['label']} ({p['name']})" if p["label"] != p["name"] else str(p["name"])
        for p in peers
        if not counts_evaluations(str(p["name"]))
    ]
    if refused:
        accept = [name for name in registry.names("peer") if counts_evaluations(name)]
        raise ConfigError(
            f"budget.evaluations={n}: peer(s) {', '.join(refused)} have no evaluation that is one of ours (a config asked for "
            f"at one budget), so cannot keep to it; peers that accept budget.evaluations: {', '.join(accept) or '(none)'}; "
            "drop those peers or budget.evaluations"
        )


def searcher_section(entry: Any, where: str) -> dict[str, Any]:
    """A searcher section (a name, or a mapping with a ``name`` and an optional ``label``)
    whose searcher is registered; else one error naming ``where``."""
    if isinstance(entry, str):
        entry = {"name": entry}
    if not isinstance(entry, dict) or "name" not in entry:
        raise ConfigError(
            f"{where} must be a searcher name or a mapping with a 'name' (one of {', '.join(registry.names('searcher'))}), got {entry!r}"
        )
    try:
        registry.load("searcher", str(entry["name"]))
    except registry.RegistryError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return {"label": str(entry.get("label") or entry["name"]), **entry}


def with_searchers(s: dict[str, Any], given: Any, data: Mapping[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """One scheduler entry crossed with its searchers: its own ``searcher:``, else the matrix's
    ``searchers`` axis, else none (the default); each with the cell label it makes."""
    axis = data.get("searchers")
    if axis is not None and (not isinstance(axis, list) or not axis):
        raise ConfigError(f"searchers must be a non-empty list of searcher sections, got {axis!r}")
    own = s.get("searcher")
    base = {k: v for k, v in s.items() if k != "searcher"}
    if own is not None:
        sec = searcher_section(own, f"schedulers[{s['label']}].searcher")
        label = s["label"] if isinstance(given, dict) and given.get("label") else f"{s['label']}+{sec['label']}"
        return [({**base, "label": label}, sec)]
    if axis is None:
        return [(base, None)]
    sections = [searcher_section(e, f"searchers[{i}]") for i, e in enumerate(axis)]
    return [({**base, "label": f"{s['label']}+{sec['label']}"}, sec) for sec in sections]


def at_workers(label: str, k: int, axis: bool) -> str:
    """A contender's label at ``k`` workers when the matrix's ``workers`` is an axis.

    >>> at_workers("asha", 8, True), at_workers("asha", 8, False)
    ('asha/8w', 'asha')
    """
    return f"{label}/{k}w" if axis else label


def labelled(data: Mapping[str, Any], key: str, *, required: bool) -> list[dict[str, Any]]:
    """A list of plugin sections, each with a ``name`` and a ``label`` (default: the name)."""
    entries = data.get(key) or []
    if required and not entries:
        raise ConfigError(f"a matrix needs a non-empty {key} list")
    if not isinstance(entries, list):
        raise ConfigError(f"{key} must be a list of sections with a 'name', got {entries!r}")
    out = []
    for i, e in enumerate(entries):
        if isinstance(e, str):
            e = {"name": e}
        if not isinstance(e, dict) or "name" not in e:
            hint = next((h for h in (did_you_mean(k, ["name"]) for k in e) if h), "") if isinstance(e, dict) else ""
            raise ConfigError(f"{key}[{i}] must be a mapping with a 'name', got {e!r}{hint}")
        out.append({"label": str(e.get("label") or e["name"]), **e})
    return out


def plain(section: Mapping[str, Any]) -> dict[str, Any]:
    """A plugin section without the matrix's own keys (``label``, ``differs``)."""
    return {k: v for k, v in section.items() if k not in ("label", ENTRY_KEY)}


def with_max_iter(kind: str, section: dict[str, Any], max_iter: int, label: str) -> dict[str, Any]:
    """``section`` with the matrix's ``max_iter`` where the plugin takes it; a different value
    set by the contender itself is refused."""
    out = dict(section)
    cls = registry.load(kind, str(out["name"]))
    if "max_iter" in registry.params(kind, cls):
        given = out.get("max_iter", max_iter)
        if given != max_iter:
            raise ConfigError(
                f"{kind} {label!r} sets max_iter={given!r}, but the matrix gives every contender max_iter={max_iter}; "
                "drop it from the contender or change the matrix's max_iter"
            )
        out["max_iter"] = max_iter
    return out


def our_cell(
    data: dict[str, Any],
    w: dict[str, Any],
    s: dict[str, Any],
    e: dict[str, Any],
    seed: int,
    k: int,
    searcher: dict[str, Any] | None,
    axis: bool,
) -> Cell:
    try:
        scheduler = with_max_iter("scheduler", plain(s), data["max_iter"], s["label"])
        workload = with_max_iter("workload", plain(w), data["max_iter"], w["label"])
    except registry.RegistryError as exc:
        raise ConfigError(str(exc)) from None
    executor = {**plain(e), "n_workers": k} if e["name"] != "local" else plain(e)
    label = at_workers(s["label"], k, axis)
    cell_id = f"{safe(w['label'])}/{safe(label)}@{safe(e['label'])}/seed{seed}"
    return Cell(
        cell_id,
        "scheduler",
        label,
        w["label"],
        e["label"],
        seed,
        scheduler,
        workload,
        executor,
        k,
        searcher["label"] if searcher else None,
        plain(searcher) if searcher else None,
    )


def peer_cell(data: dict[str, Any], w: dict[str, Any], p: dict[str, Any], seed: int, k: int, axis: bool) -> Cell:
    try:
        section = plain(p)
        registry.load("peer", str(section["name"]))
        workload = with_max_iter("workload", plain(w), data["max_iter"], w["label"])
    except registry.RegistryError as exc:
        raise ConfigError(str(exc)) from None
    label = at_workers(p["label"], k, axis)
    cell_id = f"{safe(w['label'])}/{safe(label)}@{safe(str(section['name']))}/seed{seed}"
    return Cell(cell_id, "peer", label, w["label"], str(section["name"]), seed, section, workload, None, k)


def probe(data: Mapping[str, Any]) -> dict[str, Any]:
    """The one-trial scheduler a peer cell's workload is built with (peers bring their own)."""
    return {"name": "random", "n_trials": 1, "max_iter": data["max_iter"]}


def experiment_raw(cell: Cell, data: Mapping[str, Any]) -> dict[str, Any]:
    """The experiment config of one of our cells."""
    raw = {
        "name": cell.label,
        "seed": cell.seed,
        "workload": cell.workload_section,
        "scheduler": cell.section,
        "executor": cell.executor_section,
        "budget": {**data.get("budget", {}), "target_score": None},
    }
    if cell.searcher_section is not None:
        raw["searcher"] = cell.searcher_section
    if data.get("space") is not None:
        raw["space"] = data["space"]
    return raw


def validate(cell: Cell, data: Mapping[str, Any]) -> None:
    """Build the cell's plugins once, so a bad option fails before any cell runs."""
    where = f"cell {cell.cell_id}"
    if cell.kind == "scheduler":
        try:
            load_experiment(raw=experiment_raw(cell, data))
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        return
    params = {k: v for k, v in cell.section.items() if k != "name"}
    cls = registry.load("peer", str(cell.section["name"]))
    accepted = registry.params("peer", cls)
    bad = sorted(set(params) - set(accepted))
    if bad:
        raise ConfigError(
            f"{where}: unknown key(s) {each(bad, accepted)} for peer {cell.section['name']!r}; allowed: {', '.join(accepted) or '(none)'}"
        )
    try:
        cls(**params)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{where}: peer {cell.section['name']!r}: {exc}") from None
    try:
        load_experiment(raw={"seed": cell.seed, "workload": cell.workload_section, "scheduler": probe(data)})
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
