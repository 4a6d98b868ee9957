"""A PBT explore operator for tunebench: a heavy-tailed step in the parameter's unit space.

No entry point: a PBT config calls the function by import path,
``explore: {alpha: [{call: "tunebench_pbt_explore.cauchy:cauchy"}]}``, so the package only has
to be importable where the run is configured and scheduled (``pip install -e examples/pbt-explore``).
"""

from tunebench_pbt_explore.cauchy import cauchy, value_at

__all__ = ["cauchy", "value_at"]
