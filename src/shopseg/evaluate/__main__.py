"""`python -m shopseg.evaluate`: the evaluation harness."""

import sys

from shopseg.evaluate import main

sys.exit(main())
