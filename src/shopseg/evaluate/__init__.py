"""Evaluation of segment quality on data the project did not shape (`shopseg eval`).

It lives in the library, not in a top-level tools/ folder, so that `shopseg eval` works
from an installed wheel as `shopseg bench` does; nothing in dbt or the other modules
imports it.
"""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    """Command line entry point of `shopseg eval` (see shopseg.evaluate.harness)."""
    from shopseg.evaluate.harness import main as run

    return run(argv)
