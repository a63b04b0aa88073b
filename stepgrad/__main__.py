"""Run the stepgrad command line: python -m stepgrad."""

import sys

from .codegen.cli import main

sys.exit(main())
