"""Evaluation of segment quality on data the project did not shape (`shopseg eval`).

It lives in the library, not beside the benchmark in the checkout's `bench/` folder, so
that `shopseg eval` works from an installed wheel; nothing in dbt or the other modules
imports it.
"""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    """Command line entry point of `shopseg eval` (see shopseg.evaluate.harness).

    Parameters
    ----------
    argv : list of str, optional
        Arguments after the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        The harness's exit code.
    """
    from shopseg.evaluate.harness import main as run

    return run(argv)
