"""``python -m grader``: the `nngrade` program (see `grader.entry`)."""

import sys

from .entry import main

sys.exit(main())
