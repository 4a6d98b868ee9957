"""``tunebench replay DIR [--trial ID] [--executor NAME] [--out FILE]``: retrain one trial of a
run from scratch along its recorded schedule; exit 1 if any step differs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("replay", help="retrain one trial of a run from scratch, following its recorded schedule")
    p.add_argument("run_dir", metavar="DIR", help="a run's output directory")
    p.add_argument("--trial", type=int, help="trial id (default: the run's best trial)")
    p.add_argument("--executor", help="executor name (default: local)")
    p.add_argument("--out", help="write the curve to this file (.csv or .parquet)")
    p.add_argument("--atol", type=float, default=1e-9, help="score difference still counted as a match")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from tunebench.config import ConfigError
    from tunebench.replay import replay

    try:
        curve = replay(args.run_dir, args.trial, args.executor, atol=args.atol)
    except (FileNotFoundError, KeyError) as exc:
        raise ConfigError(str(exc).strip("'\"")) from None
    print(curve.drop(columns=["config"]).to_string(index=False))
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        curve.to_parquet(out, index=False) if out.suffix == ".parquet" else curve.to_csv(out, index=False)
        print(f"curve: {out}")
    n_bad = int((~curve["match"]).sum())
    print(f"{len(curve) - n_bad}/{len(curve)} steps match the recorded scores")
    return 0 if n_bad == 0 else 1
