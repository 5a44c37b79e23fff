"""`python -m synthscale`: the same command line as the `synthscale` script."""

import sys

from synthscale.cli import main

sys.exit(main())
