"""`python -m tests.fuzz [--requests N] [--processes P] [--seed S]`: see `tests.fuzz.run`."""

import sys

from tests.fuzz.run import main

sys.exit(main())
