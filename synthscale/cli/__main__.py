"""`python -m synthscale.cli`: the same command line as `python -m synthscale`."""

import sys

from synthscale.cli import main

sys.exit(main())
