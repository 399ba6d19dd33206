"""`python -m pica` is the same as the `pica` console script."""

from pica.cli import main

raise SystemExit(main())
