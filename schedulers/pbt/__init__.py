"""Population Based Training: the scheduler, its exploit strategies, explore operators, PB2 and lineage.

The core (``tunebench``) never imports this package; it finds :class:`PBT` by the name
``pbt`` in the ``tunebench.schedulers`` entry-point group.
"""

from __future__ import annotations

from schedulers.pbt.scheduler import PBT

__all__ = ["PBT"]
