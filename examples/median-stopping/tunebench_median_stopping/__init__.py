"""A third-party tunebench scheduler: the median stopping rule.

Installed, it registers ``median_stopping`` in the ``tunebench.schedulers`` entry-point group,
so ``scheduler: {name: median_stopping}`` works in any experiment or comparison matrix. It uses
only ``tunebench``'s public API.
"""

from tunebench_median_stopping.rule import running_mean, should_stop
from tunebench_median_stopping.scheduler import MedianStopping

__all__ = ["MedianStopping", "running_mean", "should_stop"]
