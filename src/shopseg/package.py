"""The Python half of the dbt package: the library must be the one the package ships with."""

from __future__ import annotations

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
