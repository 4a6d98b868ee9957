"""Fair by construction: a matrix's shared algorithm settings reach every contender in its own
vocabulary, and two contenders of one algorithm never run different settings unless the matrix
says why.

A matrix states the settings once::

    shared:
      eta: 3                          # every family that has eta: hyperband, asha, successive halving
      min_iter: 1
      asha: {n_trials: 143}           # one family's own value
      pbt: {population: 8, perturbation_interval: 9}

Each contender of a family receives them under its own key (:mod:`tunebench.algorithm`: Ray
Tune's ASHA takes ``min_iter`` as its ``min_iter`` key and hands it to ``ASHAScheduler`` as
``grace_period``). A contender that sets a shared setting itself to another value, a shared value
a contender cannot take (Ray Tune's ASHA only stops trials), and two contenders of one family whose
effective settings (defaults resolved) differ, are refused before anything runs, naming both
and the setting, unless an entry says why: ``differs: {variant: "the paper's promotion variant"}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tunebench import registry
from tunebench.algorithm import FAMILIES, SETTINGS
from tunebench.config import ConfigError
from tunebench.names import did_you_mean
from tunebench.store.comparison import Contender

ENTRY_KEY = "differs"


def shared_block(raw: Any) -> dict[str, dict[str, Any]]:
    """The matrix's ``shared`` block as family -> settings: a top-level setting goes to every
    family that has it, a family's own block overrides it there.

    >>> shared_block({"eta": 4, "asha": {"n_trials": 50, "eta": 3}})["asha"]
    {'eta': 3, 'n_trials': 50}
    >>> shared_block({"eta": 4})["pbt"]
    {}
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"shared must be a mapping of setting -> value (or family -> mapping), got {raw!r}")
    allowed = (
        f"settings {', '.join(SETTINGS)} or a family block ({', '.join(FAMILIES)}); max_iter and budget are the matrix's own keys"
    )
    unknown = [k for k in raw if k not in SETTINGS and k not in FAMILIES]
    if unknown:
        raise ConfigError(
            f"shared: unknown key {unknown[0]!r}{did_you_mean(unknown[0], [*SETTINGS, *FAMILIES])}; allowed: {allowed}"
        )
    out = {}
    for family, names in FAMILIES.items():
        own = raw.get(family) or {}
        if not isinstance(own, Mapping):
            raise ConfigError(f"shared.{family} must be a mapping of {family}'s settings ({', '.join(names)}), got {own!r}")
        bad = [k for k in own if k not in names]
        if bad:
            raise ConfigError(
                f"shared.{family}: {bad[0]!r}{did_you_mean(bad[0], names)} is not a setting of {family}; its settings: {', '.join(names)}"
            )
        out[family] = {**{k: raw[k] for k in names if k in raw}, **own}
    return out


def plugin(kind: str, entry: Mapping[str, Any]) -> type:
    try:
        return registry.load(kind, str(entry["name"]))
    except registry.RegistryError as exc:
        raise ConfigError(str(exc)) from None


def differs_of(entry: Mapping[str, Any], cls: type, where: str) -> dict[str, str]:
    """An entry's ``differs``: each of its family's settings it names, with a non-empty reason."""
    raw = entry.get(ENTRY_KEY) or {}
    names = FAMILIES.get(cls.algorithm, ())
    if not isinstance(raw, Mapping) or any(k not in names or not isinstance(v, str) or not v.strip() for k, v in raw.items()):
        allowed = ", ".join(names) or f"none ({entry['name']} is in no algorithm family)"
        bad = [k for k in raw if k not in names] if isinstance(raw, Mapping) else []
        hint = did_you_mean(bad[0], names) if bad else ""
        raise ConfigError(
            f"{where}.{ENTRY_KEY} must map settings of its family ({allowed}) to the reason they differ, got {raw!r}{hint}"
        )
    return dict(raw)


def hand_out(entry: Mapping[str, Any], kind: str, block: Mapping[str, Mapping[str, Any]], where: str) -> dict[str, Any]:
    """``entry`` with its family's shared values under its own keys; one it sets to another value
    itself, or cannot take, is refused unless its ``differs`` names it."""
    cls = plugin(kind, entry)
    why = differs_of(entry, cls, where)
    out = dict(entry)
    for name, value in block.get(cls.algorithm, {}).items():
        if name in why:
            continue
        if name in cls.fixed and cls.fixed[name] != value:
            raise ConfigError(
                f"{where} ({cls.algorithm}) always runs {name}={cls.fixed[name]!r} and cannot take shared {name}={value!r}; "
                f"say why it differs under {ENTRY_KEY}: {{{name}: <reason>}}, or change shared"
            )
        key = cls.shared.get(name)
        if key is None:
            continue
        if key in out and out[key] != value:
            raise ConfigError(
                f"{where} sets {key}={out[key]!r}, but shared gives {cls.algorithm} {name}={value!r}; drop it from the "
                f"entry, or say why it differs under {ENTRY_KEY}: {{{name}: <reason>}}"
            )
        out[key] = value
    return out


def settings_of(entry: Mapping[str, Any], kind: str, label: str, max_iter: int, total_steps: int | None) -> Contender:
    """A contender's family and effective shared settings: its config with the plugin's defaults filled in."""
    cls = plugin(kind, entry)
    config = {p.name: p.default for p in registry.params(kind, cls).values()}
    config.update({k: v for k, v in entry.items() if k not in ("name", "label", ENTRY_KEY)})
    values = cls.effective_settings(config, max_iter, total_steps) if cls.algorithm else {}
    received = {
        **{name: cls.received.get(name, key) for name, key in cls.shared.items()},
        **{name: "fixed" for name in cls.fixed},
    }
    return Contender(label, kind, cls.algorithm, values, received, dict(entry.get(ENTRY_KEY) or {}), str(entry["name"]))


def unfair_pairs(contenders: Sequence[Contender]) -> list[tuple[Contender, Contender, str]]:
    """Every pair of one family that differs in a setting neither explains, with that setting.

    >>> a = Contender("pbt", "scheduler", "pbt", {"perturbation_interval": 9})
    >>> b = Contender("ray-tune-pbt", "peer", "pbt", {"perturbation_interval": 3})
    >>> [(x.label, y.label, k) for x, y, k in unfair_pairs([a, b])]
    [('pbt', 'ray-tune-pbt', 'perturbation_interval')]
    >>> unfair_pairs([a, Contender("ray-tune-pbt", "peer", "pbt", {"perturbation_interval": 3}, differs={"perturbation_interval": "Tune's default"})])
    []
    """
    out = []
    for i, a in enumerate(contenders):
        for b in contenders[i + 1 :]:
            if not a.algorithm or a.algorithm != b.algorithm:
                continue
            for name in FAMILIES[a.algorithm]:
                if (
                    name in a.settings
                    and name in b.settings
                    and a.settings[name] != b.settings[name]
                    and name not in {**a.differs, **b.differs}
                ):
                    out.append((a, b, name))
    return out


def check_fair(contenders: Sequence[Contender]) -> None:
    """Refuse the matrix at its first unexplained difference, naming both contenders and the setting."""
    for a, b, name in unfair_pairs(contenders):
        raise ConfigError(
            f"{a.label} and {b.label} both run {a.algorithm} but differ in {name}: {a.settings[name]!r} against {b.settings[name]!r}; "
            f"set it once under shared (shared: {{{a.algorithm}: {{{name}: ...}}}}), or say why under one entry's "
            f"{ENTRY_KEY}: {{{name}: <reason>}}"
        )
