"""The library's log lines reach dbt's event log from inside a Python model."""

from __future__ import annotations

import logging

import pytest
from dbt_common.events.base_types import EventLevel
from dbt_common.events.functions import get_event_manager

from shopseg.package import _DbtLogHandler, log_to_dbt


@pytest.fixture
def events():
    """dbt events fired while the test runs, as (event name, level, message)."""
    seen: list[tuple[str, str, str]] = []
    manager = get_event_manager()
    callbacks = list(manager.callbacks)
    logger = logging.getLogger("shopseg")
    state = (list(logger.handlers), logger.level, logger.propagate)
    manager.add_callback(lambda e: seen.append((e.info.name, e.info.level, e.info.msg)))
    yield seen
    manager.callbacks[:] = callbacks
    logger.handlers[:], logger.level, logger.propagate = state


def test_progress_lines_become_dbt_info_events(events) -> None:
    logging.getLogger("shopseg.kmeans").info("shopseg: hidden before it is installed")
    assert not [e for e in events if "hidden" in e[2]]  # no handler: the line was lost
    log_to_dbt()
    log_to_dbt()  # a second model's call adds no second handler
    logger = logging.getLogger("shopseg")
    assert sum(isinstance(h, _DbtLogHandler) for h in logger.handlers) == 1
    logging.getLogger("shopseg.kmeans").info("shopseg: k=7 fitted on %d customers", 5128)
    logging.getLogger("shopseg.forest.fit").warning("shopseg: a warning")
    logging.getLogger("shopseg").debug("shopseg: a detail")
    ours = [e for e in events if e[2].startswith("shopseg: ")]
    assert ours == [
        ("JinjaLogInfo", EventLevel.INFO.value, "shopseg: k=7 fitted on 5128 customers"),
        ("JinjaLogInfo", EventLevel.WARN.value, "shopseg: a warning"),
    ]  # the debug line: the logger is at info, like dbt's console
    assert not logger.propagate  # not printed a second time by a root handler


def test_other_loggers_are_left_alone(events) -> None:
    log_to_dbt()
    logging.getLogger("sklearn").warning("not ours")
    assert not [e for e in events if e[2] == "not ours"]
