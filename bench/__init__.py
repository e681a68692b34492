"""The shopseg benchmark: developer tooling, run from a checkout, never installed.

``python -m bench`` (``make bench``) times ``dbt build`` and the pandas baseline
(``python -m bench.baseline``) on demo shops of growing size; see ``bench/README.md``.
This folder also holds the results (``results.md``) and, git-ignored, the work files
(``out/``) and downloaded wheels (``cache/``).
"""
