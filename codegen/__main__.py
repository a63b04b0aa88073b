"""Run the stepgrad command line: python -m codegen."""

import sys

from .cli import main

sys.exit(main())
