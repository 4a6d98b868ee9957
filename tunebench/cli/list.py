"""``tunebench list``: every registered plugin with its keys and defaults."""

from __future__ import annotations

import argparse
from typing import Any

from tunebench import registry

TITLES = (
    ("scheduler", "schedulers"),
    ("searcher", "searchers"),
    ("executor", "executors"),
    ("workload", "workloads"),
    ("peer", "peers"),
)


def register(sub: Any) -> None:
    p = sub.add_parser("list", help="list registered schedulers, executors, workloads and peers")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    for kind, title in TITLES:
        print(f"{title}:")
        for name in registry.names(kind):
            for line in registry.describe(kind, name).splitlines():
                print(f"  {line}")
        print()
    from tunebench.workloads.curves import shipped

    print("recordings (executor.curves of the simulated executor):")
    for name, description in shipped():
        print(f"  {name:<20} {description}")
    return 0
