"""``python -m shopseg.demo``."""

from shopseg.demo.cli import main

raise SystemExit(main())
