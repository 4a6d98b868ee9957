"""Synthetic multi-fidelity workloads: test functions with a known optimum, numpy only, no data.

``mfh3`` and ``mfh6`` (MF-Hartmann as mf-prior-bench defines them), ``counting-ones`` (HPOlib's,
as DEHB's benchmarks run it) and ``mf-branin`` (Dragonfly's). Steps map to the function's
fidelity, the published cost of a fidelity is the time a step takes (virtual seconds on the
simulated executor), and a run reports its regret against the known optimum
(:mod:`tunebench.workloads.synthetic.base`).
"""

from tunebench.workloads.synthetic.base import SyntheticTrainable, SyntheticWorkload, fidelity_at
from tunebench.workloads.synthetic.branin import MFBranin
from tunebench.workloads.synthetic.counting_ones import CountingOnes
from tunebench.workloads.synthetic.hartmann import MFHartmann3, MFHartmann6

__all__ = ["CountingOnes", "MFBranin", "MFHartmann3", "MFHartmann6", "SyntheticTrainable", "SyntheticWorkload", "fidelity_at"]
