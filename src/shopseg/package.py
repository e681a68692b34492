"""The Python half of the dbt package: the library must be the one the package ships with."""

from __future__ import annotations

import logging

import shopseg


def check_package_version(dbt_package_version: str | None) -> None:
    """Raise a one-line error when the dbt package's version is not the library's.

    Parameters
    ----------
    dbt_package_version : str or None
        The version of the shopseg dbt package (var `shopseg_package_version`, read by the
        Python models from their config).

    Raises
    ------
    RuntimeError
        The versions differ: the message names both and the pip command that fixes it.
    """
    wanted = str(dbt_package_version or "").strip()
    if wanted == shopseg.__version__:
        return
    raise RuntimeError(
        f"shopseg: the shopseg dbt package is version {wanted or '(unknown)'} but the installed "
        f"Python library shopseg is {shopseg.__version__}: install the library the package "
        "ships with, `pip install <folder of the shopseg package>` (after `dbt deps`: "
        "pip install dbt_packages/shopseg)"
    )


class _DbtLogHandler(logging.Handler):
    """Hands the library's log records to dbt's event log, as a macro's `log()` does."""

    def emit(self, record: logging.LogRecord) -> None:
        from dbt.events.types import JinjaLogDebug, JinjaLogInfo
        from dbt_common.events.base_types import EventLevel
        from dbt_common.events.contextvars import get_node_info
        from dbt_common.events.functions import fire_event

        try:
            msg = self.format(record)
            if record.levelno < logging.INFO:
                fire_event(JinjaLogDebug(msg=msg, node_info=get_node_info()))
            else:
                level = EventLevel.WARN if record.levelno >= logging.WARNING else None
                fire_event(JinjaLogInfo(msg=msg, node_info=get_node_info()), level=level)
        except Exception:  # a log line never fails a model
            self.handleError(record)


def log_to_dbt() -> None:
    """Show the library's progress lines (logger `shopseg`, info and up) in dbt's log.

    A dbt Python model calls this first: without it the k sweep's, the bootstrap's and the
    forest's timings reach no handler, and only warnings are printed, to stderr, outside
    dbt's log file. Outside dbt (no `dbt` to import: a Spark or Databricks worker, the CLI)
    it does nothing. Installing it twice adds no second handler. The records then stop at
    this logger (dbt's log is their home), not at the root logger's handlers too.
    """
    try:
        import dbt.events.types  # noqa: F401
    except ImportError:
        return
    logger = logging.getLogger("shopseg")
    if not any(isinstance(h, _DbtLogHandler) for h in logger.handlers):
        logger.addHandler(_DbtLogHandler())
    # not on to the root logger as well: a library dbt loads configures it (a second copy of
    # each line on stderr, without dbt's timestamp)
    logger.propagate = False
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
