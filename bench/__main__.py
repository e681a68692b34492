"""``python -m bench``, from the repository root."""

from bench.harness import main

raise SystemExit(main())
